"""Turning raw linear scores into probabilities that mean what they say.

Single-label: a softmax with one fitted inverse temperature (temperature scaling), then the
likeliest class's probability recalibrated by a Platt sigmoid of its log-odds (top-label
calibration: one temperature fits the whole distribution's log loss and left the top answers
over-confident, and the Jira tickets' 90% answers right 82% of the time). Multi-label: one Platt
sigmoid per class. All are fitted on out-of-fold scores, so they learn how confident the
classifier is on documents it has not seen, which is what the caller's confidence threshold
(abstention on out-of-scope text) relies on.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import expit, log_softmax, logsumexp, softmax


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


# fewer right or wrong out-of-fold answers than this say too little of how often the top answer is right
TOP_LABEL_MIN_EACH = 10


def fit_top_label(scores: np.ndarray, y: np.ndarray, inverse_temperature: float) -> tuple[float, float] | None:
    """Slope and intercept of the Platt sigmoid that maps the likeliest class's log-odds (after the
    temperature) to how often it is the right class, fitted on out-of-fold ``scores``; None when the
    folds were right or wrong too seldom to tell, or the fit is not increasing."""
    z = inverse_temperature * np.asarray(scores, dtype=float)
    right = z.argmax(axis=1) == np.asarray(y)
    if min(int(right.sum()), int((~right).sum())) < TOP_LABEL_MIN_EACH:
        return None
    slope, intercept = fit_platt(_top_split(z)[0], right)
    return (slope, intercept) if slope > 0 else None


def apply_top_label(scores: np.ndarray, inverse_temperature: float, top_label: tuple[float, float] | None) -> np.ndarray:
    """:func:`apply_temperature`, with the likeliest class's probability set by ``top_label`` (from
    :func:`fit_top_label`) and the others' scaled to the rest: the same order of classes, every
    row summing to 1. Without ``top_label`` it is :func:`apply_temperature`.

    >>> p = apply_top_label(np.array([[2.0, 1.0, 0.0], [0.0, 0.1, 5.0]]), 1.0, (0.5, 0.0))
    >>> p.argmax(axis=1).tolist(), np.allclose(p.sum(axis=1), 1), bool(p[1, 2] < apply_temperature([[0.0, 0.1, 5.0]], 1.0)[0, 2])
    ([0, 2], True, True)
    """
    if top_label is None:
        return apply_temperature(scores, inverse_temperature)
    z = inverse_temperature * np.asarray(scores, dtype=float)
    log_odds, top, others, others_lse = _top_split(z)
    # the other classes' shares of what the top one leaves, from their scores (no 1 - p underflow)
    rest = np.exp(others - others_lse[:, None])
    top_p = expit(top_label[0] * log_odds + top_label[1])
    second = rest.max(axis=1)
    top_p = np.maximum(top_p, second / (1 + second) + 1e-9)  # never below the next class: the answer stays the answer
    out = (1 - top_p)[:, None] * rest
    out[np.arange(len(z)), top] = top_p
    return out


def _top_split(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(the likeliest class's log-odds under ``softmax(z)``, its column, ``z`` with it at -inf, and
    the log-sum-exp of the other classes' scores)."""
    rows, top = np.arange(len(z)), z.argmax(axis=1)
    others = z.copy()
    others[rows, top] = -np.inf
    others_lse = logsumexp(others, axis=1)
    return z[rows, top] - others_lse, top, others, others_lse
