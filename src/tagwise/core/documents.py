"""Project files: import (all or nothing) and export (round-trips), in Azure's format."""

from __future__ import annotations

import logging
from typing import Any

from tagwise.core import jobs
from tagwise.core.context import Context
from tagwise.core.projects import check_quota, describe, new_project_values, require
from tagwise.core.schema import how_twins_differ, same_but_case
from tagwise.core.timefmt import iso
from tagwise.core.validation import (
    LANGUAGE_RULE,
    MAX_SEARCH_CHARACTERS,
    MULTI,
    check_class_name,
    check_drawn_as_written,
    check_kind,
    check_location,
    check_name,
    check_text,
    class_form,
    its_classes,
    language_code,
    listed,
    project_kind,
    shown,
)
from tagwise.errors import Conflict, InvalidArgument, InvalidRequest, NotFound, ProjectNotFound
from tagwise.storage import document_records as docs_db
from tagwise.storage import records
from tagwise.storage.document_records import DocumentFilter, ids_digest
from tagwise.storage.records import utcnow

log = logging.getLogger(__name__)

PROJECT_FILE_VERSION = "2022-05-01"


def import_project(ctx: Context, name: str, body: Any, *, append: bool = False) -> dict[str, int]:
    """Validate the whole project file, then replace the project's data in ONE transaction.

    Nothing is written unless every document is valid. Returns counts for the job's result:
    ``documents`` in the file, ``classes`` and ``projectDocuments`` of the project after it.
    ``append`` (tagwise's own): keep the project's documents and classes; a document of the file
    replaces the one at its location, the others are added, and the answer also counts
    ``replacedDocuments`` and ``tagsRemoved`` (replaced tagged documents the file has untagged).
    ``tagwise import --append`` sent the whole project back instead (75.8 s to add 1,000 documents
    to 300,000).
    """
    check_name(name, "project")  # the name becomes a folder of the model store: no '..', no '/'
    if append:  # first: a file's own mistakes (its projectName) were reported for a project that is not there
        with ctx.db.read() as conn:
            if records.get_project(conn, name) is None:
                raise _nothing_to_append_to(name)
    if not isinstance(body, dict):
        raise InvalidArgument("The import body must be a JSON project file with 'metadata' and 'assets'.")
    metadata = body.get("metadata")
    assets = body.get("assets")
    for field, value in (("metadata", metadata), ("assets", assets)):
        if not isinstance(value, dict):
            raise InvalidArgument(f"The project file needs a 'metadata' object and an 'assets' object; its '{field}' is "
                                  f"{_json_type(value) if field in body else 'missing'}.", target=field)
    index_type = body.get("stringIndexType")  # as the export and evaluation routes' query: a file counting offsets otherwise
    if index_type is not None and (not isinstance(index_type, str) or index_type.casefold() != "utf16codeunit"):
        raise InvalidArgument(f"stringIndexType {shown(index_type)} is not supported: use Utf16CodeUnit, or leave it out "
                              "(tagwise's project files carry no text offsets).", target="stringIndexType")
    if metadata.get("projectName") not in (None, name):
        raise InvalidArgument(
            f"metadata.projectName {shown(metadata['projectName'])} differs from {name!r} in the URL.", target="projectName"
        )
    kind = check_kind(assets.get("projectKind") or metadata.get("projectKind"))
    if metadata.get("projectKind") is not None and project_kind(metadata["projectKind"]) != kind:
        raise InvalidArgument("metadata.projectKind and assets.projectKind differ.", target="projectKind")
    classes = _classes(ctx, assets.get("classes"))
    docs = assets.get("documents", [])
    if not isinstance(docs, list):  # null or an object must not read as "no documents": that would erase them all
        raise InvalidArgument(f"assets.documents must be a list of documents, not {_json_type(docs)}; an empty list "
                              "removes every document of the project.", target="documents")
    container = metadata.get("storageInputContainerName")
    if container is not None and not isinstance(container, str):
        raise InvalidArgument(f"metadata.storageInputContainerName must be a string, not {_json_type(container)}.",
                              target="storageInputContainerName")

    with ctx.db.write() as conn:
        project = records.get_project(conn, name, lock=True)  # a training started at once: one of the two gets the 409
        if project is not None and project["kind"] != kind:  # before the documents: their errors would assume the file's kind
            raise InvalidArgument(f"The project {name} is {project['kind']}; the file is {kind}. Import it into a new project.",
                                  target="projectKind")  # 400, as a PATCH that changes the kind (the SDKs raised another error)
        if project is not None and not append and (job := jobs.training_of(conn, project)):
            # the training reads the documents when it starts: a file imported meanwhile was what it trained on (12
            # documents instead of 300), or an empty one failed it
            raise Conflict(f"The project {name} is training (job {job['id']}), and an import replaces its documents: wait for the "
                           "training to end, or cancel it, then import.")
        if append and project is None:  # deleted since the check above
            raise _nothing_to_append_to(name)
        if append:
            check_no_lookalikes(project["classes"], classes)
            for category in classes:
                if category not in project["classes"]:
                    check_drawn_as_written(category, "class")
            classes = list(dict.fromkeys([*project["classes"], *classes]))
            if len(classes) > ctx.settings.max_classes:
                raise InvalidArgument(f"With these classes the project would have {len(classes)}; the limit is "
                                      f"{ctx.settings.max_classes}.", target="classes")
        meta = dict(metadata, projectKind=kind)
        container = meta.get("storageInputContainerName") or (project or {}).get("storage_container") or name
        meta.setdefault("storageInputContainerName", container)
        # the project's language in its usual spelling (EN -> en): "EN" and "en" were two languages in the evaluation's
        # table and the export; a document without one follows the project's (``_document_rows``)
        given = meta.get("language")
        meta.setdefault("language", (language_code(given) if isinstance(given, str) else None) or (project or {}).get("language") or "en")
        rows = _document_rows(ctx, conn, docs, kind, set(classes), container)
        now = utcnow()
        if project is None:
            check_quota(ctx, conn)
            values = new_project_values(ctx, conn, name, meta, classes=classes)
            values.update(classes=classes, created_at=now, modified_at=now)
            project_id = records.insert_project(conn, values)
        else:
            values = new_project_values(ctx, conn, name, dict(describe(project), **meta), kept_language=project["language"],
                                        kept_description=project["description"],
                                        classes=classes)
            for key in ("name", "kind"):
                values.pop(key)
            values.update(classes=classes, modified_at=now)
            project_id = project["id"]
            records.update_project(conn, project_id, values)
        counts: dict[str, int] = {}
        if append:
            had = docs_db.by_locations(conn, project_id, [r["location"] for r in rows], with_text=False)
            for row in rows:
                if row["location"] not in had:
                    check_drawn_as_written(row["location"], "location")
            # said: a nightly export sent again untagged took the team's tags without a word
            counts = {"replacedDocuments": len(had),
                      "tagsRemoved": sum(1 for r in rows if r["labels"] is None and had.get(r["location"], {}).get("labels") is not None)}
            docs_db.delete_locations(conn, project_id, list(had))
            docs_db.insert_many(conn, project_id, rows)
        else:
            records.replace_documents(conn, project_id, rows)
        total = records.count_documents(conn, project_id)
        replaced = None if append else records.get_project(conn, name)
    if replaced is not None:  # the last tag check showed texts the project no longer has
        from tagwise.core import label_issues

        label_issues.forget(ctx, replaced)
    return {"documents": len(rows), "classes": len(classes), "projectDocuments": total, **counts}


def models_note(trained: list[str]) -> str:
    """What deleting documents leaves behind, for the studio and the CLI to say: the models trained
    on them lose the texts from their snapshots, not what they learned."""
    if len(trained) == 1:
        return (f"The model {trained[0]} was trained on them and keeps what it learned from them (a linear model keeps their "
                "words): delete or retrain it to forget them.")
    return (f"The models {listed(trained, 10, 'more')} were trained on them and keep what they learned from them (a linear "
            "model keeps their words): delete or retrain those models to forget them.")


def check_still_matching(ids: list[int], matching: str | None) -> None:
    """A change to "all N matching" documents from a list shown earlier (``matching``: the digest of
    its ids, ``document_records.ids_digest``): refused when other documents match now (a stale page's
    "Delete all 450 matching" deleted 490, with 40 tickets imported since that nobody had seen; with
    as many deleted as added, the count alone would not tell). None: no list to compare with (a caller
    that showed none)."""
    if matching is not None and ids_digest(ids) != matching:
        shown = matching.partition(":")[0]
        what = ("this page does not say which documents it listed (it is older than the server)" if not (shown.isascii() and shown.isdigit()) else
                f"{len(ids):,} documents match the list's filters now, not the {int(shown):,} the page showed" if len(ids) != int(shown) else
                f"other documents match the list's filters now than the {int(shown):,} the page showed")
        raise Conflict(f"Nothing was changed: {what}: documents were added, changed or deleted since it was opened. Look at the list "
                       "again and repeat.")


def chosen_ids(conn: Any, project_id: int, ids: list[int] | None, flt: DocumentFilter | None, matching: str | None) -> list[int]:
    """The documents a bulk change acts on: ``ids``, or every document matching ``flt`` while they are
    still the list the user saw (:func:`check_still_matching`)."""
    if ids is not None:
        return ids
    found = docs_db.matching_ids(conn, project_id, flt or DocumentFilter())
    check_still_matching(found, matching)
    return found


def delete_documents(ctx: Context, name: str, *, locations: list[str] | None = None, ids: list[int] | None = None,
                     flt: DocumentFilter | None = None, matching: str | None = None) -> dict[str, Any]:
    """Delete documents for good: those at ``locations`` (all of them, or none when one is not in
    the project), with ``ids``, or matching ``flt``. Their texts also leave the snapshots of the
    models trained on them (an export of such a model gave them back), the embedding cache and the
    last tag check; the models themselves keep what they learned from them (a ``linear`` model's
    vocabulary has their words): ``modelsTrainedOnThem`` names them, to delete or retrain.
    ``matching``: with ``flt``, the list the user saw (:func:`check_still_matching`).
    Tagwise had no way to delete a document: only a whole project's replacement."""
    with ctx.db.write() as conn:
        project = require(conn, name, lock=True)
        if locations is not None:
            found = docs_db.by_locations(conn, project["id"], locations, with_text=False)
            if missing := [location for location in dict.fromkeys(locations) if location not in found]:
                raise NotFound(f"The project {name} has no document at {listed([shown(m) for m in missing], 5)}; nothing was "
                               "deleted.", target="locations")
            ids = [doc["id"] for doc in found.values()]
        gone = docs_db.delete_ids(conn, project["id"], chosen_ids(conn, project["id"], ids, flt, matching))
        trained_on = records.remove_from_snapshots(conn, project["id"], {location for location, _ in gone}) if gone else []
        records.update_project(conn, project["id"], {"modified_at": utcnow()})
    if gone:
        from tagwise.core import label_issues
        from tagwise.ml.embedding_cache import forget

        label_issues.forget(ctx, project)
        try:
            forget(ctx.settings.project_cache_dir(name), [text for _, text in gone])
        except OSError as exc:  # the documents are deleted (committed): the cache is the next training's to shrink
            log.warning("deleted %d documents of %s, but not their vectors in the embedding cache: %s", len(gone), name, exc)
    return {"deleted": len(gone), "modelsTrainedOnThem": trained_on}


def check_no_lookalikes(project_classes: list[str], adding: list[str]) -> None:
    """Refuse, as the studio's upload does, an appended class that looks like one the project has (or
    another one this file adds): other capitals, another width, an invisible character ("CARD_ARRIVAL"
    beside "card_arrival" was a second class, the same one to a reader and two to the model). A
    replacing import takes an Azure project file's classes as they are, as Azure does; ``tagwise
    import`` checks the classes of a CSV, JSONL or folder with this too."""
    known = list(project_classes)
    for label in adding:
        if label in known:
            continue
        if twin := same_but_case(known, label):
            whose = "the project's" if twin in project_classes else "this file's"
            raise InvalidArgument(f"The class {label!r} differs from {whose} {twin!r} only in {how_twins_differ(twin, label)}; "
                                  f"write it {twin!r} (classes that look the same are one class to a reader, and two to the model).",
                                  target="classes")
        known.append(label)


def _nothing_to_append_to(name: str) -> ProjectNotFound:
    return ProjectNotFound(f"The project {name} could not be found: create it, or import a project file to create it.",
                           target="projectName")


def _classes(ctx: Context, raw: Any) -> list[str]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise InvalidArgument("assets.classes must be a list of {\"category\": ...} objects.", target="classes")
    if len(raw) > ctx.settings.max_classes:  # before any per-class work: a list can be long
        raise InvalidArgument(f"The project has {len(raw)} classes; the limit is {ctx.settings.max_classes}.", target="classes")
    names: dict[str, None] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or "category" not in item:
            raise InvalidArgument(f"assets.classes[{index}] must be an object with the class name, {{\"category\": \"...\"}}, "
                                  f"not {shown(item)}.", target="classes")
        category = check_class_name(item["category"])
        if category in names:
            raise InvalidArgument(f"The class {shown(category)} is listed twice in assets.classes (spellings that differ only in "
                                  "how an accent is encoded count as one).", target="classes")
        names[category] = None
    return list(names)


def _document_rows(ctx, conn, docs, kind, classes, container) -> list[dict[str, Any]]:
    locations: list[str] = []
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            raise InvalidRequest(f"assets.documents[{index}] must be an object.", inner_code="InvalidDocument")
        locations.append(check_location(doc.get("location")))
    seen: set[str] = set()
    for location in locations:
        if location in seen:
            raise InvalidRequest(f"The document location {shown(location)} appears twice.", inner_code="InvalidDocument", target=location)
        seen.add(location)
    need_blobs = [loc for doc, loc in zip(docs, locations, strict=True) if doc.get("text") is None]
    blob_texts = records.get_blobs(conn, container, need_blobs) if need_blobs else {}
    rows = []
    for doc, location in zip(docs, locations, strict=True):
        text = doc.get("text")
        if text is None:
            text = blob_texts.get(location)
            if text is None:
                raise InvalidRequest(
                    f"The document {shown(location)} has no inline 'text' and no blob {shown(location)} in container {shown(container)}. "
                    "Add a 'text' field or upload it with PUT /language/tagwise/containers/{container}/blobs/{location}.",
                    inner_code="InvalidDocument",
                    target=location,
                )
        check_text(text, location, ctx.settings.max_document_characters)
        rows.append(
            {
                "location": location,
                "text": text,
                # none declared: none stored, so the document follows the project's language, also once it changes (stamped
                # with it, a project made "en" by default and set to "de" later read 2,173 German texts as declaring English)
                "language": document_language(doc.get("language"), location),
                "dataset": _dataset(doc.get("dataset"), location),
                "labels": _labels(doc, kind, classes, location),
            }
        )
    return rows


def _dataset(value: Any, location: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.lower() in ("train", "test"):
        return value.capitalize()
    raise InvalidRequest(f"The document {shown(location)} has dataset {shown(value)}; use 'Train' or 'Test'.", inner_code="InvalidDocument", target=location)


def check_model_export(ctx: Context, name: str, model_label: str) -> None:
    """That ``export_project(ctx, name, model_label)`` has what it needs, without reading it."""
    with ctx.db.read() as conn:
        project = records.get_project(conn, name)
        if project is None:
            raise ProjectNotFound(f"The project {name} could not be found.")
        _model_snapshot(conn, project, model_label, data=False)


def _model_snapshot(conn, project: dict[str, Any], label: str, *, data: bool = True) -> Any:
    """What the label's model was trained and tested on (``data=False``: only that it was kept, True);
    else NotFound (no such model) / InvalidArgument (trained before models kept it)."""
    model = records.get_model_ref(conn, project["id"], label)
    if model is None:
        raise NotFound(f"The trained model {label} could not be found in project {project['name']}.", target="trainedModelLabel")
    read = records.get_model_snapshot if data else records.has_model_snapshot
    kept = read(conn, project["id"], label, model["model_id"])
    if not kept:
        raise InvalidArgument(f"The model {label} was trained by an older tagwise, which did not keep the documents a "
                              "model was trained on: export without trainedModelLabel for the project's current documents, "
                              "or train the model again.", target="trainedModelLabel")
    return kept


def document_language(value: Any, location: str) -> str | None:
    """A document's own language in its usual spelling (``DE`` -> ``de``, ``zh-hans`` -> ``zh-Hans``;
    None or "": the project's), or InvalidRequest naming the document. Any short text was taken
    before, so a label shifted into a CSV's language column ("sadness") was stored as a language,
    and enough of them switched the project to the multilingual encoder."""
    if value is None or value == "":
        return None
    code = language_code(value) if isinstance(value, str) else None
    if code is None:
        raise InvalidRequest(f"The document {shown(location)} has language {shown(value)}: {LANGUAGE_RULE}; or leave it out "
                             "to use the project's.", inner_code="InvalidDocument", target=location)
    return code


def _labels(doc: dict[str, Any], kind: str, classes: set[str], location: str) -> list[str] | None:
    """None = not tagged yet; [] = tagged with no class (multi-label only)."""
    key, other = ("classes", "class") if kind == MULTI else ("class", "classes")
    if doc.get(key) is None and doc.get(other) not in (None, []):  # tags under the other kind's key: never drop them
        shape = "'classes': [{'category': ...}, ...]" if kind == MULTI else "'class': {'category': ...}"
        raise InvalidRequest(f"The document {shown(location)} is tagged with '{other}', but the project is "
                             f"{'multi' if kind == MULTI else 'single'}-label: use {shape}.",
                             inner_code="InvalidDocument", target=location)
    raw = doc.get(key)
    if raw is None:
        return None
    if kind == MULTI:
        if not isinstance(raw, list):
            raise InvalidRequest(f"The document {shown(location)}: 'classes' must be a list.", inner_code="InvalidDocument", target=location)
        labels = [item.get("category") if isinstance(item, dict) else item for item in raw]
    else:
        labels = [raw.get("category") if isinstance(raw, dict) else raw]
    for label in labels:
        if not isinstance(label, str):
            shape = "[{'category': 'name'}, ...]" if kind == MULTI else "{'category': 'name'}"
            raise InvalidRequest(f"The document {shown(location)} has the tag {shown(label)}; a tag is a class name, "
                                 f"written '{key}': {shape}.", inner_code="InvalidDocument", target=location)
    labels = [class_form(label) for label in labels]
    for label in labels:
        if label not in classes:
            raise InvalidRequest(
                f"The document {shown(location)} is tagged {shown(label)}, which is not a class of the project "
                f"({listed(sorted(classes), 20) or 'no classes defined'}). Add it to assets.classes or fix the tag.",
                inner_code="InvalidDocument",
                target=location,
            )
    return list(dict.fromkeys(labels))  # each once, in the document's order


def _json_type(value: Any) -> str:
    return {type(None): "null", dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number")


def export_project(ctx: Context, name: str, model_label: str | None = None) -> dict[str, Any]:
    """The project file; includes each document's inline ``text`` so it re-imports anywhere. With
    ``model_label``: the classes and documents that model was trained and tested on (each
    document's ``dataset`` the set its split put it in), not the project's current ones."""
    with ctx.db.read() as conn:
        project = records.get_project(conn, name)
        if project is None:
            raise ProjectNotFound(f"The project {name} could not be found.")
        if model_label is None:
            docs, classes = records.list_documents(conn, project["id"]), project["classes"]
        else:
            kept = _model_snapshot(conn, project, model_label)
            docs, classes = kept["documents"], kept["classes"]
    meta = describe(project)
    metadata = {k: meta[k] for k in ("projectKind", "storageInputContainerName", "projectName", "multilingual", "language", "settings")}
    metadata["description"] = project["description"] or ""
    out_docs = [file_document(project, doc) for doc in docs]
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": "Utf16CodeUnit",
        "metadata": metadata,
        "assets": {
            "projectKind": project["kind"],
            "classes": [{"category": c} for c in classes],
            "documents": out_docs,
        },
    }


def file_document(project: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document as a project file has it: ``location``, ``language``, ``dataset`` (absent:
    neither set), ``class`` (single-label) or ``classes`` (multi-label; absent: untagged) and ``text``."""
    item: dict[str, Any] = {"location": doc["location"], "language": doc["language"] or project["language"]}
    if doc["dataset"]:
        item["dataset"] = doc["dataset"]
    if doc["labels"] is not None:
        if project["kind"] == MULTI:
            item["classes"] = [{"category": c} for c in doc["labels"]]
        elif doc["labels"]:
            item["class"] = {"category": doc["labels"][0]}
    item["text"] = doc["text"]
    return item


LIST_DATASETS = {"train": "Train", "test": "Test", "none": "none"}


def list_documents(ctx: Context, name: str, *, dataset: str | None = None, label: str | None = None, tagged: bool | None = None,
                   search: str | None = None, limit: int, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """A page of the project's documents in the order they were added, as :func:`file_document`
    writes them plus ``tagged``; and how many match. Filters: ``dataset`` Train, Test or none
    (in neither set), ``label`` a class of the project, ``tagged``, ``search`` (in text or location)."""
    if search is not None and len(search) > MAX_SEARCH_CHARACTERS:  # 50,000-65,000 were SQLite's "LIKE pattern too complex", a 500
        raise InvalidArgument(f"search is {len(search):,} characters; it takes at most {MAX_SEARCH_CHARACTERS:,} (a few words of the "
                              "text or its location).", target="search")
    wanted = LIST_DATASETS.get(dataset.casefold()) if isinstance(dataset, str) else None
    if dataset is not None and wanted is None:
        raise InvalidArgument(f"The dataset {shown(dataset)} is unknown; use Train, Test or none (documents in neither set).",
                              target="dataset")
    flt = DocumentFilter(search=search or None, status=None if tagged is None else "tagged" if tagged else "untagged",
                         label=None if label is None else class_form(label), dataset=wanted)
    with ctx.db.read() as conn:
        project = require(conn, name)
        if flt.label is not None and flt.label not in project["classes"]:
            raise InvalidArgument(f"The class {shown(label)} is not in project {name}; {its_classes(project['classes'])}", target="class")
        rows, total, _ = docs_db.page(conn, project["id"], flt, limit, offset)
        texts = docs_db.texts(conn, project["id"], [row["id"] for row in rows])
    return [_listed(project, row, texts[row["id"]]) for row in rows], total


def _listed(project: dict[str, Any], row: dict[str, Any], text: str) -> dict[str, Any]:
    """A document as the list gives it: as a project file has it, plus ``tagged``, and ``taggedBy``
    and ``taggedAt`` when it was tagged in the studio (who, by their API key's name, and when)."""
    out = dict(file_document(project, dict(row, text=text)), tagged=row["labels"] is not None)
    if row["labels"] is not None and row.get("tagged_by"):
        out.update(taggedBy=row["tagged_by"], taggedAt=iso(row["tagged_at"]))
    return out
