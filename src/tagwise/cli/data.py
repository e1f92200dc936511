"""``tagwise import``, ``tagwise export`` and ``tagwise project documents``: labelled documents in and out of a
project, and a look at them."""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from tagwise.cli import formats
from tagwise.cli.common import (
    UsageError,
    check_output_file,
    counted,
    err,
    handle_errors,
    language_option,
    opened,
    out,
    progress,
    search_option,
)
from tagwise.cli.projects import KINDS, Kind, say_created
from tagwise.errors import InvalidArgument, InvalidRequest, ProjectNotFound, TagwiseError


class Split(str, Enum):
    train = "train"
    test = "test"


class Format(str, Enum):
    auto = "auto"
    jsonl = "jsonl"
    csv = "csv"
    azure = "azure"
    txt_dir = "txt-dir"


def _project_file(path: Path, fmt: str) -> bool:
    try:
        return formats.detect(path, fmt) == "azure"
    except UsageError:  # said when the file is read
        return False


def _project_or_none(be: Any, name: str) -> dict[str, Any] | None:
    try:
        return be.get_project(name)
    except TagwiseError as exc:
        if exc.code != "ProjectNotFound":
            raise
        return None


def _no_project(name: str) -> ProjectNotFound:
    return ProjectNotFound(f"the project {name} does not exist; create it first (tagwise project create {name} --kind single|multi) "
                           "or pass --kind")


@handle_errors
def import_(
    name: str = typer.Argument(..., metavar="NAME", help="Project to import into."),
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Files (or, for txt-dir, folders) to import together."),
    split: Split = typer.Option(None, help="Put documents that do not name their own split into this set "
                                "(default: none; a percentage split decides at training)."),
    fmt: Format = typer.Option(Format.auto, "--format",
                               help="auto: from the name (.jsonl/.ndjson, .csv/.tsv, .json = Azure project file, a folder = txt-dir)."),
    text_column: str = typer.Option(None, help="CSV column with the text (default: the first of text, content, document)."),
    label_column: str = typer.Option(None, help="CSV column with the label(s) (default: the first of labels, label, classes, "
                                     "class, category; none: the documents are imported untagged)."),
    id_column: str = typer.Option(None, help="CSV column with each document's name, its location (default: the first of location, "
                                  "id, filename; none: <file stem>-<row>): a ticket export's 'Issue key'."),
    label_separator: str = typer.Option(None, help="Separator of several labels in one CSV cell (multi-label projects; "
                                        "default ';' or '|', as the studio splits them, and a cell holding ',' is then refused as ambiguous)."),
    append: bool = typer.Option(False, "--append", help="Keep the project's documents and add these (same location: replaced). "
                                "Without it the import REPLACES them."),
    kind: Kind = typer.Option(None, "--kind", help="Create the project with this kind if it does not exist yet."),
    language: str = typer.Option("en", callback=language_option, help="Language code of a project created by this import (en, de, pt-BR, zh-Hans, ...); "
                                 "a document's own 'language' field or column overrides it for that document."),
    multilingual: bool = typer.Option(False, "--multilingual", help="A project created by this import holds several "
                                      "languages (the multilingual sentence encoder)."),
) -> None:
    """Import labelled documents; all files go in ONE import (all or nothing).

    jsonl: one {"id"?, "text", "labels": [...], "split"?, "language"?} per line. csv (.tsv:
    tab-separated): columns text and labels (plus optional id, split, language); several labels
    in one cell joined by ';' or '|' (--label-separator); a row with more or fewer fields than the header
    is refused. Both also take the names the studio's upload reads: label, classes, class or
    category for labels; location or filename for id; dataset for split; lang for language. language: the document's own code (en, de, pt-BR, zh-Hans; empty: the project's,
    --language), which training reads with the project's to choose the sentence encoder (English:
    MiniLM; other languages: the multilingual one). azure: an Azure project file (tagwise export
    writes one).
    txt-dir: a folder whose <class>/*.txt files are tagged with the subfolder name (top-level
    .txt files are untagged).

    Like Azure, an import replaces the project's documents; use --append to add to them.
    Files are UTF-8; a file or folder with no documents is refused (it would empty the project).
    Classes that look alike (other capitals or width, Arabic or Hebrew vowel marks) are refused as
    one class written two ways, except in an Azure project file, taken as it is (a CSV beside one is
    checked against its classes).

    \b
    Example:
      tagwise import banking train.jsonl --split train && tagwise import banking test.jsonl --split test --append
    """
    if twice := next((f for i, f in enumerate(files) if f.resolve() in {g.resolve() for g in files[:i]}), None):
        raise UsageError(f"{twice} is given twice; give each file once")
    columns = formats.CsvColumns(text_column, label_column, label_separator or ";", separator_given=label_separator is not None,
                                 id=id_column)
    with opened() as be:
        project = _project_or_none(be, name)
        known_kind = project["projectKind"] if project else KINDS[kind.value] if kind else None
        docs: list[formats.Doc] = []
        untagged_files: list[Path] = []
        metadata: dict[str, Any] = {}
        classes: list[str] = []  # an Azure project file's: they come as they are, as Azure takes them
        checked: list[formats.Doc] = []  # the documents of the other files: their new classes and locations are checked
        with progress() as bar:
            task = bar.add_task("reading", total=len(files))
            # Azure project files first: their kind is the project's, and a CSV beside one is read (and checked) by it
            for path in sorted(files, key=lambda f: not _project_file(f, fmt.value)):
                bar.update(task, description=f"reading {path.name}")
                if known_kind is None and formats.detect(path, fmt.value) != "azure":
                    raise _no_project(name)
                file_docs, file_meta = formats.read(path, fmt.value, known_kind == formats.MULTI, columns)
                if not file_docs:  # an import replaces the project's documents: an empty file would erase them all
                    raise UsageError(f"{path} holds no documents; nothing was imported")
                if file_meta is None and all(d.labels is None for d in file_docs) and formats.detect(path, fmt.value) != "txt-dir":
                    untagged_files.append(path)
                if file_meta:
                    known_kind = known_kind or file_meta["projectKind"]
                    metadata = {**file_meta, **metadata}
                    classes += file_meta["classes"]
                else:
                    checked.extend(file_docs)
                docs.extend(file_docs)
                bar.advance(task)
            formats.check_unique(docs)
            project_kind = known_kind or metadata.get("projectKind")
            if project_kind is None:
                raise _no_project(name)
            if split is not None:
                for doc in docs:
                    doc.dataset = doc.dataset or split.value.capitalize()
            read = len(docs)
            adding = append and project is not None  # the service keeps the project's documents and adds these
            if project is not None:
                metadata.update({k: v for k, v in project.items() if k in formats.METADATA_KEYS})
            metadata.setdefault("language", language)
            if multilingual:
                metadata.setdefault("multilingual", True)
            metadata.setdefault("storageInputContainerName", name)
            if not adding and checked:
                # classes that look alike are one class to a reader: the studio's upload and --append refuse them, and a
                # first import of a CSV let ログインできない and ﾛｸﾞｲﾝできない in as two; a CSV imported beside an Azure
                # project file is checked against the file's classes (it was not checked at all)
                from tagwise.core.documents import check_no_lookalikes
                from tagwise.core.validation import check_drawn_as_written, class_form

                try:  # in the form classes are kept: "café" composed and decomposed are one class, not twins
                    new_classes = [c for c in dict.fromkeys(class_form(label) for doc in checked for label in doc.labels or []
                                                            if label not in classes)  # the file's own, written alike
                                   if c not in classes]
                    check_no_lookalikes(classes, new_classes)
                    for category in new_classes:  # and none drawn otherwise than written, as the studio's upload refuses
                        check_drawn_as_written(category, "class")
                    for doc in checked:
                        check_drawn_as_written(doc.location, "location")
                except (InvalidArgument, InvalidRequest) as exc:
                    raise UsageError(exc.message) from None
            body = formats.project_file(name, project_kind, metadata, docs, classes)
            bar.update(task, description=f"importing {len(docs):,} documents")
            imported = be.import_project(name, body, append=adding)
    for path in untagged_files:  # legitimate (documents to tag in the studio), but a misnamed column looks the same
        err().print(f"note: {path}: no document has labels (a 'labels', 'label', 'classes', 'class' or 'category' "
                    "field or column, or the column --label-column names): imported untagged", markup=False)
    renamed = [d.renamed for d in docs if d.renamed]
    if renamed:
        more = f" (and {len(renamed) - 1:,} more)" if len(renamed) > 1 else ""
        err().print(f"note: a location cannot hold '/' or '\\': {renamed[0]}{more}", markup=False)
    # a single-label document with no class ("labels": []) is stored untagged: only multi-label has "no class"
    tagged = [d for d in docs if d.labels is not None and (d.labels or project_kind == formats.MULTI)]
    counts = {s: sum(1 for d in tagged if d.dataset == s) for s in ("Train", "Test")}
    no_class = sum(1 for d in tagged if not d.labels)  # multi-label "no class": tagged, and easily missed
    none_said = f" ({no_class:,} of them with no class)" if no_class else ""
    what = (f"{counted(len(body['assets']['classes']), 'class')}; {len(tagged):,} tagged{none_said}: {counts['Train']:,} train, {counts['Test']:,} test, "
            f"{len(tagged) - counts['Train'] - counts['Test']:,} unassigned; {len(docs) - len(tagged):,} untagged")
    if adding:  # the project's totals from the service; the split of the documents just added
        total, classes = imported.get("projectDocuments"), imported.get("classes")
        what = (f"it now holds {counted(total, 'document') if isinstance(total, int) else 'more documents'}"
                + (f" and {counted(classes, 'class')}" if isinstance(classes, int) else "") + f"; of these {read:,}: {what.split('; ', 1)[1]}")
    if project is None:  # as `project create` says it (an import into a mistyped name made a new project without a word)
        say_created(name, project_kind, metadata["language"], metadata.get("multilingual"))
    out().print(f"imported {counted(read, 'document')} into {name} ({what})", markup=False)
    if replaced := imported.get("replacedDocuments"):  # a document at a location the project had: replaced, tags and all
        removed = imported.get("tagsRemoved") or 0
        err().print(f"note: {counted(replaced, 'document')} replaced the project's at the same location"
                    + (f"; {removed:,} of them lost their tags (the file has them untagged)" if removed else ""),
                    markup=False)


@handle_errors
def export(
    name: str = typer.Argument(..., metavar="NAME", help="Project to export."),
    output: Path = typer.Option(..., "--output", "-o", help="File to write ('-' for stdout)."),
    model: str = typer.Option(None, "--model", metavar="LABEL",
                              help="Export what this model was trained and tested on (each document's dataset: the set its split "
                                   "put it in), not the project's current documents."),
) -> None:
    """Write the project as an Azure project file (documents with their text); re-import it with tagwise import.

    \b
    Example:
      tagwise export banking -o banking.json
      tagwise export banking --model v1 -o banking-v1.json   # then: import, train --manual-split: the same model
    """
    if str(output) != "-":
        check_output_file(output, name + ".json")
    with opened() as be:
        body = be.export_project(name, model)
    text = json.dumps(body, ensure_ascii=False, indent=1)
    if str(output) == "-":
        typer.echo(text)
        return
    tmp = output.with_name(f".{output.name}.tmp-{os.getpid()}")  # a whole file or none: written aside, then renamed
    try:
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(output)) from None
    err().print(f"exported {len(body['assets']['documents']):,} documents of {name} to {output}", markup=False)


class Dataset(str, Enum):
    train = "train"
    test = "test"
    none = "none"


SNIPPET = 80  # characters of each text in the table (--json prints them whole)


@handle_errors
def documents(
    name: str = typer.Argument(..., metavar="NAME", help="Project."),
    dataset: Dataset = typer.Option(None, "--dataset", help="Only documents in this set (none: in neither set)."),
    label: str = typer.Option(None, "--class", metavar="CLASS", help="Only documents tagged with this class."),
    tagged: bool = typer.Option(None, "--tagged/--untagged", help="Only tagged, or only untagged, documents (default: both)."),
    search: str = typer.Option(None, "--search", metavar="TEXT", callback=search_option, help="Only documents whose text or location contains TEXT."),
    top: int = typer.Option(50, "--top", min=0, help="Show at most this many (0: all of them)."),
    skip: int = typer.Option(0, "--skip", min=0, help="Pass over this many matching documents first."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line, with the whole text, instead of a table."),
) -> None:
    """List a project's documents with their set, class(es) and text.

    Documents come in the order they were added; the table cuts each text, --json does not.

    \b
    Example:
      tagwise project documents banking --untagged
      tagwise project documents banking --dataset test --class card_arrival --json > test.jsonl
    """
    with opened() as be:
        # one more than shown, to say whether there are more
        found = be.list_documents(name, dataset=dataset.value if dataset else None, label=label, search=search, skip=skip,
                                  untagged=None if tagged is None else not tagged, top=top + 1 if top else None)
    more = bool(top) and len(found) > top
    shown = found[:top] if top else found
    if as_json:
        for doc in shown:
            typer.echo(json.dumps(doc, ensure_ascii=False))
    elif shown:
        table = Table("location", "set", "class", "text", box=None)
        for doc in shown:
            labels = [c["category"] for c in doc.get("classes", [])] if "classes" in doc else \
                [doc["class"]["category"]] if "class" in doc else []
            text = " ".join(doc["text"].split())
            # as strings: out() reads no markup (a document's "[b]" is its own) and shows control characters as escapes
            table.add_row(doc["location"], doc.get("dataset", "-"), ", ".join(labels) if doc["tagged"] else "(untagged)",
                          text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…")
        out().print(table)
    if not shown:
        err().print(f"no documents in {name} match" if (dataset or label or tagged is not None or search or skip) else
                    f"{name} has no documents yet; add some with: tagwise import {name} FILE", markup=False)
    elif more:
        err().print(f"showing {skip + 1:,}-{skip + len(shown):,}; more with --skip {skip + len(shown)}", markup=False)
