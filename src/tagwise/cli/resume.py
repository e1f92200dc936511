"""Resuming ``tagwise classify -o OUTPUT``: how much of OUTPUT is done, and whether it is this input's output.

An interrupted run leaves complete lines and maybe half a line. :func:`existing_output` cuts the
half line off, checks OUTPUT is in the format asked for, and returns how many documents it holds,
the id on its last line and how many predictions that line has. After skipping that many input
documents, :func:`check_same_input` compares that id with the input's, so an OUTPUT written for
another input is refused (exit code 2) instead of appended to; :func:`check_same_top` compares the
predictions with what this run gives the same document, so lines of another ``--top`` are not mixed in.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from tagwise.cli.common import UsageError
from tagwise.core.csv_header import formula_safe

CSV_FIELDS = ("id", "category", "confidenceScore", "error")
CSV_DELIMITERS = (",", ";", "\t")
ELSE = "pass --restart to overwrite it, or another -o"


@dataclass
class Done:
    """What an existing OUTPUT holds: ``count`` documents, the last with id ``last_id`` and
    ``last_predictions`` predictions (None when that document could not be classified)."""

    count: int = 0
    last_id: str | None = None
    last_predictions: int | None = None
    delimiter: str = ","  # a csv OUTPUT's field separator: appended lines keep it
    failed: int = 0  # of them, documents that could not be classified (an error field): a resumed run's exit code counts them


def complete_lines(path: Path) -> int:
    """Count the file's complete lines and cut off a partial last line (an interrupted write)."""
    count, end_of_last = 0, 0
    position = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk.rfind(b"\n")
            if last >= 0:
                end_of_last = position + last + 1
            position += len(chunk)
    if end_of_last != position:
        with open(path, "r+b") as fh:
            fh.truncate(end_of_last)
    return count


def existing_output(path: Path, fmt: str) -> Done:
    """The documents ``path`` holds, after cutting off a half-written last line; refuses a file that is not
    classify output in ``fmt`` (jsonl lines after a csv header would corrupt both)."""
    lines = complete_lines(path)
    if not lines:
        return Done()
    with open(path, "rb") as fh:
        first = fh.readline().rstrip(b"\r\n").removeprefix(codecs.BOM_UTF8)
    # a csv OUTPUT is separated as its input was (a spreadsheet's ";"), with a byte-order mark
    delimiter = next((d for d in CSV_DELIMITERS if first == d.join(CSV_FIELDS).encode()), None)
    held = "csv" if delimiter else "jsonl" if first.startswith(b"{") else None
    if held is None:
        raise UsageError(f"{path} does not look like the output of tagwise classify; {ELSE}")
    if held != fmt:
        raise UsageError(f"{path} holds {held}, not {fmt}: pass --format {held} to resume it, --restart to overwrite it, "
                         "or another -o")
    count = lines - (held == "csv")
    delimiter = delimiter or ","
    if not count:
        return Done(delimiter=delimiter)
    return Done(count, *_last_record(path, held, delimiter), delimiter=delimiter, failed=_failed(path, held, delimiter, lines))


def _failed(path: Path, fmt: str, delimiter: str, lines: int) -> int:
    """How many of the file's first ``lines`` lines are a document that could not be classified: a
    rerun that resumes the output exited 0 although it held error lines (exit code 3 said them once)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        if fmt == "jsonl":  # json.dumps escapes a quote inside a value, so only the key reads '"error": '
            return sum('"error": ' in line for line in islice(fh, lines))
        return sum(1 for row in islice(csv.reader(fh, delimiter=delimiter), 1, lines) if len(row) >= 4 and row[3])


def skip(docs: Iterator[tuple[str, str, str | None]], count: int) -> tuple[int, tuple[str, str, str | None] | None]:
    """Consume up to ``count`` input documents: how many there were, and the last one (id, text, language)."""
    skipped, last = 0, None
    for doc in islice(docs, count):
        skipped, last = skipped + 1, doc
    return skipped, last


def check_same_input(output: Path, source: str, done: Done, skipped: int, last_input_id: str | None, fmt: str) -> None:
    """Refuse to append to an OUTPUT whose last line is not the input's document at that place."""
    if skipped < done.count:
        raise UsageError(f"{output} holds {done.count:,} documents but {source} has only {skipped:,}: "
                         f"it is not the output of this input; {ELSE}")
    expected = as_written(last_input_id or "", fmt)
    if expected != done.last_id:
        raise UsageError(f"{output} does not look like the output of {source}: its last line is document {done.last_id!r}, "
                         f"but document {done.count:,} of the input is {expected!r}; {ELSE}")


def check_same_top(output: Path, done: Done, predictions_now: int, top: int | None) -> None:
    """Refuse to append to an OUTPUT whose last document has another number of predictions than this
    run gives it: it was written with another ``--top``, and the lines would mix."""
    if done.last_predictions is None or done.last_predictions == predictions_now:
        return
    now = f"--top {top}" if top else "no --top"
    raise UsageError(f"{output} was written with another --top: its last document ({done.last_id!r}) has "
                     f"{done.last_predictions} predictions, with {now} it gets {predictions_now}; rerun with the --top "
                     f"it was written with, or {ELSE}")


def as_written(value: str, fmt: str) -> str:
    """A value as a csv output line holds it: one record per line, always (resuming counts lines), and a
    cell a spreadsheet would run as a formula (``=HYPERLINK(...)`` as a document id or a class name)
    starts with ``'``, which spreadsheets show as text (OWASP's CSV injection advice). Numbers such as
    ``-1.5`` stay as they are. Resuming compares ids in this written form."""
    if fmt != "csv":
        return value
    return formula_safe(value.replace("\r", " ").replace("\n", " "))


def _last_record(path: Path, fmt: str, delimiter: str = ",") -> tuple[str, int | None]:
    """The last line's id and number of predictions (None for a document that could not be classified)."""
    line = _last_line(path)
    try:
        if fmt == "csv":
            doc_id, _categories, scores, error = next(csv.reader([line.decode("utf-8")], delimiter=delimiter))
            predictions = None if error else len(scores.split(";")) if scores else 0
        else:
            row = json.loads(line)
            doc_id, predictions = row["id"], None if row.get("error") else len(row["predictions"])
    except (ValueError, LookupError, TypeError, StopIteration, csv.Error):
        raise UsageError(f"{path}: its last line is not a line of tagwise classify output; {ELSE}") from None
    return str(doc_id), predictions


def _last_line(path: Path) -> bytes:
    """The last complete line, read from the end (OUTPUT may be gigabytes)."""
    with open(path, "rb") as fh:
        end = fh.seek(0, 2)
        size = min(end, 1 << 16)
        while True:
            fh.seek(end - size)
            chunk = fh.read(size)
            cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
            if cut >= 0 or size == end:
                return chunk[cut + 1:]
            size = min(end, size * 2)
