"""Accuracy benchmark: tagwise recipes vs fastText and TF-IDF + LinearSVC on the shared datasets.

Each (dataset, system) pair runs in its own child process so training time, prediction speed
and peak memory (max RSS of that process) belong to that pair alone. Prediction speed: the whole
test set in one call, three times; the best rate is printed (the first is in the JSON).
Prints a markdown table.

    python -m benchmarks.accuracy --datasets banking77,clinc150 --systems linear,auto,fasttext,tfidf-svc
    python -m benchmarks.accuracy --quick          # small subsets of every dataset and system: a smoke test of several minutes

CLINC150: trained on the in-scope training set only; the caller-side confidence threshold
(abstain when the top probability is below it) is tuned on dev + oos_dev: the highest threshold
that costs at most 2 points of in-scope accuracy there (also: at most 1 point, and the highest
that keeps OOS_FLOOR in-scope accuracy there); then applied to test + oos_test.
``clinc150_none`` is the same data with the 100 labelled out-of-scope training queries added as
the class ``None`` (the paper's "oos-train" setting; how a tagwise user teaches a model what is
out of scope): a query is caught when the model predicts ``None`` or is below the threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = {  # name -> (multi_label, language)
    "banking77": (False, "en"),
    "clinc150": (False, "en"),
    "clinc150_none": (False, "en"),  # clinc150 + oos_train as the class "None"
    "goemotions": (True, "en"),
    "hadoop_jira_priority": (False, "en"),
    "sib200_de_es_fr": (False, "mul"),
}
RECIPE_SYSTEMS = ("linear", "embedding", "ensemble", "auto")
REFERENCE_SYSTEMS = ("fasttext", "tfidf-svc")
QUICK_TRAIN, QUICK_TEST = 2000, 500
PRED_REPEATS = 3
FOLDERS = {"clinc150_none": "clinc150"}
# clinc150: the in-scope accuracy a caller needs while catching out-of-scope queries (issue 3's target)
OOS_FLOOR = 0.94


def load_split(folder: Path, split: str, multi_label: bool) -> tuple[list[str], list[Any]]:
    texts, labels = [], []
    with open(folder / f"{split}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(row["labels"] if multi_label else row["labels"][0])
    return texts, labels


def _subsample(texts: list[str], labels: list[Any], n: int | None, seed: int = 0) -> tuple[list[str], list[Any]]:
    if n is None or len(texts) <= n:
        return texts, labels
    idx = sorted(random.Random(seed).sample(range(len(texts)), n))
    return [texts[i] for i in idx], [labels[i] for i in idx]


# --- reference systems ------------------------------------------------------------------------
class FastTextModel:
    """fastText supervised: word bigrams + char 2-5-grams (PITFALLS: predict through ``model.f``)."""

    def __init__(self, multi_label: bool, seed: int) -> None:
        self.multi_label, self.seed = multi_label, seed

    def fit(self, texts: list[str], y: list[Any]) -> FastTextModel:
        import fasttext

        label_sets = [y_i if self.multi_label else [y_i] for y_i in y]
        self.classes_ = sorted({label for labels in label_sets for label in labels})
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
            for text, labels in zip(texts, label_sets):
                tags = " ".join(f"__label__{label}" for label in labels) or "__label____none__"
                fh.write(f"{tags} {_ft_clean(text)}\n")
        try:
            self.model = fasttext.train_supervised(
                input=fh.name, epoch=25, lr=0.5 if not self.multi_label else 0.2, wordNgrams=2, minn=2, maxn=5,
                dim=100, loss="ova" if self.multi_label else "softmax", thread=1, seed=self.seed, verbose=0)
        finally:
            os.unlink(fh.name)
        self.index = {f"__label__{c}": j for j, c in enumerate(self.classes_)}
        self.thresholds_ = np.full(len(self.classes_), 0.5) if self.multi_label else None
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.classes_)))
        for i, text in enumerate(texts):
            for prob, label in self.model.f.predict(_ft_clean(text) + "\n", -1, 0.0, "strict"):
                if label in self.index:
                    out[i, self.index[label]] = prob
        return out


def _ft_clean(text: str) -> str:
    return " ".join(text.split())


class TfidfSvcModel:
    """Plain TF-IDF word (1-2)-grams + LinearSVC: no calibration, so no probabilities."""

    def __init__(self, multi_label: bool, seed: int) -> None:
        self.multi_label, self.seed = multi_label, seed

    def fit(self, texts: list[str], y: list[Any]) -> TfidfSvcModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.preprocessing import MultiLabelBinarizer
        from sklearn.svm import LinearSVC

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        X = self.vectorizer.fit_transform(texts)
        if self.multi_label:
            self.binarizer = MultiLabelBinarizer().fit(y)
            self.classes_ = list(self.binarizer.classes_)
            self.clf = OneVsRestClassifier(LinearSVC(random_state=self.seed)).fit(X, self.binarizer.transform(y))
        else:
            self.clf = LinearSVC(random_state=self.seed).fit(X, y)
            self.classes_ = list(self.clf.classes_)
        self.thresholds_ = None
        return self

    def predict(self, texts: list[str]) -> list[Any]:
        X = self.vectorizer.transform(texts)
        if self.multi_label:
            return [list(row) for row in self.binarizer.inverse_transform(self.clf.predict(X))]
        return list(self.clf.predict(X))


# --- one run (in a child process) ---------------------------------------------------------------
def build(system: str, multi_label: bool, language: str, seed: int, cache_dir: Path | None,
          auto_budget_s: float | None = None):
    if system == "fasttext":
        return FastTextModel(multi_label, seed)
    if system == "tfidf-svc":
        return TfidfSvcModel(multi_label, seed)
    from tagwise.ml import build_model

    params = {"time_budget_s": auto_budget_s} if system == "auto" and auto_budget_s is not None else {}
    return build_model(system, multi_label=multi_label, seed=seed, language=language, cache_dir=cache_dir, **params)


def predict_labels(model: Any, proba: np.ndarray | None, texts: list[str], multi_label: bool) -> list[Any]:
    if proba is None:
        return model.predict(texts)
    if multi_label:
        return [[model.classes_[j] for j in np.flatnonzero(row >= model.thresholds_)] for row in proba]
    return [model.classes_[j] for j in proba.argmax(axis=1)]


def tune_oos_threshold(proba: np.ndarray, y: list[str], classes: list[str], oos: np.ndarray,
                       max_drop: float = 0.02, floor: float | None = None) -> float:
    """The highest confidence threshold whose in-scope accuracy on held-out data stays within
    ``max_drop`` of the accuracy without a threshold, or at least ``floor`` when given
    (abstentions on in-scope queries count wrong)."""
    top = proba.max(axis=1)
    correct = np.array([classes[j] == t for j, t in zip(proba.argmax(axis=1), y)])
    floor = correct[~oos].mean() - max_drop if floor is None else floor
    best = 0.0
    for threshold in np.round(np.arange(0.0, 1.0, 0.01), 2):
        if (correct & (top >= threshold))[~oos].mean() >= floor:
            best = float(threshold)
    return best


def run_one(dataset: str, system: str, data_dir: Path, quick: bool, seed: int, cache_dir: Path | None,
            auto_budget_s: float | None = None) -> dict:
    from tagwise.core.predictors import NONE_CLASS  # out-of-scope examples' class: the same answer as abstaining
    from tagwise.ml import evaluate

    multi_label, language = DATASETS[dataset]
    folder = data_dir / FOLDERS.get(dataset, dataset)
    train = _subsample(*load_split(folder, "train", multi_label), QUICK_TRAIN if quick else None, seed)
    if dataset == "clinc150_none":
        oos_texts, _ = load_split(folder, "oos_train", multi_label)
        train = (train[0] + oos_texts, train[1] + [NONE_CLASS] * len(oos_texts))
    test = _subsample(*load_split(folder, "test", multi_label), QUICK_TEST if quick else None, seed)
    model = build(system, multi_label, language, seed, cache_dir, auto_budget_s)
    t0 = time.perf_counter()
    model.fit(*train)
    train_s = time.perf_counter() - t0
    has_proba = hasattr(model, "predict_proba")
    # the test set classified PRED_REPEATS times in one call each; pred/s is the best (a served
    # model is warm), the first call's rate is kept in the JSON as pred_per_s_first
    rates = []
    for _ in range(PRED_REPEATS):
        t0 = time.perf_counter()
        proba = model.predict_proba(test[0]) if has_proba else None
        pred = predict_labels(model, proba, test[0], multi_label)
        rates.append(len(test[0]) / (time.perf_counter() - t0))
    per_s = max(rates)
    labels = sorted(set(model.classes_) | ({x for ys in test[1] for x in ys} if multi_label else set(test[1])))
    if proba is not None and labels != list(model.classes_):  # a test label never seen in training
        proba = np.column_stack([proba[:, model.classes_.index(c)] if c in model.classes_ else np.zeros(len(pred))
                                 for c in labels])
    report = evaluate(test[1], pred, labels, multi_label, proba)
    row = {"dataset": dataset, "system": system, "n_train": len(train[0]), "n_test": len(test[0]),
           "accuracy": report.accuracy, "macro_f1": report.macro_f1, "micro_f1": report.micro_f1,
           "ece": report.ece, "train_s": train_s, "pred_per_s": per_s, "pred_per_s_first": rates[0]}
    if hasattr(model, "info_") and "chosen" in model.info_:
        row["chosen"] = model.info_["chosen"]
    if folder.name == "clinc150" and proba is not None:
        row.update(_oos_metrics(model, folder, quick, seed))
    row["peak_mem_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _oos_metrics(model: Any, folder: Path, quick: bool, seed: int) -> dict:
    n = QUICK_TEST if quick else None
    dev, oos_dev = (_subsample(*load_split(folder, s, False), n, seed) for s in ("dev", "oos_dev"))
    test, oos_test = (_subsample(*load_split(folder, s, False), n, seed) for s in ("test", "oos_test"))
    p_dev = model.predict_proba(dev[0] + oos_dev[0])
    oos_mask = np.r_[np.zeros(len(dev[0]), bool), np.ones(len(oos_dev[0]), bool)]
    p = model.predict_proba(test[0] + oos_test[0])
    from tagwise.core.predictors import NONE_CLASS

    best = p.argmax(axis=1)
    correct = np.array([model.classes_[j] == t for j, t in zip(best, test[1] + oos_test[1])])
    top = p.max(axis=1)
    if NONE_CLASS in model.classes_:  # a predicted None is caught at any threshold
        top = np.where(best == list(model.classes_).index(NONE_CLASS), -1.0, top)
    k = len(test[0])
    out: dict[str, float] = {}
    # two caller policies, both tuned on dev only: give up at most 2 points of in-scope accuracy
    # (the main columns), at most 1 point (the "_1pt" keys), or keep at least OOS_FLOOR in-scope
    # accuracy (the "_floor" keys: the caller states the accuracy they need, as the target does)
    for max_drop, floor, suffix in ((0.02, None, ""), (0.01, None, "_1pt"), (0.0, OOS_FLOOR, "_floor")):
        threshold = tune_oos_threshold(p_dev, dev[1] + oos_dev[1], model.classes_, oos_mask, max_drop, floor)
        answered = top >= threshold
        out.update({f"oos_threshold{suffix}": threshold,
                    f"in_scope_acc_at_threshold{suffix}": float((correct & answered)[:k].mean()),
                    f"oos_recall{suffix}": float((~answered)[k:].mean())})
    # the whole trade-off on test, for reading only (never used to pick a threshold)
    out["test_curve"] = [(float(t), round(float((correct & (top >= t))[:k].mean()), 4), round(float((top < t)[k:].mean()), 4))
                         for t in np.round(np.arange(0.30, 0.91, 0.05), 2)]
    return out


# --- driver -------------------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    cols = [("dataset", "dataset"), ("system", "system"), ("accuracy", "accuracy"), ("macro_f1", "macro-F1"),
            ("micro_f1", "micro-F1"), ("oos_recall", "oos recall"), ("in_scope_acc_at_threshold", "in-scope acc @thr"),
            ("ece", "ECE"), ("train_s", "train s"), ("pred_per_s", "pred/s"), ("peak_mem_mb", "peak MB")]
    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['dataset']} | {row['system']} | error: {row['error'][:80]} |")
            continue
        cells = []
        for key, _ in cols:
            value = row.get(key)
            if key == "system" and row.get("chosen"):
                value = f"{value} (→{row['chosen']})"
            if key == "micro_f1" and not DATASETS[row["dataset"]][0]:
                value = None  # single-label micro-F1 == accuracy
            if key == "pred_per_s" and value is not None:
                cells.append(f"{value:,.0f}")
                continue
            cells.append(_fmt(value, 1 if key in ("train_s", "peak_mem_mb") else 4))
        lines.append("| " + " | ".join(cells) + " |")
    oos_rows = [row for row in rows if "oos_threshold" in row]
    if oos_rows:
        title = ("clinc150 out-of-scope, threshold tuned on dev: at most 2 / 1 points of in-scope accuracy given up, "
                 f"or the highest that keeps {OOS_FLOOR} in-scope accuracy on dev (clinc150_none: a predicted None "
                 "is caught too):")
        header = ("| dataset, system | threshold | in-scope acc | oos recall | threshold (1 pt) | in-scope acc (1 pt) | oos recall (1 pt) "
                  f"| threshold (>= {OOS_FLOOR}) | in-scope acc (>= {OOS_FLOOR}) | oos recall (>= {OOS_FLOOR}) |")
        lines += ["", title, "", header, "|---|---|---|---|---|---|---|---|---|---|"]
        for row in oos_rows:
            keys = ("oos_threshold", "in_scope_acc_at_threshold", "oos_recall")
            cells = [_fmt(row.get(key), 2 if key == "oos_threshold" else 4) for key in keys]
            for suffix in ("_1pt", "_floor"):
                cells += [_fmt(row.get(f"{key}{suffix}"), 2 if key == "oos_threshold" else 4) for key in keys]
            lines.append(f"| {row['dataset']} {row['system']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--systems", default=",".join(RECIPE_SYSTEMS + REFERENCE_SYSTEMS))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="embedding cache shared by the runs (default: none, every run embeds cold)")
    parser.add_argument("--quick", action="store_true", help=f"train on {QUICK_TRAIN} and test on {QUICK_TEST} docs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json-out", type=Path, default=None, help="also write the rows as JSON lines here")
    parser.add_argument("--encoder-backend", default="auto",
                        help="MiniLM backend for the recipes: auto (= onnx-int8), onnx-int8, onnx-int8-token, torch-bf16, onnx (fp32), torch")
    parser.add_argument("--auto-budget", type=float, default=None,
                        help="time budget of `auto` in seconds (default: the recipe's, 120; TAGWISE_AUTO_TIME_BUDGET_S on a server)")
    parser.add_argument("--one", nargs=2, metavar=("DATASET", "SYSTEM"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        from tagwise.ml import encoder

        encoder.configure(backend=args.encoder_backend)
        row = run_one(args.one[0], args.one[1], args.data_dir, args.quick, args.seed, args.cache_dir, args.auto_budget)
        row["encoder_backend"] = args.encoder_backend
        if args.auto_budget is not None:
            row["auto_budget_s"] = args.auto_budget
        print("RESULT " + json.dumps(row))
        return 0
    rows = []
    for dataset in args.datasets.split(","):
        for system in args.systems.split(","):
            cmd = [sys.executable, "-m", "benchmarks.accuracy", "--one", dataset, system, "--data-dir",
                   str(args.data_dir), "--seed", str(args.seed), "--encoder-backend", args.encoder_backend]
            cmd += ["--quick"] if args.quick else []
            if args.auto_budget is not None:
                cmd += ["--auto-budget", str(args.auto_budget)]
            if args.cache_dir:
                cmd += ["--cache-dir", str(args.cache_dir)]
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
            found = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            row = json.loads(found[-1][7:]) if found else {
                "dataset": dataset, "system": system, "error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if args.json_out:
                with open(args.json_out, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
