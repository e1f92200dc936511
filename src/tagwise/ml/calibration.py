"""Turning raw linear scores into probabilities that mean what they say.

Single-label: a softmax with one fitted inverse temperature (temperature scaling). Multi-label:
one Platt sigmoid per class. Both are fitted on out-of-fold scores, so they learn how confident
the classifier is on documents it has not seen, which is what the caller's confidence threshold
(abstention on out-of-scope text) relies on.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax, softmax


def fit_temperature(scores: np.ndarray, y: np.ndarray) -> float:
    """Inverse temperature ``a`` minimising the log loss of ``softmax(a * scores)``.

    ``y`` holds column indices into ``scores``.
    """
    scores = np.asarray(scores, dtype=float)
    rows = np.arange(len(y))

    def nll(log_a: float) -> float:
        return float(-log_softmax(np.exp(log_a) * scores, axis=1)[rows, y].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.1), np.log(50.0)), method="bounded", options={"xatol": 1e-3})
    return float(np.exp(result.x))


def apply_temperature(scores: np.ndarray, inverse_temperature: float) -> np.ndarray:
    return softmax(inverse_temperature * np.asarray(scores, dtype=float), axis=1)


def fit_platt(scores: np.ndarray, y: np.ndarray, prior: float = 1.0) -> tuple[float, float]:
    """Slope and intercept of ``sigmoid(a * s + b)`` by regularised maximum likelihood.

    Platt's smoothed targets keep the fit finite when the classes separate perfectly.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.0, (8.0 if n_neg == 0 else -8.0)
    t = np.where(y, (n_pos + prior) / (n_pos + 2 * prior), prior / (n_neg + 2 * prior))

    def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
        z = ab[0] * s + ab[1]
        p = expit(z)
        value = np.sum(np.logaddexp(0, z) - t * z)
        g = p - t
        return float(value), np.array([np.dot(g, s), g.sum()])

    result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
    return float(result.x[0]), float(result.x[1])


def apply_platt(scores: np.ndarray, slopes: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    return expit(np.asarray(scores, dtype=float) * slopes + intercepts)
