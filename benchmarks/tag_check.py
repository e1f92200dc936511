"""Does "Find documents whose tag looks wrong" find real mistakes, and does following it help?

Label noise is planted in a dataset's training split: a seeded random fraction ``p`` of the
train tags is flipped to another class chosen uniformly (single-label), and which documents were
flipped is recorded. The noisy split is imported into a real tagwise project (a SQLite store in a
temporary data dir, ``tagging.create_project`` + ``tagging.add_documents`` with the document ids
as locations, no dataset set, as a plain upload) and checked by the studio's own code,
``tagwise.core.label_issues.find_label_issues`` (5 stratified folds of the ``linear`` recipe,
cleanlab), with a ``limit`` above any project size so every flagged document comes back
(the studio lists the surest ``limit`` = 200).

Printed per dataset, as markdown tables (mean ± sample sd over the noise seeds, and the range):

- the check: documents flagged, precision (flipped among flagged), precision among the 200 the
  page lists, recall (flagged among flipped), how often the suggestion is the true class among
  flipped and flagged, how many flagged documents had a right tag (a suggestion would break it),
  the check's own seconds, and its accuracy / macro-F1 / warnings (``unreliable``, ``weak``);
- the "improve" step a person would take: every flagged document retagged with its suggestion
  through ``tagging.set_labels`` (what "Use suggestion" posts, with the location and the tags the
  page showed), then the wrong tags left in the project, and the test-split accuracy (and macro-F1)
  of a model trained on all tagged documents read back from the store: with the clean tags, the
  noisy tags, after following the suggestions, and after untagging the flagged documents instead
  (another thing a person can do); ``--recipes`` picks the recipes (``linear``, ``embedding``);
- ``--alt embedding``: the same folds (``StratifiedKFold``, the server's seed, the rows the check
  reads) with out-of-fold probabilities of the ``embedding`` recipe instead of ``linear``, passed
  to the check's own cleanlab call (``label_issues._cleanlab_issues``) and suggestion
  (``label_issues.suggest``) (over 10,000 tagged documents the same seeded sample as the check;
  ``--alt-all``: every tagged document), keeping as the check does only the flags whose suggestion differs
  from the tag; the same numbers side by side with the linear check, and the accuracy after
  following its suggestions (computed in memory, not through the store). Its seconds include
  embedding the texts: a cache per dataset, so the first run of a dataset embeds them (cold) and
  the later ones read them (warm); the table says which.

    .venv/bin/python -m benchmarks.tag_check --datasets banking77 --rates 0.05,0.1,0.2 --seeds 2
    .venv/bin/python -m benchmarks.tag_check --datasets hadoop_jira_priority --rates 0.1 --seeds 2
    .venv/bin/python -m benchmarks.tag_check --datasets banking77 --rates 0.1 --seeds 2 --recipes linear,embedding --alt embedding
    .venv/bin/python -m benchmarks.tag_check --datasets banking77 --rates 0.1 --seeds 1 --train-limit 2000 --test-limit 500   # smoke test

``benchmarks/tag_check_rounds.py`` replays what a studio user does: "Use suggestion" on the 200
listed, "Check again", for a few rounds.

Single-label datasets only (banking77, clinc150 in-scope, hadoop_jira_priority). Datasets, from
``../shared/datasets`` (``TAGWISE_DATASETS`` names another folder; see each README there): BANKING77 (Casanueva et al. 2020,
PolyAI-LDN/task-specific-datasets, CC BY 4.0); CLINC150 (Larson et al. 2019, clinc/oos-eval,
CC BY 3.0; in-scope train/test only); Hadoop JIRA priority tickets from GitBugs (Patil 2025,
av9ash/gitbugs, CC BY 4.0; its priority tags are already noisy, so "precision" there counts only
the planted flips). clinc150's 15,000 training documents are over the check's 10,000-document
sample (``MAX_CHECKED``): recall there is bounded by the sample, as in the studio.
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

SINGLE = "CustomSingleLabelClassification"
SINGLE_LABEL = ("banking77", "clinc150", "hadoop_jira_priority")
SHOWN = 200  # the studio's list: the surest 200 (find_label_issues' default limit)


def _load(folder: Path, split: str) -> tuple[list[str], list[str], list[str]]:
    ids, texts, labels = [], [], []
    with open(folder / f"{split}.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            ids.append(row["id"])
            texts.append(row["text"])
            labels.append(row["labels"][0])
    return ids, texts, labels


def _subset(n: int, limit: int | None, seed: int = 0) -> list[int]:
    if not limit or n <= limit:
        return list(range(n))
    return sorted(random.Random(seed).sample(range(n), limit))


def flip(labels: list[str], rate: float, seed: int, dataset: str) -> tuple[list[str], set[int]]:
    """``labels`` with a seeded ``rate`` of them moved to another class chosen uniformly; the flipped rows."""
    rng = random.Random(f"{dataset}:{rate}:{seed}")
    classes = sorted(set(labels))
    flipped = set(rng.sample(range(len(labels)), round(rate * len(labels))))
    noisy = list(labels)
    for i in sorted(flipped):
        noisy[i] = rng.choice([c for c in classes if c != labels[i]])
    return noisy, flipped


def score(recipe: str, texts: list[str], labels: list[str], test_texts: list[str], test_labels: list[str],
          cache: Path | None) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    from tagwise.core.training import SEED
    from tagwise.ml import build_model

    t0 = time.perf_counter()
    model = build_model(recipe, multi_label=False, seed=SEED, language="en", cache_dir=cache)
    model.fit(texts, labels)
    proba = model.predict_proba(test_texts)
    predicted = [model.classes_[j] for j in proba.argmax(axis=1)]
    classes = sorted(set(test_labels))
    return {"accuracy": accuracy_score(test_labels, predicted),
            "macro_f1": f1_score(test_labels, predicted, labels=classes, average="macro", zero_division=0),
            "seconds": time.perf_counter() - t0}


def judge(flags: list[tuple[str, str, str]], flipped_locs: set[str], truth: dict[str, str]) -> dict[str, Any]:
    """Numbers of a list of (location, given, suggested), worst first, against the planted flips."""
    hit = [loc in flipped_locs for loc, _, _ in flags]
    caught = [(loc, s) for loc, _, s in flags if loc in flipped_locs]
    shown = hit[:SHOWN]
    return {"flagged": len(flags), "true_flags": sum(hit), "flipped": len(flipped_locs),
            "precision": sum(hit) / len(flags) if flags else float("nan"),
            "precision_shown": sum(shown) / len(shown) if shown else float("nan"),
            "recall": sum(hit) / len(flipped_locs) if flipped_locs else float("nan"),
            "suggestion_right": sum(s == truth[loc] for loc, s in caught) / len(caught) if caught else float("nan"),
            "right_tag_flagged": len(flags) - sum(hit),
            # a flagged right tag whose suggestion is taken becomes wrong
            "broken_by_suggestion": sum(1 for loc, g, s in flags if loc not in flipped_locs and s != truth[loc])}


def alt_check(recipe: str, rows: list[dict[str, Any]], folds: int, cache: Path | None,
              max_checked: int | None) -> tuple[list[tuple[str, str, str]], float, dict]:
    """The check's folds and cleanlab call with ``recipe``'s out-of-fold probabilities (single-label)."""
    from sklearn.model_selection import StratifiedKFold

    from tagwise.core import label_issues
    from tagwise.core.training import SEED
    from tagwise.ml import build_model

    t0 = time.perf_counter()
    if max_checked and len(rows) > max_checked:  # as label_issues._find's first check: its seeded sample (id order)
        rows = [rows[i] for i in sorted(random.Random(SEED).sample(range(len(rows)), max_checked))]
    counts = Counter(r["labels"][0] for r in rows if r["labels"])  # as label_issues._find
    rows = [r for r in rows if r["labels"] and counts[r["labels"][0]] >= 2]
    classes = sorted({label for r in rows for label in r["labels"]})
    index = {c: j for j, c in enumerate(classes)}
    texts = [r["text"] for r in rows]
    y = [r["labels"][0] for r in rows]
    n_splits = max(2, min(folds, min(Counter(y).values())))
    splits = StratifiedKFold(n_splits, shuffle=True, random_state=SEED).split(np.zeros(len(rows)), y)
    proba = np.zeros((len(rows), len(classes)))
    for train_idx, test_idx in splits:
        model = build_model(recipe, multi_label=False, seed=SEED, language="en", cache_dir=cache)
        model.fit([texts[i] for i in train_idx], [y[i] for i in train_idx])
        fold_proba = model.predict_proba([texts[i] for i in test_idx])
        proba[np.ix_(test_idx, [index[c] for c in model.classes_])] = fold_proba
    found = label_issues._cleanlab_issues(False, [[index[c]] for c in y], proba)
    likeliest = label_issues.suggest(proba, np.array([index[c] for c in y]))
    flags = [(rows[i]["location"], y[i], classes[int(likeliest[i])]) for i, _ in found if classes[int(likeliest[i])] != y[i]]
    accuracy = float(np.mean([classes[j] == t for j, t in zip(proba.argmax(axis=1), y)]))
    return flags, time.perf_counter() - t0, {"raw_cleanlab": len(found), "accuracy": accuracy}


def run_one(dataset: str, rate: float, seed: int, args: argparse.Namespace, clean: dict, caches: dict) -> dict[str, Any]:
    from tagwise.core import label_issues, tagging
    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage import document_records as docs_db

    folder = args.data_dir / dataset
    ids, texts, truth = _load(folder, "train")
    keep = _subset(len(ids), args.train_limit)
    ids, texts, truth = [ids[i] for i in keep], [texts[i] for i in keep], [truth[i] for i in keep]
    _, test_texts, test_labels = _load(folder, "test")
    keep = _subset(len(test_texts), args.test_limit)
    test_texts, test_labels = [test_texts[i] for i in keep], [test_labels[i] for i in keep]
    noisy, flipped = flip(truth, rate, seed, dataset)
    truth_of = dict(zip(ids, truth, strict=True))
    flipped_locs = {ids[i] for i in flipped}
    out: dict[str, Any] = {"dataset": dataset, "rate": rate, "seed": seed, "n_train": len(ids), "n_test": len(test_texts),
                           "train_limit": args.train_limit, "test_limit": args.test_limit, "scores": {}}
    with tempfile.TemporaryDirectory(prefix="tagwise-tagcheck-") as tmp:
        ctx = Context.open(Settings(data_dir=Path(tmp) / "data", api_key="k"))
        try:
            tagging.create_project(ctx, "noisy", SINGLE, "en", "planted label noise")
            tagging.add_documents(ctx, "noisy", [{"location": i, "text": t, "labels": [label]}
                                                 for i, t, label in zip(ids, texts, noisy, strict=True)])
            t0 = time.perf_counter()
            result = label_issues.find_label_issues(ctx, "noisy", limit=10**9)
            wall = time.perf_counter() - t0
            flags = [(i.location, i.given[0], i.suggested[0]) for i in result.issues]
            out["check"] = judge(flags, flipped_locs, truth_of) | {
                "seconds": result.seconds, "wall_s": wall, "checked": result.checked, "tagged": result.tagged,
                "found": result.found, "listed_at_200": min(result.found, SHOWN), "folds": result.folds,
                "fold_accuracy": result.accuracy, "fold_macro_f1": result.macro_f1, "baseline": result.baseline,
                "unreliable": result.unreliable, "weak": result.weak,
                "suggested_classes": Counter(s for _, _, s in flags).most_common(3)}
            from tagwise.core.projects import require

            def stored() -> tuple[list[str], list[str], list[dict[str, Any]]]:
                with ctx.db.read() as conn:
                    rows = docs_db.tagged_rows(conn, require(conn, "noisy")["id"], with_text=True)
                return [r["text"] for r in rows], [r["labels"][0] for r in rows], rows

            noisy_texts, noisy_labels, noisy_rows = stored()
            # what "Use suggestion" does for each listed row: set_labels with the location and the tags shown
            listed = None  # the project after "Use suggestion" on the 200 the page lists (a person's first pass)
            for n, issue in enumerate(result.issues):
                if n == SHOWN:
                    listed = stored()
                tagging.set_labels(ctx, "noisy", issue.doc_id, issue.suggested, location=issue.location, seen=issue.given)
            fixed_texts, fixed_labels, fixed_rows = stored()
            listed = listed or (fixed_texts, fixed_labels, fixed_rows)
            out["check"]["wrong_after_listed"] = sum(r["labels"][0] != truth_of[r["location"]] for r in listed[2])
            wrong_before = sum(n != t for n, t in zip(noisy, truth, strict=True))
            wrong_after = sum(r["labels"][0] != truth_of[r["location"]] for r in fixed_rows)
            out["check"].update(wrong_before=wrong_before, wrong_after=wrong_after)
            flagged = {loc for loc, _, _ in flags}
            drop = [(r["text"], r["labels"][0]) for r in noisy_rows if r["location"] not in flagged]
            out["check"]["wrong_after_untag"] = sum(r["labels"][0] != truth_of[r["location"]] for r in noisy_rows
                                                    if r["location"] not in flagged)
        finally:
            ctx.close()
    for recipe in args.recipes:
        cache = caches.get(recipe)
        if (dataset, recipe) not in clean:
            clean[(dataset, recipe)] = score(recipe, texts, truth, test_texts, test_labels, cache)
        got = {"clean": clean[(dataset, recipe)],
               "noisy": score(recipe, noisy_texts, noisy_labels, test_texts, test_labels, cache),
               "followed": score(recipe, fixed_texts, fixed_labels, test_texts, test_labels, cache),
               "followed_listed": score(recipe, listed[0], listed[1], test_texts, test_labels, cache),
               "untagged": score(recipe, [t for t, _ in drop], [label for _, label in drop], test_texts, test_labels, cache)}
        out["scores"][recipe] = got
    if args.alt:
        cold = not caches.get(("alt_warm", dataset))
        alt_flags, alt_s, extra = alt_check(args.alt, noisy_rows, 5, caches.get(args.alt),
                                           None if args.alt_all else label_issues.MAX_CHECKED)
        caches[("alt_warm", dataset)] = True
        out["alt"] = judge(alt_flags, flipped_locs, truth_of) | {"recipe": args.alt, "seconds": alt_s, "cold_cache": cold} | extra
        suggestion = {loc: s for loc, _, s in alt_flags}
        labels = [suggestion.get(r["location"], r["labels"][0]) for r in noisy_rows]
        out["alt"]["wrong_after"] = sum(label != truth_of[r["location"]] for label, r in zip(labels, noisy_rows, strict=True))
        out["alt"]["scores"] = {recipe: score(recipe, noisy_texts, labels, test_texts, test_labels, caches.get(recipe))
                                for recipe in args.recipes}
    return out


# --- tables -----------------------------------------------------------------------------------
def _fmt(values: list[float], digits: int = 3, pct: bool = False) -> str:
    values = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if not values:
        return "–"
    scale = 100 if pct else 1
    mean = float(np.mean(values)) * scale
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    sd = float(np.std(values, ddof=1)) * scale
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown(rows: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    by_dataset: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_dataset[row["dataset"]].append(row)
    for dataset, drows in by_dataset.items():
        rates = sorted({r["rate"] for r in drows})
        seeds = sorted({r["seed"] for r in drows})
        n = drows[0]["n_train"]
        lines += ["", (f"**{dataset}**: the check (`find_label_issues`, 5 folds of `linear`) on {n:,} train documents with a "
                  f"fraction p of tags flipped; noise seeds {','.join(map(str, seeds))} (mean ± sd over seeds):"), "",
                  ("| p | flipped | flagged (found) | precision | precision of the 200 listed | recall | suggestion = true class "
                  "(flipped & flagged) | right tags flagged | wrong tags before → after following the 200 listed → all | check s | folds' accuracy / macro-F1 | warning |"),
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|"]
        for rate in rates:
            rr = [r["check"] for r in drows if r["rate"] == rate]
            warn = ", ".join(sorted({w for c in rr for w in (("unreliable",) if c["unreliable"] else ()) + (("weak",) if c["weak"] else ())})) or "none"
            lines.append(f"| {rate:.2f} | {_fmt([c['flipped'] for c in rr], 0)} | {_fmt([c['flagged'] for c in rr], 0)} | "
                         f"{_fmt([c['precision'] for c in rr])} | {_fmt([c['precision_shown'] for c in rr])} | {_fmt([c['recall'] for c in rr])} | "
                         f"{_fmt([c['suggestion_right'] for c in rr])} | {_fmt([c['right_tag_flagged'] for c in rr], 0)} | "
                         f"{_fmt([c['wrong_before'] for c in rr], 0)} → {_fmt([c['wrong_after_listed'] for c in rr], 0)} → {_fmt([c['wrong_after'] for c in rr], 0)} | "
                         f"{_fmt([c['seconds'] for c in rr], 1)} | {_fmt([c['fold_accuracy'] for c in rr])} / {_fmt([c['fold_macro_f1'] for c in rr])} | {warn} |")
        checked = {(c["checked"], c["tagged"]) for r in drows for c in [r["check"]]}
        lines += ["", f"Checked / tagged documents: {', '.join(f'{a:,} / {b:,}' for a, b in sorted(checked))}. "
                  "Suggested classes, commonest (first seed of each p): "
                  + "; ".join(f"p={r['rate']:.2f}: " + ", ".join(f"{c} {k}" for c, k in r["check"]["suggested_classes"])
                              for r in drows if r["seed"] == seeds[0])]
        for recipe in drows[0]["scores"]:
            metrics = ("accuracy", "macro_f1") if dataset == "hadoop_jira_priority" else ("accuracy",)
            for metric in metrics:
                lines += ["", (f"**{dataset}**, test {metric} ({drows[0]['n_test']:,} test documents) of `{recipe}` trained on all train "
                          "documents as tagged (mean ± sd over seeds; the difference to noisy paired by seed):"), "",
                          "| p | clean tags | noisy tags | after following the 200 listed | that − noisy | after following every suggestion | following − noisy | untag flagged instead | untag − noisy |"
                          + (f" after following the `{drows[0]['alt']['recipe']}` check's suggestions | that − noisy |" if "alt" in drows[0] else ""),
                          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if "alt" in drows[0] else "")]
                for rate in rates:
                    rr = [r for r in drows if r["rate"] == rate]
                    s = [r["scores"][recipe] for r in rr]
                    d_follow = [x["followed"][metric] - x["noisy"][metric] for x in s]
                    d_untag = [x["untagged"][metric] - x["noisy"][metric] for x in s]
                    d_listed = [x["followed_listed"][metric] - x["noisy"][metric] for x in s]
                    line = (f"| {rate:.2f} | {_fmt([x['clean'][metric] for x in s])} | {_fmt([x['noisy'][metric] for x in s])} | "
                            f"{_fmt([x['followed_listed'][metric] for x in s])} | {np.mean(d_listed):+.3f} [{min(d_listed):+.3f}, {max(d_listed):+.3f}] | "
                            f"{_fmt([x['followed'][metric] for x in s])} | {np.mean(d_follow):+.3f} [{min(d_follow):+.3f}, {max(d_follow):+.3f}] | "
                            f"{_fmt([x['untagged'][metric] for x in s])} | {np.mean(d_untag):+.3f} [{min(d_untag):+.3f}, {max(d_untag):+.3f}] |")
                    if "alt" in rr[0]:
                        alt = [r["alt"]["scores"][recipe][metric] for r in rr]
                        d_alt = [a - x["noisy"][metric] for a, x in zip(alt, s, strict=True)]
                        line += f" {_fmt(alt)} | {np.mean(d_alt):+.3f} [{min(d_alt):+.3f}, {max(d_alt):+.3f}] |"
                    lines.append(line)
        if "alt" in drows[0]:
            alt_recipe = drows[0]["alt"]["recipe"]
            lines += ["", (f"**{dataset}**: the check with `linear` (tagwise's) vs `{alt_recipe}` out-of-fold probabilities, same folds "
                      "and cleanlab call (mean ± sd over seeds):"), "",
                      ("| p | check | flagged | precision | precision of the first 200 | recall | suggestion = true class | "
                      "wrong tags before → after following | folds' accuracy | seconds |"), "|---:|---|---:|---:|---:|---:|---:|---|---:|---|"]
            for rate in rates:
                rr = [r for r in drows if r["rate"] == rate]
                for name, key in (("linear", "check"), (alt_recipe, "alt")):
                    c = [r[key] for r in rr]
                    secs = _fmt([x["seconds"] for x in c], 1)
                    if key == "alt":
                        secs += " (" + ", ".join(f"{x['seconds']:.0f} {'cold' if x['cold_cache'] else 'warm'}" for x in c) + ")"
                    acc = [x["fold_accuracy"] for x in c] if key == "check" else [x["accuracy"] for x in c]
                    lines.append(f"| {rate:.2f} | {name} | {_fmt([x['flagged'] for x in c], 0)} | {_fmt([x['precision'] for x in c])} | "
                                 f"{_fmt([x['precision_shown'] for x in c])} | {_fmt([x['recall'] for x in c])} | "
                                 f"{_fmt([x['suggestion_right'] for x in c])} | {_fmt([rr[0]['check']['wrong_before']], 0)} → "
                                 f"{_fmt([x['wrong_after'] for x in c], 0)} | {_fmt(acc)} | {secs} |")
        total = sum(r["seconds"] for r in drows)
        lines += ["", f"{dataset}: {total:.0f} s in all (checks, alternatives and trainings)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="banking77,hadoop_jira_priority")
    parser.add_argument("--rates", default="0.05,0.1,0.2", help="fractions of the train tags flipped")
    parser.add_argument("--seeds", type=int, default=2, help="noise seeds (each: another set of flipped documents)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--recipes", default="linear", help="recipes trained to score the test split: linear, embedding")
    parser.add_argument("--alt", default=None, help="also check with this recipe's out-of-fold probabilities (embedding)")
    parser.add_argument("--alt-all", action="store_true", help="the alternative reads every tagged document, not the check's 10,000 sample")
    parser.add_argument("--train-limit", type=int, default=None, help="a seeded subset of the train split (smoke tests)")
    parser.add_argument("--test-limit", type=int, default=None, help="a seeded subset of the test split")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    parser.add_argument("--json-out", type=Path, default=None, help="append each run as a JSON line; runs already there are reused")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
    args.recipes = args.recipes.split(",")
    rates = [float(r) for r in args.rates.split(",")]
    for dataset in args.datasets.split(","):
        if dataset not in SINGLE_LABEL:
            parser.error(f"{dataset}: single-label datasets only ({', '.join(SINGLE_LABEL)})")
    done: dict[tuple, dict] = {}
    if args.json_out and args.json_out.exists():
        for line in args.json_out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done[_key(row["dataset"], row["rate"], row["seed"], row["recipes"], row.get("alt_recipe"),
                      row["train_limit"], row["test_limit"]) + (row.get("alt_all", True),)] = row
    rows: list[dict[str, Any]] = []
    clean: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="tagwise-tagcheck-cache-") as cache_root:
        for dataset in args.datasets.split(","):
            # one embedding cache per dataset and recipe: texts embedded once for the retrains
            caches: dict[Any, Any] = {r: Path(cache_root) / dataset / r for r in set(args.recipes) | ({args.alt} if args.alt else set())
                                      if r in ("embedding", "ensemble")}
            for rate in rates:
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    key = _key(dataset, rate, seed, args.recipes, args.alt, args.train_limit, args.test_limit) + (args.alt_all,)
                    if key in done:
                        rows.append(done[key])
                        continue
                    t0 = time.perf_counter()
                    row = run_one(dataset, rate, seed, args, clean, caches)
                    row.update(seconds=round(time.perf_counter() - t0, 1), recipes=args.recipes, alt_recipe=args.alt, alt_all=args.alt_all)
                    rows.append(row)
                    c = row["check"]
                    print(f"{dataset} p={rate} seed {seed}: {row['seconds']} s; flagged {c['flagged']}, precision {c['precision']:.3f}, "
                          f"recall {c['recall']:.3f}; " + json.dumps({r: {k: round(v['accuracy'], 4) for k, v in s.items()}
                                                                       for r, s in row["scores"].items()}),
                          file=sys.stderr, flush=True)
                    if args.json_out:
                        with open(args.json_out, "a", encoding="utf-8") as fh:
                            fh.write(json.dumps(row) + "\n")
    print(markdown(rows))
    return 0


def _key(dataset: str, rate: float, seed: int, recipes: list[str], alt: str | None, train_limit: int | None,
         test_limit: int | None) -> tuple:
    return dataset, float(rate), seed, tuple(recipes), alt, train_limit, test_limit


if __name__ == "__main__":
    sys.exit(main())
