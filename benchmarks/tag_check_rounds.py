"""What a studio user does with the tag check: check, click "Use suggestion" on the listed rows (200),
"Check again", repeat. banking77 train with a seeded fraction of tags flipped (tag_check.flip);
after each round: flagged (found), how many of the listed were flipped, wrong tags left, the
cleanlab's label quality rounded to a whole percent (what the page showed until 2026-11-28: "0%"
on every row), and test accuracy of `linear` on the tags then.

    .venv/bin/python -m benchmarks.tag_check_rounds --dataset banking77 --rate 0.1 --seed 0 --rounds 4

``--judge``: a person who knows the true tags instead: each listed wrong tag retagged to its true
class (with "Use suggestion" when that is the suggestion), each listed right tag marked "Tag is
right" (which the next checks leave out). ``--extra-below P``: the check's ``EXTRA_BELOW`` (0: only
cleanlab's flags). ``--train-limit N``: a seeded random sample of N training documents (a smaller project).

    .venv/bin/python -m benchmarks.tag_check_rounds --dataset banking77 --rate 0.1 --seed 0 --rounds 6 --judge --train-limit 2000
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.tag_check import SINGLE, _load, flip, score


def main() -> int:
    from tagwise.core import label_issues, tagging
    from tagwise.core.context import Context
    from tagwise.core.percentfmt import percent
    from tagwise.core.projects import require
    from tagwise.settings import Settings
    from tagwise.storage import document_records as docs_db

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--dataset", default="banking77")
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    p.add_argument("--judge", action="store_true", help="retag listed wrong tags to the truth and mark listed right tags right")
    p.add_argument("--extra-below", type=float, default=label_issues.EXTRA_BELOW)
    p.add_argument("--train-limit", type=int, default=0)
    args = p.parse_args()
    label_issues.EXTRA_BELOW = args.extra_below
    folder = args.data_dir / args.dataset
    ids, texts, truth = _load(folder, "train")
    if args.train_limit:  # a seeded random sample (the file is in class order)
        import random

        keep = sorted(random.Random(0).sample(range(len(ids)), args.train_limit))
        ids, texts, truth = [ids[i] for i in keep], [texts[i] for i in keep], [truth[i] for i in keep]
    _, test_texts, test_labels = _load(folder, "test")
    noisy, flipped = flip(truth, args.rate, args.seed, args.dataset)
    truth_of = dict(zip(ids, truth))
    print(f"{args.dataset} p={args.rate} seed {args.seed}: {len(ids)} train, {len(flipped)} flipped; "
          f"{'judged with the true tags' if args.judge else 'every listed suggestion used'}, EXTRA_BELOW {args.extra_below}\n")
    print("| round | found (\"N flagged\") | listed | listed that were wrong tags (then) | listed wrong tags whose suggestion = true class | "
          "listed right tags (a suggestion breaks them) | wrong tags after the round (its suggestions used, or --judge) | "
          "label quality shown for the listed: \"0%\" rows, median | check s | test accuracy (linear) after the round |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="tagwise-rounds-") as tmp:
        ctx = Context.open(Settings(data_dir=Path(tmp) / "data", api_key="k"))
        tagging.create_project(ctx, "noisy", SINGLE, "en")
        tagging.add_documents(ctx, "noisy", [{"location": i, "text": t, "labels": [lab]} for i, t, lab in zip(ids, texts, noisy)])
        for rnd in range(1, args.rounds + 1):
            result = label_issues.find_label_issues(ctx, "noisy")  # the studio's default limit (200)
            listed = result.issues
            hit = sum(i.given[0] != truth_of[i.location] for i in listed)  # wrong tags now (a fixed one can be flagged again)
            right_sugg = sum(i.given[0] != truth_of[i.location] and i.suggested[0] == truth_of[i.location] for i in listed)
            shown_q = [percent(i.quality, 0) for i in listed]
            for i in listed:
                if not args.judge:
                    tagging.set_labels(ctx, "noisy", i.doc_id, i.suggested, location=i.location, seen=i.given)
                elif i.given[0] != truth_of[i.location]:
                    tagging.set_labels(ctx, "noisy", i.doc_id, [truth_of[i.location]], location=i.location, seen=i.given)
                else:
                    tagging.confirm_tags(ctx, "noisy", i.doc_id, location=i.location, seen=i.given, by="benchmark")
            with ctx.db.read() as conn:
                rows = docs_db.tagged_rows(conn, require(conn, "noisy")["id"], with_text=True)
            wrong = sum(r["labels"][0] != truth_of[r["location"]] for r in rows)
            acc = score("linear", [r["text"] for r in rows], [r["labels"][0] for r in rows], test_texts, test_labels, None)["accuracy"]
            qs = sorted(i.quality for i in listed)
            med = qs[len(qs) // 2] if qs else float("nan")
            print(f"| {rnd} | {result.found:,}{f' (+{result.kept} kept)' if result.kept else ''} | {len(listed)} | {hit} | {right_sugg} | {len(listed) - hit} | {wrong} | "
                  f"{Counter(shown_q)['0%']} of {len(listed)}, {med:.4f} | {result.seconds} | {acc:.4f} |", flush=True)
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
