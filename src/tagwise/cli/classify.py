"""``tagwise classify``: stream documents through a deployment, in constant memory, resumable.

The input is read lazily in batches; each batch is classified (locally through
``analyze.classify_documents``, remotely through the synchronous ``:classify`` route) and its
output lines are written in input order and flushed before the next batch is read. So an
interrupted run leaves a prefix of the output, and a rerun skips as many documents as the
output already holds, after checking that the output is this input's (same format, and the id on
its last line is the id of the input's document at that place).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from enum import Enum
from itertools import chain
from pathlib import Path
from typing import IO, Any

import typer

from tagwise.bulk import batches
from tagwise.cli.common import (
    EXIT_SOME_FAILED,
    UsageError,
    check_output_file,
    err,
    handle_errors,
    language_option,
    opened,
    progress,
    sigterm_as_interrupt,
)
from tagwise.cli.resume import CSV_FIELDS, Done, as_written, check_same_input, check_same_top, existing_output, skip
from tagwise.cli.textfiles import csv_reader, csv_rows, json_text, not_utf8
from tagwise.core import csv_header
from tagwise.core.csv_header import LANGUAGE_KEYS, LOCATION_KEYS, TEXT_KEYS, first_of, meta_language
from tagwise.core.textencoding import json_problem, not_text
from tagwise.core.validation import lone_surrogate
from tagwise.errors import TagwiseError


class InputFormat(str, Enum):
    auto = "auto"
    jsonl = "jsonl"
    csv = "csv"
    txt = "txt"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    csv = "csv"


class Engine(str, Enum):
    local = "local"
    ray = "ray"


# -- reading --------------------------------------------------------------------------------

# (id, text, language): the language the input names for the document, else the --language given, else None
Document = tuple[str, str, str | None]


def read_documents(stream: IO[str], fmt: str, text_column: str = "text", id_column: str = "id", *, where: str = "stdin",
                   delimiter: str | None = None, language_column: str = "language", language: str | None = None) -> Iterator[Document]:
    """(id, text, language) documents, lazily. Blank lines are skipped; a missing id is the line
    number; a missing or empty language is ``language``. ``where`` names the input in errors
    (``FILE:LINE: ...``)."""
    if fmt == "auto":
        first = stream.readline()
        fmt = "jsonl" if first.lstrip().startswith("{") else "txt"
        lines: Iterable[str] = chain([first], stream)
    else:
        lines = stream
    if fmt == "csv":
        yield from _csv_documents(stream, text_column, id_column, where, delimiter, language_column, language)
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if fmt == "txt":
            yield str(number), line.rstrip("\r\n"), language
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{where}:{number}: not a JSON line ({json_problem(exc)})") from None
        except RecursionError:  # "[[[[..." 100,000 deep ended in a traceback
            raise UsageError(f"{where}:{number}: its JSON is nested too deeply to be a document") from None
        text = json_text(row, text_column, f"{where}:{number}", missing=f"needs a JSON object with a string {text_column!r}",
                         listed="it has {fields}: name the text's field with --text-column")
        doc_id, named = row.get(id_column), row.get(language_column)
        if named is None and language_column == "language":  # where tagwise import reads it too (the shared datasets')
            named = meta_language(row)
        if named is not None and not isinstance(named, str):
            raise UsageError(f"{where}:{number}: {language_column!r} must be a language code such as \"en\", not {json.dumps(named)}")
        doc_id = str(doc_id) if doc_id not in (None, "") else str(number)
        if lone_surrogate(doc_id):  # "\ud800" in the JSON: writing the output line ended in a traceback
            raise UsageError(f"{where}:{number}: the id {json.dumps(doc_id)} holds a lone surrogate, which is no Unicode text: fix the id")
        yield doc_id, text, named or language



class DecodedLines:
    """A binary stream's lines, each decoded alone (a byte-order mark dropped) and split and translated
    as a text stream would (universal newlines: a lone ``\\r`` ends a line too; csv keeps the line
    ends), so that a byte UTF-8 does not allow raises at its own line, after every line before it was
    given. A text stream decodes 8 KB at a time and raised before the lines of the chunk holding that
    byte: from stdin, which cannot be read again, up to 8 KB of documents before it went unwritten."""

    def __init__(self, raw: IO[bytes], csv_lines: bool) -> None:
        self._lines = self._read(raw, "" if csv_lines else None)

    @staticmethod
    def _read(raw: IO[bytes], newline: str | None) -> Iterator[str]:
        for number, line in enumerate(raw):  # a raw line ends at \n: a \r\n is never split
            try:
                text = (line.removeprefix(codecs.BOM_UTF8) if number == 0 else line).decode("utf-8")
            except UnicodeDecodeError as exc:
                exc.add_note(f"line {number + 1}")  # for stdin's message, which cannot read the input again to find it
                raise
            if "\r" in text:
                yield from io.StringIO(text, newline=newline)
            else:
                yield text

    def __iter__(self) -> Iterator[str]:
        return self._lines

    def readline(self) -> str:
        return next(self._lines, "")


class UpToBadByte:
    """The input's documents up to a line that is not UTF-8 (:class:`DecodedLines` raises there), its
    error kept (``error``) for the caller to raise once they are classified: the documents end there,
    so the batch being filled is classified and written too (raised through the batching, it was lost)."""

    def __init__(self, docs: Iterator[Document]) -> None:
        self.error: UnicodeDecodeError | None = None
        self._iter = self._read(docs)

    def __iter__(self) -> Iterator[Document]:
        return self._iter

    def __next__(self) -> Document:
        return next(self._iter)

    def _read(self, docs: Iterator[Document]) -> Iterator[Document]:
        try:
            yield from docs
        except UnicodeDecodeError as exc:
            self.error = exc


def _csv_documents(stream: IO[str], text_column: str, id_column: str, where: str, delimiter: str | None, language_column: str,
                   language: str | None) -> Iterator[Document]:
    reader = csv_reader(stream, where, delimiter)
    fields = reader.fieldnames or []
    # a column left at its default name that the header lacks: the names the studio reads (Text, Texte, content;
    # location or filename for the id, lang), so a file the studio reads or gave classifies as it is
    def read_as_the_studio(column: str, default: str, names: tuple[str, ...]) -> str:
        return (first_of(names, fields) or column) if column == default and default not in fields else column

    text_column = read_as_the_studio(text_column, "text", TEXT_KEYS)
    id_column = read_as_the_studio(id_column, "id", LOCATION_KEYS)
    language_column = read_as_the_studio(language_column, "language", LANGUAGE_KEYS)
    if text_column not in fields:
        raise UsageError(f"{where}: no column {text_column!r} (columns: {', '.join(fields)}); pick one with --text-column")
    for number, _line, row in csv_rows(reader, where):
        doc_id = row.get(id_column)
        yield (doc_id if doc_id else str(number)), row[text_column] or "", row.get(language_column) or language


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


# -- classifying ----------------------------------------------------------------------------

Batch = list[Document]


def _payload(batch: Batch) -> list[dict[str, str]]:
    # Ids are positions in the batch: unique even when the input's own ids are not.
    return [{"id": str(i), "text": text, **({"language": language} if language else {})}
            for i, (_id, text, language) in enumerate(batch)]


def classify_batches(be: Any, name: str, deployment: str, source: Iterator[Batch], top: int | None,
                     jobs: int) -> Iterator[tuple[Batch, dict]]:
    """(batch, result) in input order. With ``jobs`` > 1 up to ``2 * jobs`` batches are in flight
    (worker processes locally, concurrent requests remotely), so memory stays bounded."""
    if jobs == 1:
        for batch in source:
            yield batch, be.classify(name, deployment, _payload(batch), top)
        return
    from tagwise.cli.backends import LocalBackend

    if isinstance(be, LocalBackend):
        be.classify(name, deployment, [], top)  # fail fast (unknown deployment) before starting workers
        settings = be.ctx.settings
        pool: Executor = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                                             initargs=(settings.model_dump(),))
        call: Callable[..., dict] = _classify_in_worker
    else:
        pool, call = ThreadPoolExecutor(jobs), be.classify
    pending: deque[tuple[Batch, Future]] = deque()
    read_error: list[Exception] = []
    try:
        for batch in _until_error(source, read_error):
            pending.append((batch, pool.submit(call, name, deployment, _payload(batch), top)))
            if len(pending) >= 2 * jobs:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
        if read_error:  # reported once the batches read before it are written, as with --jobs 1
            raise read_error[0]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _until_error(source: Iterator[Batch], caught: list[Exception]) -> Iterator[Batch]:
    try:
        yield from source
    except Exception as exc:  # noqa: BLE001 - kept and raised by the caller after the batches in flight
        caught.append(exc)


_worker_backend: Any = None


def _start_worker(settings: dict[str, Any]) -> None:
    global _worker_backend
    from tagwise.cli.backends import LocalBackend
    from tagwise.settings import Settings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _worker_backend = LocalBackend(Settings(**settings), migrate=False)


def _classify_in_worker(name: str, deployment: str, payload: list[dict[str, str]], top: int | None) -> dict:
    return _worker_backend.classify(name, deployment, payload, top)


# -- writing --------------------------------------------------------------------------------

def records(batch: Batch, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Output records in input order, from a result whose ids are the batch positions."""
    by_position: dict[int, dict[str, Any]] = {}
    for doc in results["documents"]:
        predictions = [{"category": c["category"], "confidenceScore": c["confidenceScore"]} for c in doc["class"]]
        # a document's warnings (DocumentTruncated, LanguageNotTrained) only when it has some: most have none
        by_position[int(doc["id"])] = {"predictions": predictions, **({"warnings": doc["warnings"]} if doc.get("warnings") else {})}
    for error in results["errors"]:
        inner = (error.get("error") or {}).get("innererror") or error.get("error") or {}
        by_position[int(error["id"])] = {"predictions": [], "error": inner.get("message", "invalid document")}
    return [{"id": doc_id, **by_position[i]} for i, (doc_id, *_) in enumerate(batch)]


class Writer:
    """Output lines; a csv file starts with a byte-order mark when ``bom`` (Excel reads UTF-8 as its
    local code page without one: "RÃ©clamation") and separates fields with ``delimiter`` (with ";",
    confidences have a decimal comma, as the studio's Try it writes them)."""

    def __init__(self, stream: IO[str], fmt: str, header: bool, delimiter: str = ",", bom: bool = False) -> None:
        self.stream = stream
        self.fmt = fmt
        self.delimiter = delimiter
        # a spreadsheet that separates fields with ";" reads "0.93" as text: its decimal mark is the comma
        self.decimal = "," if delimiter == ";" else "."
        if fmt == "csv" and header:
            if bom:
                self.stream.write("\ufeff")
            self._csv_rows([dict(zip(CSV_FIELDS, CSV_FIELDS))])

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.fmt == "csv":
            self._csv_rows([{
                "id": row["id"],
                "category": ";".join(p["category"] for p in row["predictions"]),
                "confidenceScore": ";".join(str(p["confidenceScore"]).replace(".", self.decimal) for p in row["predictions"]),
                "error": row.get("error", ""),
            } for row in rows])
        else:
            self.stream.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        self.stream.flush()

    def _csv_rows(self, rows: list[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n", delimiter=self.delimiter)
        # One record per line, always: resuming counts lines.
        writer.writerows({k: as_written(str(v), "csv") for k, v in row.items()} for row in rows)
        self.stream.write(buffer.getvalue())


# -- the command ----------------------------------------------------------------------------

@handle_errors
def classify(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    deployment: str = typer.Argument(..., metavar="DEPLOYMENT", help="Deployment to classify with."),
    input_path: str = typer.Argument(..., metavar="INPUT", help="jsonl ({\"id\"?, \"text\", \"language\"?}), csv (text[, id, language] columns) "
                                    "or txt (one document per line); '-' for stdin."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout ('-': stdout); an existing file is RESUMED (see below)."),
    fmt: OutputFormat = typer.Option(None, "--format", help="Output format (default: csv for a .csv output, else jsonl)."),
    top: int = typer.Option(None, "--top", min=1, help="Also list the next best classes, up to K predictions per document (multi-label: at most K of the classes the model chose, likeliest first; without --top, every chosen class)."),
    input_format: InputFormat = typer.Option(InputFormat.auto,
                                             help="auto: from INPUT's name (.jsonl/.ndjson, .csv, .tsv = tab-separated csv, else txt); "
                                             "stdin: jsonl if it starts with '{'."),
    text_column: str = typer.Option("text", help="Field/column with the text (jsonl, csv; a csv without 'text' is read as the "
                                    "studio reads it: 'Text', 'content', 'document', 'texte', ...)."),
    id_column: str = typer.Option("id", help="Field/column with the id (jsonl, csv; a csv without 'id': its 'location' or "
                                  "'filename'); a line without it is numbered by its line."),
    language_column: str = typer.Option("language", help="Field/column with a document's language code (jsonl, csv), "
                                        "when the input has one; a document in another language than the model's gets "
                                        "a LanguageNotTrained warning."),
    language: str = typer.Option(None, "--language", metavar="CODE", callback=language_option, help="Language of the documents that name none "
                                 "(e.g. de, pt-BR); default: none declared (a script the model was not trained for is still "
                                 "noticed)."),
    batch_size: int = typer.Option(1000, min=1, max=1000, help="Documents read, classified and written at a time; remotely "
                                   "sent in requests within the server's TAGWISE_MAX_SYNC_DOCUMENTS and TAGWISE_MAX_SYNC_CHARACTERS."),
    restart: bool = typer.Option(False, "--restart", help="Overwrite OUTPUT instead of resuming it."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, max=64,
                             help="Batches classified in parallel: processes locally, concurrent requests remotely."),
    engine: Engine = typer.Option(Engine.local, help="local: this process (or --jobs workers); ray: the same batches as Ray "
                                  "tasks on a Ray cluster, as many at once as it has CPUs (local data dir only)."),
    address: str = typer.Option(None, help="With --engine ray: the cluster to join (its head's address, e.g. head-node:6379, or ray://head:10001 for Ray Client); default: a local Ray."),
) -> None:
    """Classify documents, streaming: constant memory on any input size.

    Writes one line per document, in input order: jsonl {"id", "predictions": [{"category",
    "confidenceScore"}, ...]} (plus "error" for a document that could not be classified, and
    "warnings": [{"code", "message"}] for one the model may misread: DocumentTruncated,
    LanguageNotTrained), or csv id,category,confidenceScore,error (several predictions joined by
    ';'; no warnings). Exit code 3 when it ran to the end but some documents could not be
    classified (an empty text, one over the size limit, a bad language code: their error field
    says why; every other line is written).

    Resuming: when OUTPUT exists, its complete lines are counted, that many input documents are
    skipped and the rest is appended; a half-written last line is cut off first. So rerunning
    the same command after an interruption finishes the job without redoing finished lines.
    An OUTPUT in the other format, whose last id is not the input's at that place, or written
    with another --top, is refused.
    Pass --restart to start over.

    \b
    Example:
      tagwise classify banking production queries.txt -o predictions.jsonl --top 3
      tagwise classify banking production big.jsonl -o out.jsonl --engine ray
    """
    if output is not None and str(output) == "-":  # as export's -o -: it wrote and resumed a file named "-"
        output = None
    out_fmt = (fmt.value if fmt else ("csv" if output and output.suffix.lower() == ".csv" else "jsonl"))
    if output is not None:
        check_output_file(output, "classified.jsonl")
    in_fmt = input_format.value
    where = "stdin" if input_path == "-" else input_path
    delimiter = "\t" if input_path.lower().endswith(".tsv") else None  # the header decides: , or ;
    if input_path != "-":
        source = Path(input_path)
        if not source.is_file():
            what = ("a folder, not a file" if source.is_dir() else "no such file" if not source.exists() else
                    "not a regular file (a pipe, as <(cat ...) makes?): pass - and send it to stdin")
            raise UsageError(f"{input_path}: {what}")
        if output is not None and output.exists() and os.path.samefile(output, source):
            raise UsageError(f"-o {output} is the input file; write the output to another file")
        if in_fmt == "auto":
            suffix = source.suffix.lower()
            if binary := not_text(input_path, suffix, "classify"):  # a workbook was read as lines of text: "not UTF-8 text"
                raise UsageError(binary)
            in_fmt = "jsonl" if suffix in (".jsonl", ".ndjson") else "csv" if suffix in (".csv", ".tsv") else "txt"
    resume = output is not None and output.exists() and not restart
    done = existing_output(output, out_fmt) if resume else Done()
    has_content = bool(resume and output.stat().st_size)
    console = err()
    total = _count_lines(Path(input_path)) if input_path != "-" and console.is_terminal else None

    started = time.monotonic()
    classified = failed = warned = 0
    created = False  # OUTPUT opened afresh: removed again when the run fails before writing a document
    try:
        with sigterm_as_interrupt(), opened() as be, _open_input(input_path, in_fmt) as stream, _open_output(output, append=resume) as sink:
            created = output is not None and not resume
            # a csv file written as the input is separated (Excel in a German or French locale reads ";"), with
            # a byte-order mark so that Excel reads it as UTF-8; appended lines keep the file's own separator
            separator = done.delimiter if has_content else _separator(input_path, in_fmt, delimiter)
            writer = Writer(sink, out_fmt, header=not has_content, delimiter=separator, bom=output is not None)
            docs = UpToBadByte(read_documents(stream, in_fmt, text_column, id_column, where=where, delimiter=delimiter,
                                              language_column=language_column, language=language))
            if done.count:
                skipped, last = skip(docs, done.count)
                if docs.error is not None:  # before where the output got to: said as itself, not as a shorter input
                    raise docs.error
                check_same_input(output, where, done, skipped, last[0] if last else None, out_fmt)
                if last is not None and done.last_predictions is not None:  # the same --top: classify it again
                    [again] = records([last], be.classify(name, deployment, _payload([last]), top))
                    check_same_top(output, done, len(again["predictions"]), top)
                console.print(f"resuming: {skipped:,} {'document' if skipped == 1 else 'documents'} already in {output}", markup=False)
            with progress(total_known=total is not None) as bar:
                task = bar.add_task("classifying", total=total, completed=done.count)
                for rows in _row_batches(be, engine, address, name, deployment, docs, batch_size, top, jobs):
                    writer.write(rows)
                    classified += len(rows)
                    failed += sum(1 for r in rows if "error" in r)
                    warned += sum(1 for r in rows if r.get("warnings"))
                    bar.advance(task, len(rows))
            if docs.error is not None:
                raise docs.error
    except UnicodeDecodeError as exc:  # the documents before the bad line are written: a rerun resumes after them
        _drop_if_empty(output, created and not classified)
        raise not_utf8(input_path, exc) from None
    except BaseException as exc:
        _drop_if_empty(output, created and not classified)
        if output is not None and done.count + classified and isinstance(exc, KeyboardInterrupt | TagwiseError):
            # the on-call person's question after "interrupted" or "cannot reach": what is there, and what to do
            console.print(f"note: {done.count + classified:,} documents are classified in {output}; the same command "
                          "again goes on after them", markup=False)
        raise
    seconds = time.monotonic() - started
    rate = f" ({classified / seconds:,.0f} docs/s)" if classified >= 1000 and seconds > 0 else ""
    note = f"; {failed:,} could not be classified (see their error field)" if failed else ""
    if done.failed:  # resumed: the lines written before hold some too
        note += f"; {output} holds {done.failed:,} {'more ' if failed else ''}from before that could not be classified"
    if warned:  # the csv output has no warnings column: a text in a language the model was not trained for went unsaid
        codes = "DocumentTruncated or LanguageNotTrained"
        note += (f"; {warned:,} with a warning ({codes}: " + ("see their warnings field)" if out_fmt != "csv" else
                                                              "--format jsonl shows them)"))
    noun = "document" if classified == 1 else "documents"
    console.print(f"classified {classified:,} {noun} in {seconds:.1f} s{rate}{note}", markup=False)
    if failed or done.failed:  # a cron job read exit 0 from a file whose every line was an error; a resumed run counts the file's
        raise typer.Exit(EXIT_SOME_FAILED)


def _row_batches(be: Any, engine: Engine, address: str | None, name: str, deployment: str, docs: Iterator[Document],
                 batch_size: int, top: int | None, jobs: int) -> Iterator[list[dict[str, Any]]]:
    """Output rows in input order, a batch at a time, from the chosen engine."""
    if engine is Engine.ray:
        from tagwise.cli.backends import LocalBackend

        if not isinstance(be, LocalBackend):
            raise UsageError("--engine ray runs on the local data dir; drop --endpoint (or run it where the data dir is)")
        from tagwise.bulk.ray_engine import classify_with_ray

        if jobs > 1:  # it was silently ignored
            err().print("note: --jobs is the local engine's; Ray runs as many batches at once as its cluster has CPUs", markup=False)
        yield from classify_with_ray(be.ctx.settings, name, deployment, docs, address=address, batch_size=batch_size, top=top)
        return
    for batch, result in classify_batches(be, name, deployment, batches(docs, batch_size), top, jobs):
        yield records(batch, result)


def _separator(input_path: str, in_fmt: str, delimiter: str | None) -> str:
    """The csv output's field separator: ';' for a csv input separated so (a spreadsheet's in a
    comma-decimal locale: a sep= line or the header decides, as they do for reading), else ','
    (a tab-separated .csv opened in Excel was one column; stdin is not read twice)."""
    if in_fmt != "csv" or input_path == "-":
        return ","
    with open(input_path, encoding="utf-8-sig", errors="replace") as fh:
        return ";" if csv_header.dialect(fh.readline(), delimiter)[0] == ";" else ","


def _drop_if_empty(output: Path | None, drop: bool) -> None:
    """A new OUTPUT of a run that failed before writing a document is removed (even with its csv header)."""
    if drop and output is not None:
        output.unlink(missing_ok=True)


def _open_input(path: str, fmt: str) -> AbstractContextManager[IO[str] | DecodedLines]:
    if path == "-":  # read as a file is: a byte-order mark (Excel's "CSV UTF-8") hid the id column, the ids became row numbers
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:  # a stdin that is text only (a test's): as it is
            return nullcontext(sys.stdin)
        return nullcontext(DecodedLines(buffer, fmt == "csv"))
    return _decoded_file(path, fmt == "csv")


@contextmanager
def _decoded_file(path: str, csv_lines: bool) -> Iterator[DecodedLines]:
    with open(path, "rb") as raw:
        yield DecodedLines(raw, csv_lines)


def _open_output(path: Path | None, append: bool) -> AbstractContextManager[IO[str]]:
    if path is None:
        return nullcontext(sys.stdout)
    return open(path, "a" if append else "w", encoding="utf-8", newline="")
