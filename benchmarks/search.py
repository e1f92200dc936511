"""How long the studio's search (and the documents route's ``search``) takes on a big project of
accented texts: sib200's French, German and Spanish training sentences, repeated with a number
appended until the project holds ``--documents`` texts, in a fresh SQLite store (or the
PostgreSQL at ``--database-url``). Prints a markdown table: documents found and the best of
``--repeat`` runs per query (a count and the first page of 50, as the Data page asks), then the
time of a job runner's scan for texts without a search form. ``--ascii`` stores banking77's
English texts instead (no search form: the scan reads every text's length).

    .venv/bin/python -m benchmarks.search --documents 100000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

DATASETS = Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
QUERIES = ("nino", "etats", "Türkei", "STRASSE", "zzzz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ascii", action="store_true", help="banking77's English texts instead of sib200's accented ones")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (an empty database); default: SQLite in a temp dir")
    args = parser.parse_args()

    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage import document_records, records
    from tagwise.storage.records import utcnow

    source = DATASETS / ("banking77" if args.ascii else "sib200_de_es_fr") / "train.jsonl"
    with open(source, encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for line in lines]
    with tempfile.TemporaryDirectory() as folder:
        ctx = Context.open(Settings(data_dir=Path(folder), api_key="k", database_url=args.database_url))
        try:
            now = utcnow()
            project = {"name": "search", "kind": "CustomSingleLabelClassification", "language": "fr", "multilingual": True,
                       "description": None, "storage_container": "search", "settings": {}, "classes": ["a"],
                       "created_at": now, "modified_at": now}
            started = time.perf_counter()
            with ctx.db.write() as conn:
                project_id = records.insert_project(conn, project)
                for start in range(0, args.documents, 10_000):
                    document_records.insert_many(conn, project_id, [
                        {"location": f"d{i}.txt", "text": f"{texts[i % len(texts)]} {i}", "language": "fr", "dataset": "Train",
                         "labels": ["a"]} for i in range(start, min(start + 10_000, args.documents))])
            stored = time.perf_counter() - started
            print(f"{args.documents:,} documents stored in {stored:.1f} s ({ctx.db.url.split(':')[0]})\n")
            print(f"| query | found | best of {args.repeat} (s) |")
            print("|---|---|---|")
            for query in QUERIES:
                best, found = float("inf"), 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    with ctx.db.read() as conn:
                        _, found, _ = document_records.page(conn, project_id, document_records.DocumentFilter(search=query), 50, 0)
                    best = min(best, time.perf_counter() - started)
                print(f"| {query} | {found:,} | {best:.3f} |")
            # what a job runner does at its start and every 10 minutes: look for texts without a search form
            started = time.perf_counter()
            folded = ctx.db.fold_missing()
            print(f"\nthe runner's scan for texts without a search form: {time.perf_counter() - started:.3f} s ({folded} folded)")
        finally:
            ctx.close()


if __name__ == "__main__":
    main()
