"""Does the Tag page's active-learning queue help? A simulated person tags a dataset with its true labels.

The pool is a dataset's training split in a seeded shuffled order (the import order; a real export
is not sorted by class, banking77's file is), its labels hidden until a document is tagged; the
test split scores the models. The person tags one document at a time and retrains every
``--retrain-every`` tags, as on the studio's Train page: the studio's defaults, the recipe given
(``--recipe``, built by ``tagwise.ml.build_model`` with the server's seed) trained on the 80 % part
of the default 80/20 percentage split (``tagwise.core.training.split``), only once
``tagwise.core.training._check_trainable`` lets a training start (10 tagged documents; single-label:
two classes in the training part). Until then every strategy tags in import order. At each
budget the model trained on exactly the documents tagged so far (the same split and recipe) is
scored on the test split.

Strategies (what is tagged next):

- ``queue``: the Tag page (``tagwise.core.review_queue``): import order until a model exists (the studio
  spreads a project's untagged documents by a hash of their id, which a shuffled order already is); then
  a seeded random pool of up to ``QUEUE_POOL`` (1,000) untagged documents is scored once by the
  newest model and offered smallest ``_uncertainty`` first (single-label: the margin between the two
  best class probabilities; multi-label: the distance of the closest class to its threshold), a new
  pool added when fewer than ``QUEUE_REFILL`` scored ones are left untagged.
- ``random``: import order throughout (a random sample, the order being shuffled).
- ``mixed``: every other pick is the queue's next, the others the next in import order.
- ``spread``: the queue's pool, taken round-robin over the classes the model predicts for its
  documents (multi-label: the class closest to its threshold), least sure first within a class
  and within a round, so one batch is not 50 near-copies of one confusion.

Prints, per dataset and metric, a markdown table: rows = budgets, columns = strategies, mean ± sample
standard deviation over the seeds; then each strategy's difference from ``random``, and each
alternative's from ``queue``, paired by seed (mean [min, max] over the seeds). The seed changes the shuffle and the pools; strategies of one seed share both.

    .venv/bin/python -m benchmarks.active_learning --datasets banking77,hadoop_jira_priority
    .venv/bin/python -m benchmarks.active_learning --datasets goemotions --budgets 100,200,400,800
    .venv/bin/python -m benchmarks.active_learning --datasets banking77 --recipe ensemble --seeds 1 --quick

``--quick``: budgets 100, 200, 400, one seed, 1,000 test documents (each unless given): a smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.accuracy import DATASETS, load_split

STRATEGIES = ("queue", "random", "mixed", "spread")
METRICS = {  # dataset -> metrics printed (accuracy: single-label; macro_f1 over all classes of the dataset)
    "banking77": ("accuracy",),
    "clinc150": ("accuracy",),
    "hadoop_jira_priority": ("accuracy", "macro_f1"),
    "goemotions": ("macro_f1", "micro_f1"),
}


def _trainable(project: dict[str, Any], docs: list[dict[str, Any]]) -> tuple[list[dict], list[dict]] | None:
    """The studio's default 80/20 split of the tagged documents, or None while training cannot start."""
    from tagwise.core.training import _check_trainable, split
    from tagwise.errors import InvalidArgument

    train, test = split(docs, project["kind"], {"kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20})
    try:
        _check_trainable(project, train, test)
    except InvalidArgument:
        return None
    return train, test


class Simulation:
    """One (dataset, strategy, seed): a person tagging ``texts`` in the strategy's order."""

    def __init__(self, texts: list[str], labels: list[Any], multi: bool, strategy: str, seed: int, recipe: str,
                 retrain_every: int, cache_dir: Path | None) -> None:
        self.texts, self.labels, self.multi = texts, labels, multi
        self.strategy, self.seed, self.recipe, self.retrain_every = strategy, seed, recipe, retrain_every
        self.cache_dir = cache_dir
        self.project = {"name": "sim", "kind": "multiLabel" if multi else "singleLabel"}
        self.untagged = set(range(len(texts)))  # ids = import positions (the texts come shuffled)
        self.tagged: list[int] = []
        self.next_import = 0                    # lowest untagged id is found from here
        self.model: Any = None
        self.trainings = 0                      # models made for the queue (the pool's seed)
        self.scores: dict[int, float] = {}      # the newest model's uncertainty of its pool
        self.order: list[int] = []              # spread: the pool in round-robin order
        self.order_at = 0
        self.picks_since_model = 0
        self.train_s = 0.0
        self.score_s = 0.0

    # --- what to tag next -------------------------------------------------------------------
    def _first_untagged(self) -> int:
        while self.next_import not in self.untagged:
            self.next_import += 1
        return self.next_import

    def _refill(self) -> None:
        """As ``review_queue._candidates``: a new seeded pool when fewer than QUEUE_REFILL scored are left."""
        from tagwise.core.review_queue import QUEUE_POOL, QUEUE_REFILL, _uncertainty

        ranked = [i for i in self.scores if i in self.untagged]
        if len(ranked) >= min(QUEUE_REFILL, len(self.untagged)):
            return
        missing = sorted(i for i in self.untagged if i not in self.scores)
        if len(missing) > QUEUE_POOL:
            missing = sorted(random.Random(f"{self.seed}:{self.trainings}:{len(self.tagged)}").sample(missing, QUEUE_POOL))
        if not missing:
            return
        t0 = time.perf_counter()
        proba = self.model.predict_proba([self.texts[i] for i in missing])
        uncertainty = _uncertainty(self.model, proba, {})
        self.scores.update(zip(missing, uncertainty.tolist(), strict=True))
        if self.strategy == "spread":
            self._spread(missing, proba, uncertainty)
        self.score_s += time.perf_counter() - t0

    def _spread(self, ids: list[int], proba: np.ndarray, uncertainty: np.ndarray) -> None:
        if self.multi:
            from tagwise.core.predictors import class_bars

            group = np.abs(proba - class_bars(self.model)).argmin(axis=1)
        else:
            group = proba.argmax(axis=1)
        by_class: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for doc_id, g, u in zip(ids, group.tolist(), uncertainty.tolist(), strict=True):
            by_class[g].append((u, doc_id))
        for members in by_class.values():
            members.sort()
        rounds = max(len(m) for m in by_class.values())
        order = []
        for r in range(rounds):
            order += [doc_id for _, doc_id in sorted(m[r] for m in by_class.values() if r < len(m))]
        self.order, self.order_at = order, 0

    def _queue_pick(self) -> int:
        self._refill()
        if self.strategy == "spread":
            while self.order_at < len(self.order) and self.order[self.order_at] not in self.untagged:
                self.order_at += 1
            if self.order_at < len(self.order):
                return self.order[self.order_at]
        ranked = [i for i in self.scores if i in self.untagged]
        return min(ranked, key=lambda i: (self.scores[i], i)) if ranked else self._first_untagged()

    def pick(self) -> int:
        if self.model is None or self.strategy == "random":
            return self._first_untagged()
        if self.strategy == "mixed" and self.picks_since_model % 2 == 1:
            return self._first_untagged()
        return self._queue_pick()

    # --- tagging and training -----------------------------------------------------------------
    def fit(self) -> Any:
        """A model of the tagged documents as the studio trains one (default split), or None if it cannot start."""
        from tagwise.core.training import SEED
        from tagwise.ml import build_model

        docs = [{"location": i, "labels": self.labels[i] if self.multi else [self.labels[i]], "dataset": None}
                for i in self.tagged]
        parts = _trainable(self.project, docs)
        if parts is None:
            return None
        train = parts[0]
        t0 = time.perf_counter()
        model = build_model(self.recipe, multi_label=self.multi, seed=SEED, language="en", cache_dir=self.cache_dir)
        y = [d["labels"] for d in train] if self.multi else [d["labels"][0] for d in train]
        model.fit([self.texts[d["location"]] for d in train], y)
        if self.cache_dir is not None:  # as the server: the cache keeps the texts of the latest training
            from tagwise.ml.embedding_cache import compact

            compact(self.cache_dir, [self.texts[d["location"]] for d in train], used_since=t0 - 1)
        self.train_s += time.perf_counter() - t0
        return model

    def tag(self, doc_id: int) -> None:
        self.untagged.discard(doc_id)
        self.tagged.append(doc_id)
        self.picks_since_model += 1

    def retrain(self) -> None:
        model = self.fit()
        if model is not None:
            self.model, self.scores, self.order, self.order_at = model, {}, [], 0
            self.trainings += 1
            self.picks_since_model = 0


def _scores(model: Any, texts: list[str], truth: list[Any], multi: bool, classes: list[str]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.preprocessing import MultiLabelBinarizer

    from tagwise.core.predictors import decide

    predicted = [p.labels for p in decide(model, model.predict_proba(texts))]
    if multi:
        binarizer = MultiLabelBinarizer(classes=classes)
        y_true, y_pred = binarizer.fit_transform(truth), binarizer.transform([[c for c in p if c in classes] for p in predicted])
        return {"macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
                "micro_f1": f1_score(y_true, y_pred, average="micro", zero_division=0)}
    y_pred = [p[0] for p in predicted]
    return {"accuracy": accuracy_score(truth, y_pred),
            "macro_f1": f1_score(truth, y_pred, labels=classes, average="macro", zero_division=0)}


def run_one(dataset: str, strategy: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    multi = DATASETS[dataset][0]
    folder = args.data_dir / dataset
    texts, labels = load_split(folder, "train", multi)
    test_texts, test_labels = load_split(folder, "test", multi)
    if args.test_limit and len(test_texts) > args.test_limit:  # the same subset for every strategy and seed
        keep = sorted(random.Random(0).sample(range(len(test_texts)), args.test_limit))
        test_texts, test_labels = [test_texts[i] for i in keep], [test_labels[i] for i in keep]
    classes = sorted({c for ls in labels + test_labels for c in (ls if multi else [ls])})
    order = list(range(len(texts)))
    random.Random(seed).shuffle(order)
    texts, labels = [texts[i] for i in order], [labels[i] for i in order]
    budgets = sorted(b for b in args.budgets if b <= len(texts))
    with tempfile.TemporaryDirectory(prefix="tagwise-al-") as tmp:
        cache = Path(tmp) if args.recipe in ("ensemble", "embedding", "auto") else None
        sim = Simulation(texts, labels, multi, strategy, seed, args.recipe, args.retrain_every, cache)
        t0 = time.perf_counter()
        out: dict[str, Any] = {"dataset": dataset, "strategy": strategy, "seed": seed, "recipe": args.recipe,
                               "retrain_every": args.retrain_every, "scores": {}}
        eval_s = 0.0
        while len(sim.tagged) < budgets[-1]:
            sim.tag(sim.pick())
            n = len(sim.tagged)
            retrain = n % args.retrain_every == 0 and strategy != "random"  # random needs models only to be scored
            if retrain:
                sim.retrain()
            if n in budgets:
                model = sim.model if retrain else sim.fit()
                t1 = time.perf_counter()
                out["scores"][n] = None if model is None else _scores(model, test_texts, test_labels, multi, classes)
                # what was tagged: documents per class (how a strategy spreads its tags over rare classes)
                out.setdefault("tagged_per_class", {})[n] = dict(sorted(Counter(
                    c for i in sim.tagged for c in (labels[i] if multi else [labels[i]])).items()))
                eval_s += time.perf_counter() - t1
        out.update(seconds=round(time.perf_counter() - t0, 1), train_s=round(sim.train_s, 1),
                   score_pool_s=round(sim.score_s, 1), eval_s=round(eval_s, 1), trainings=sim.trainings)
    return out


def _fmt(values: list[float]) -> str:
    if not values:
        return "–"
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {sd:.3f}"


def _value(row: dict[str, Any] | None, budget: int, metric: str) -> float | None:
    """A run's score at a budget (JSON keeps the budgets as strings), or None."""
    got = row and (row["scores"].get(budget) or row["scores"].get(str(budget)))
    return got[metric] if got else None


def markdown(rows: list[dict[str, Any]], strategies: list[str]) -> str:
    lines: list[str] = []
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_dataset[row["dataset"]].append(row)
    for dataset, drows in by_dataset.items():
        seeds = sorted({r["seed"] for r in drows})
        budgets = sorted({int(b) for r in drows for b in r["scores"]})
        cell = {(r["strategy"], r["seed"]): r for r in drows}
        total = sum(r["seconds"] for r in drows)
        recipe = drows[0]["recipe"]
        # paired by seed: each strategy against random, and the alternatives against the queue
        pairs = [(a, "random") for a in strategies if a != "random" and "random" in strategies]
        pairs += [(a, "queue") for a in strategies if a not in ("random", "queue") and "queue" in strategies]
        for metric in METRICS.get(dataset, ("accuracy",)):
            lines += ["", (f"**{dataset}**, {metric}, recipe {recipe}, retrain every {drows[0]['retrain_every']} tags, "
                           f"seeds {','.join(map(str, seeds))} (mean ± sd over seeds):"), "",
                      "| budget | " + " | ".join(strategies) + " | " + " | ".join(f"{a} − {base}" for a, base in pairs) + " |",
                      "|---:|" + "---|" * (len(strategies) + len(pairs))]
            for b in budgets:
                got = {(s, seed): _value(cell.get((s, seed)), b, metric) for s in strategies for seed in seeds}
                cells = [_fmt([v for seed in seeds if (v := got[s, seed]) is not None]) for s in strategies]
                diffs = []
                for a, base in pairs:
                    d = [got[a, seed] - got[base, seed] for seed in seeds
                         if got[a, seed] is not None and got[base, seed] is not None]
                    diffs.append(f"{np.mean(d):+.3f} [{min(d):+.3f}, {max(d):+.3f}]" if d else "–")
                lines.append(f"| {b} | " + " | ".join(cells) + " | " + " | ".join(diffs) + " |")
        per_strategy = {s: round(sum(r["seconds"] for r in drows if r["strategy"] == s), 1) for s in strategies}
        lines += ["", f"{dataset}: {total:.0f} s in all; per strategy (all seeds): "
                  + ", ".join(f"{s} {v:.0f} s" for s, v in per_strategy.items())
                  + f"; train {sum(r['train_s'] for r in drows):.0f} s, pool scoring {sum(r['score_pool_s'] for r in drows):.0f} s, "
                  f"test scoring {sum(r['eval_s'] for r in drows):.0f} s."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="banking77,hadoop_jira_priority,goemotions")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--recipe", default="linear", help="linear (default, fast), embedding, ensemble or auto")
    parser.add_argument("--budgets", default=None, help="tag counts at which the model is scored (default 100,200,400,800,1600)")
    parser.add_argument("--retrain-every", type=int, default=50, help="the person trains a model every this many tags")
    parser.add_argument("--seeds", type=int, default=None, help="how many seeds (each: another import order and pools; default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="the seeds are first-seed .. first-seed + seeds - 1")
    parser.add_argument("--test-limit", type=int, default=None, help="score on this many test documents (a seeded subset)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    parser.add_argument("--json-out", type=Path, default=None, help="append each run as a JSON line; runs already there are reused")
    parser.add_argument("--quick", action="store_true", help="budgets 100,200,400; one seed; 1,000 test documents (unless given)")
    args = parser.parse_args(argv)
    # a first model of 50 documents over 77 classes: scikit-learn's "more classes than half the samples" on every fit
    warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
    if args.quick:  # what is given explicitly stays: --quick --budgets 100,200 ran 100, 200 and 400
        args.budgets, args.seeds, args.test_limit = args.budgets or "100,200,400", args.seeds or 1, args.test_limit or 1000
    args.budgets, args.seeds = args.budgets or "100,200,400,800,1600", args.seeds or 3
    args.budgets = [int(b) for b in args.budgets.split(",")]
    strategies = args.strategies.split(",")
    unknown = set(strategies) - set(STRATEGIES)
    if unknown:
        parser.error(f"unknown strategies {sorted(unknown)}; use {', '.join(STRATEGIES)}")
    done: dict[tuple, dict] = {}
    if args.json_out and args.json_out.exists():
        for line in args.json_out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done[(row["dataset"], row["strategy"], row["seed"], row["recipe"], row["retrain_every"],
                  tuple(sorted(int(b) for b in row["scores"])), row.get("test_limit"))] = row
    rows = []
    for dataset in args.datasets.split(","):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for strategy in strategies:
                key = (dataset, strategy, seed, args.recipe, args.retrain_every, tuple(sorted(args.budgets)), args.test_limit)
                if key in done:
                    rows.append(done[key])
                    continue
                row = run_one(dataset, strategy, seed, args)
                row["test_limit"] = args.test_limit
                rows.append(row)
                brief = {b: {k: round(v, 4) for k, v in s.items()} if s else None for b, s in row["scores"].items()}
                print(f"{dataset} {strategy} seed {seed}: {row['seconds']} s {json.dumps(brief)}", file=sys.stderr, flush=True)
                if args.json_out:
                    with open(args.json_out, "a", encoding="utf-8") as fh:
                        fh.write(json.dumps(row) + "\n")
    print(markdown(rows, strategies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
