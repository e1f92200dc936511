"""What a studio user does with the tag check: check, click "Use suggestion" on the listed rows (200),
"Check again", repeat. banking77 train with a seeded fraction of tags flipped (tag_check.flip);
after each round: flagged (found), how many of the listed were flipped, wrong tags left, the
cleanlab's label quality rounded to a whole percent (what the page showed until 2026-11-28: "0%"
on every row), and test accuracy of `linear` on the tags then.

    .venv/bin/python -m benchmarks.tag_check_rounds --dataset banking77 --rate 0.1 --seed 0 --rounds 4
"""
from __future__ import annotations

import argparse
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
    p.add_argument("--data-dir", type=Path, default=Path("/work/shared/datasets"))
    args = p.parse_args()
    folder = args.data_dir / args.dataset
    ids, texts, truth = _load(folder, "train")
    _, test_texts, test_labels = _load(folder, "test")
    noisy, flipped = flip(truth, args.rate, args.seed, args.dataset)
    truth_of = dict(zip(ids, truth))
    flipped_locs = {ids[i] for i in flipped}
    print(f"{args.dataset} p={args.rate} seed {args.seed}: {len(ids)} train, {len(flipped)} flipped\n")
    print("| round | found (\"N flagged\") | listed | listed that were flipped | listed whose suggestion = true class | "
          "listed right tags (a suggestion breaks them) | wrong tags after using the listed suggestions | "
          "label quality shown for the listed: \"0%\" rows, median | check s | test accuracy (linear) after the round |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="tagwise-rounds-") as tmp:
        ctx = Context.open(Settings(data_dir=Path(tmp) / "data", api_key="k"))
        tagging.create_project(ctx, "noisy", SINGLE, "en")
        tagging.add_documents(ctx, "noisy", [{"location": i, "text": t, "labels": [lab]} for i, t, lab in zip(ids, texts, noisy)])
        for rnd in range(1, args.rounds + 1):
            result = label_issues.find_label_issues(ctx, "noisy")  # the studio's default limit (200)
            listed = result.issues
            hit = sum(i.location in flipped_locs for i in listed)
            right_sugg = sum(i.location in flipped_locs and i.suggested[0] == truth_of[i.location] for i in listed)
            shown_q = [percent(i.quality, 0) for i in listed]
            for i in listed:
                tagging.set_labels(ctx, "noisy", i.doc_id, i.suggested, location=i.location, seen=i.given)
            with ctx.db.read() as conn:
                rows = docs_db.tagged_rows(conn, require(conn, "noisy")["id"], with_text=True)
            wrong = sum(r["labels"][0] != truth_of[r["location"]] for r in rows)
            acc = score("linear", [r["text"] for r in rows], [r["labels"][0] for r in rows], test_texts, test_labels, None)["accuracy"]
            qs = sorted(i.quality for i in listed)
            med = qs[len(qs) // 2] if qs else float("nan")
            print(f"| {rnd} | {result.found:,} | {len(listed)} | {hit} | {right_sugg} | {len(listed) - hit} | {wrong} | "
                  f"{Counter(shown_q)['0%']} of {len(listed)}, {med:.4f} | {result.seconds} | {acc:.4f} |", flush=True)
        ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
