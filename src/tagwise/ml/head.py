"""A calibrated linear classifier head over any feature matrix (sparse TF-IDF or dense embeddings).

Training (``fit``): out-of-fold decision scores from a few folds -> calibration fitted on them
(temperature for single-label, Platt per class for multi-label) -> multi-label thresholds tuned
on the calibrated out-of-fold probabilities -> a final fit on all the data. Prediction is pure
numpy: ``scores = X @ coef_.T + intercept_`` then the calibration.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable

import numpy as np
from joblib import Parallel, delayed
from joblib._parallel_backends import LokyBackend
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from .calibration import apply_platt, apply_top_label, fit_platt, fit_temperature, fit_top_label
from .progress import Progress, report
from .thresholds import tune_thresholds

# score given to a class that a cross-validation fold never saw: clearly below a real score
ABSENT_SCORE = -2.0
# below this many documents, out-of-fold calibration is noise: keep the defaults below
MIN_DOCS_FOR_CV = 20
# typical fitted values on intent data (LinearSVC margins are about +-1)
DEFAULT_INVERSE_TEMPERATURE = 5.0
DEFAULT_PLATT = (2.0, 0.0)
# below this many documents a fit takes well under a second: starting worker processes costs more
PARALLEL_MIN_DOCS = 3_000
# a one-vs-rest fit bigger than this (stored feature values x classes) is split into groups of
# classes of about GROUP_WORK each (~15-30 s of a core); banking77's ensemble head is 4.9e8, the
# scale probe's 80,000 tickets 6e9
SPLIT_WORK = 3_000_000_000
GROUP_WORK = 500_000_000


def _exit_with_parent(parent: int) -> None:
    """Runs in each worker process as it starts: it exits once ``parent``, the process that started
    it, is gone (perhaps already, while it was starting). A training process killed with its runner
    (the kernel's parent-death signal) cannot stop its workers itself; left alone they would hold
    their memory for good."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class LinearHead(BaseEstimator):
    """Linear scores + calibration; ``y`` is class indices (single) or a bool matrix (multi).

    ``kind``: ``"svm"`` (LinearSVC: fastest on sparse TF-IDF) or ``"logreg"`` (LogisticRegression:
    better on dense sentence embeddings). After ``fit``, ``oof_proba_`` holds the calibrated
    out-of-fold probabilities (kept in memory only: ensembles and ``auto`` choose with them).
    """

    def __init__(self, multi_label: bool = False, kind: str = "svm", C: float = 0.5, cv_folds: int = 3,
                 seed: int = 0, max_iter: int = 2000, class_weight: str | None = None, n_jobs: int | None = None) -> None:
        self.multi_label = multi_label
        self.kind = kind
        self.C = C
        self.cv_folds = cv_folds
        self.seed = seed
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs

    # --- training ----------------------------------------------------------------------------
    def fit(self, X, y: np.ndarray, n_classes: int, progress: Progress | None = None) -> LinearHead:
        y = np.asarray(y)
        folds = self._folds(y)
        oof = np.zeros((X.shape[0], n_classes), dtype=float)
        subsets = [train for train, _ in folds] + [None]
        # The fold fits and the final fit are independent: on enough data, run them side by side
        # in worker processes (banking77 ensemble head: ~40 s -> ~25 s on 2 cores). Processes, not
        # threads: liblinear draws from one global random generator, so threaded fits are not
        # reproducible. One BLAS thread each: more oversubscribe small machines (measured 5x slower).
        # A big fit is split by classes too, so that percentComplete moves as the work is done
        # rather than only as each of the four fits ends (240,000 tickets: 20 minutes unmoved).
        groups = self._class_groups(X, y, n_classes)
        units = [(rows, classes) for rows in subsets for classes in groups]
        workers = 1 if X.shape[0] < PARALLEL_MIN_DOCS else min(len(units), self.n_jobs or os.cpu_count() or 1)
        if workers <= 1:
            steps = sum(len(classes) if self.multi_label else 1 for _, classes in units)
            ticks = iter(range(1, steps + 1))
            parts = [_fit_subset(self, X, y, rows, n_classes, classes, lambda: report(progress, next(ticks) / steps))
                     for rows, classes in units]
        else:
            jobs = (delayed(_fit_subset)(self, X, y, rows, n_classes, classes) for rows, classes in units)
            parts = []
            backend = LokyBackend(initializer=_exit_with_parent, initargs=(os.getpid(),))
            results = Parallel(n_jobs=workers, backend=backend, return_as="generator")(jobs)
            with warnings.catch_warnings():
                # a cancel or a timeout (raised by progress) stops the fits in flight on purpose: no warning about it
                warnings.filterwarnings("ignore", message=".*tasks which were still being processed", category=UserWarning)
                try:
                    for result in results:
                        parts.append(result)
                        report(progress, len(parts) / len(units))
                finally:
                    results.close()
        fitted = [_join(parts[i:i + len(groups)]) for i in range(0, len(parts), len(groups))]
        for (_, test), (coef, intercept) in zip(folds, fitted):
            oof[test] = _scores(X[test], coef.T, intercept)
        self.coef_, self.intercept_ = _column_major(fitted[-1][0]), fitted[-1][1]
        self.cv_folds_used_ = len(folds)
        if self.multi_label:
            if folds:
                params = [fit_platt(oof[:, j], y[:, j]) for j in range(n_classes)]
                self.platt_ = np.array(params, dtype=float).reshape(n_classes, 2)
                self.oof_proba_ = apply_platt(oof, self.platt_[:, 0], self.platt_[:, 1])
                self.thresholds_ = tune_thresholds(y, self.oof_proba_)
            else:  # too little data to hold any out: plain sigmoid, default thresholds
                self.oof_proba_ = None
                self.platt_ = np.tile(DEFAULT_PLATT, (n_classes, 1))
                self.thresholds_ = np.full(n_classes, 0.5)
            self.inverse_temperature_ = self.top_label_ = None
        else:
            self.inverse_temperature_ = fit_temperature(oof, y) if folds else DEFAULT_INVERSE_TEMPERATURE
            # the SVM's margins only (linear, ensemble): a logistic regression fits its log loss already, and the top-label
            # step made the embedding recipe's calibration error worse on the Jira tickets (5.0% -> 8.5%) and banking77
            self.top_label_ = fit_top_label(oof, y, self.inverse_temperature_) if folds and self.kind == "svm" else None
            self.oof_proba_ = apply_top_label(oof, self.inverse_temperature_, self.top_label_) if folds else None
            self.platt_ = None
            self.thresholds_ = None
        report(progress, 1.0)
        return self

    def _folds(self, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        n = y.shape[0]
        k = min(self.cv_folds, n // 2)
        if k < 2 or n < MIN_DOCS_FOR_CV:
            return []
        if not self.multi_label:
            counts = np.bincount(y)
            if counts[counts > 0].min() >= k:
                return list(StratifiedKFold(k, shuffle=True, random_state=self.seed).split(np.zeros(n), y))
        return list(KFold(k, shuffle=True, random_state=self.seed).split(np.zeros(n)))

    def _class_groups(self, X, y: np.ndarray, n_classes: int) -> list[np.ndarray]:
        """The classes each unit of work fits: all of them at once, or, for a big one-vs-rest SVM
        fit, consecutive groups of about ``GROUP_WORK`` (stored values x classes) each.

        A group's classes are fitted against all the others relabelled as one "rest" class: each
        class's problem is the same (class against the rest, same C), one more problem per group.
        Only liblinear's random draws differ from the fit of all classes at once, so a fit under
        ``SPLIT_WORK`` (every benchmark dataset) is never split and keeps its bits."""
        everything = [np.arange(n_classes)]
        if self.kind != "svm" or self.class_weight is not None:  # multinomial, or weights by class counts
            return everything
        work = (X.nnz if hasattr(X, "nnz") else X.size) * n_classes
        if work < SPLIT_WORK or n_classes < 8 or (not self.multi_label and len(np.unique(y)) <= 2):
            return everything
        return np.array_split(np.arange(n_classes), min(n_classes // 2, -(-work // GROUP_WORK)))

    def _svm(self) -> LinearSVC | LogisticRegression:
        if self.kind == "logreg":
            return LogisticRegression(C=self.C, max_iter=min(self.max_iter, 300), random_state=self.seed,
                                      class_weight=self.class_weight)
        return LinearSVC(C=self.C, random_state=self.seed, max_iter=self.max_iter, class_weight=self.class_weight)

    def _fit_linear(self, X, y: np.ndarray, n_classes: int, classes: np.ndarray, tick: Callable[[], None]):
        """Weights and intercepts of ``classes`` (sorted class indices), fitted on ``X``, ``y``."""
        coef = np.zeros((len(classes), X.shape[1]), dtype=np.float32)
        intercept = np.full(len(classes), ABSENT_SCORE, dtype=np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.multi_label:
                for i, j in enumerate(classes):
                    col = y[:, j].astype(bool)
                    if col.all() or not col.any():
                        intercept[i] = 1.0 if col.all() else -1.0
                    else:
                        svm = self._svm().fit(X, col)
                        coef[i], intercept[i] = svm.coef_[0], svm.intercept_[0]
                    tick()
                return coef, intercept
            present = np.unique(y)
            mine = np.isin(y, classes)
            if len(present) <= 2:
                both, both_intercepts = self._fit_up_to_two(X, y, present, n_classes)
                coef, intercept = both[classes], both_intercepts[classes]
            elif mine.all():
                svm = self._svm().fit(X, y)
                at = np.searchsorted(classes, svm.classes_)
                coef[at], intercept[at] = svm.coef_, svm.intercept_
            elif mine.any():
                rest = n_classes  # every class not in this group: the negatives of each problem
                svm = self._svm().fit(X, np.where(mine, y, rest))
                if len(svm.classes_) == 2:  # one class of the group here: the binary fit scores the rest
                    at = np.searchsorted(classes, svm.classes_[0])
                    coef[at], intercept[at] = -svm.coef_[0], -svm.intercept_[0]
                else:
                    own = svm.classes_ != rest
                    at = np.searchsorted(classes, svm.classes_[own])
                    coef[at], intercept[at] = svm.coef_[own], svm.intercept_[own]
        tick()
        return coef, intercept

    def _fit_up_to_two(self, X, y: np.ndarray, present: np.ndarray, n_classes: int):
        coef = np.zeros((n_classes, X.shape[1]), dtype=np.float32)
        intercept = np.full(n_classes, ABSENT_SCORE, dtype=np.float32)
        if len(present) == 1:
            intercept[present[0]] = 1.0
        else:
            svm = self._svm().fit(X, y)
            # split the binary score symmetrically so softmax(a*s) == sigmoid(a*s_binary)
            coef[present[1]], intercept[present[1]] = svm.coef_[0] / 2, svm.intercept_[0] / 2
            coef[present[0]], intercept[present[0]] = -svm.coef_[0] / 2, -svm.intercept_[0] / 2
        return coef, intercept

    # --- prediction --------------------------------------------------------------------------
    def decision_function(self, X) -> np.ndarray:
        # X @ coef_.T needs coef_.T contiguous, or scipy copies the whole matrix on every call (ms
        # per request at serving time). coef_ is kept column-major, so coef_.T is that already and
        # costs no memory; a coef_ set some other way gets a contiguous copy, rebuilt when replaced.
        cached = getattr(self, "_coef_t", None)
        if cached is None or cached[0] is not self.coef_:
            cached = self._coef_t = (self.coef_, np.ascontiguousarray(self.coef_.T))
        return _scores(X, cached[1], self.intercept_)

    def predict_proba(self, X) -> np.ndarray:
        scores = self.decision_function(X)
        if self.multi_label:
            return apply_platt(scores, self.platt_[:, 0], self.platt_[:, 1])
        return apply_top_label(scores, self.inverse_temperature_, self.top_label_)

    # --- persistence -------------------------------------------------------------------------
    def export_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        config = {"params": self.get_params(), "inverse_temperature": self.inverse_temperature_,
                  "cv_folds_used": self.cv_folds_used_}
        if self.top_label_ is not None:
            config["top_label"] = list(self.top_label_)
        arrays = {"coef": self.coef_, "intercept": self.intercept_}
        if self.multi_label:
            arrays["platt"] = self.platt_
            arrays["thresholds"] = self.thresholds_
        return config, arrays

    @classmethod
    def from_state(cls, config: dict, arrays: dict[str, np.ndarray]) -> LinearHead:
        self = cls(**config["params"])
        self.coef_, self.intercept_ = _column_major(arrays["coef"]), arrays["intercept"]
        self.inverse_temperature_ = config["inverse_temperature"]
        # models trained before top-label calibration have none: their probabilities stay as they were
        self.top_label_ = tuple(config["top_label"]) if config.get("top_label") is not None else None
        self.cv_folds_used_ = config["cv_folds_used"]
        self.platt_ = arrays.get("platt")
        self.thresholds_ = arrays.get("thresholds")
        return self


def _fit_subset(head: LinearHead, X, y: np.ndarray, rows: np.ndarray | None, n_classes: int, classes: np.ndarray,
                tick: Callable[[], None] = lambda: None):
    """One fit of ``classes`` on ``rows`` (None: all), here or in a worker process (module level:
    importable there)."""
    with threadpool_limits(limits=1, user_api="blas"):
        if rows is not None:
            X, y = X[rows], y[rows]
        return head._fit_linear(X, y, n_classes, classes, tick)


def _join(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The weights and intercepts of one fit from its groups of classes, in class order."""
    if len(parts) == 1:
        return parts[0]
    return np.vstack([coef for coef, _ in parts]), np.concatenate([intercept for _, intercept in parts])


def _column_major(coef: np.ndarray) -> np.ndarray:
    """``coef`` in column-major order, so that ``coef.T`` is contiguous (saved that way too: a
    model saved since loads without a copy; an older, row-major one is copied once, here)."""
    return np.asfortranarray(coef)


def _scores(X, coef_t: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    out = X @ coef_t
    return np.asarray(out, dtype=np.float64) + intercept
