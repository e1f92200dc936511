"""A project's classes: add, rename (or merge into another), delete, each with every document's tags
in the same transaction; and the checks on class names that the studio's uploads share."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from tagwise.core import label_issues
from tagwise.core.context import Context
from tagwise.core.projects import patched_settings, require
from tagwise.core.validation import MULTI, check_class_name, check_drawn_as_written
from tagwise.errors import Conflict, InvalidArgument, NotFound
from tagwise.storage import document_records as docs_db
from tagwise.storage import records
from tagwise.storage.records import utcnow


def add_class(ctx: Context, project_name: str, name: str) -> None:
    name = check_drawn_as_written(check_class_name((name or "").strip()), "class")
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        if name in project["classes"]:
            raise Conflict(f"The class {name!r} already exists in {project_name}.")
        _check_new_name(project, name)
        classes = [*project["classes"], name]
        check_class_limit(ctx, classes)
        touch(conn, project, classes)


def rename_class(ctx: Context, project_name: str, old: str, new: str, *, merge: bool = False) -> int:
    """Rename a class and every tag that uses it, in one transaction. Returns the documents changed.
    ``merge``: ``new`` is a class the project has, and ``old`` is folded into it (its documents
    tagged ``new``, ``old`` removed with its threshold): a lead with five priorities who wants four
    had to retag each ticket by hand."""
    new = check_class_name((new or "").strip())
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        _require_class(project, old)
        if new == old:
            return 0
        merging = new in project["classes"]
        if merging and not merge:
            raise Conflict(f"The class {new!r} already exists; pick another name, or merge {old!r} into it.")
        if not merging:
            check_drawn_as_written(new, "class")
            _check_new_name(project, new, renaming=old)
        tagged = docs_db.labelled_with(conn, project["id"], old)
        changes = {doc_id: list(dict.fromkeys(new if label == old else label for label in labels)) for doc_id, labels in tagged.items()}
        docs_db.set_labels_many(conn, project["id"], changes)
        docs_db.rename_in_confirmations(conn, project["id"], old, new)  # a tag marked right stays so under its new name
        classes = [c for c in project["classes"] if c != old] if merging else [new if c == old else c for c in project["classes"]]
        touch(conn, project, classes, _class_threshold_moved(project, old, None if merging else new))
    label_issues.renamed(ctx, project, old, new)  # its rows read "retagged since (was old)"
    return len(changes)


def same_but_case(classes: list[str], name: str, renaming: str | None = None) -> str | None:
    """The class of ``classes`` (other than ``renaming``) that is ``name`` in other capitals, if any;
    or in another width or with invisible characters, which look the same too ("ＬＯＧＩＮ" and
    "login", "ﾛｸﾞｲﾝ" and "ログイン", "請求" with a zero-width space: the Tag page showed two "請求")."""
    folded = looks(name)
    return next((c for c in classes if c not in (name, renaming) and looks(c) == folded), None)


def how_twins_differ(twin: str, name: str) -> str:
    """How two names that look the same differ, for a person: "case", "case, width or invisible
    characters", or, in Arabic script, its spelling."""
    if twin.casefold() == name.casefold():
        return "case"
    if _ARABIC.search(twin + name) and _plain_looks(twin) != _plain_looks(name):
        return "Arabic or Hebrew spelling (a hamza, vowel marks or points, a Persian or an Arabic yeh or kaf)"
    return "case, width or invisible characters"


def looks(name: str) -> str:
    """A class name as a reader sees it, or types it: NFKC, case-folded, without invisible (format)
    characters, and in Arabic and Hebrew script without the marks (and hamza forms) typing leaves out,
    with the Persian and the Arabic yeh and kaf as one ("تغییر" and "تغيير" are drawn alike; the studio's search
    already found "إلغاء" by "الغاء").

    >>> looks("ＬＯＧＩＮ") == looks("login") == looks("Log\u200bin"), looks("ﾛｸﾞｲﾝ") == looks("ログイン")
    (True, True)
    >>> looks("تغییر") == looks("تغيير"), looks("إلغاء") == looks("الغاء") == looks("إِلْغَاء"), looks("שָׁלוֹם") == looks("שלום")
    (True, True, True)
    """
    plain = _plain_looks(name)
    return _ARABIC_MARKS.sub("", plain).translate(_ARABIC_LETTERS) if _ARABIC.search(plain) else plain


def _plain_looks(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", name).casefold() if unicodedata.category(c) != "Cf")


_ARABIC = re.compile("[\u0591-\u06ff]")  # and Hebrew
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]")
_ARABIC_LETTERS = str.maketrans({**dict.fromkeys("أإآٱ", "ا"), "ى": "ي", "ی": "ي", "ک": "ك", "ة": "ه"})


def _check_new_name(project: dict[str, Any], name: str, renaming: str | None = None) -> None:
    """A class name the studio refuses although the API takes it: "Joy" next to "joy" (the Tag
    filter ignores case, so typing found both), and in a multi-label project "a|b" (an upload splits
    labels on | and ;, so the class could never come back from a CSV)."""
    if twin := same_but_case(project["classes"], name, renaming):
        raise Conflict(f"The class {twin!r} differs from {name!r} only in {how_twins_differ(twin, name)}: use {twin!r}, or rename it.")
    if project["kind"] == MULTI and (separator := next((s for s in "|;" if s in name), None)):
        raise InvalidArgument(f"A multi-label class name cannot hold {separator!r}: an upload splits several labels on "
                              "'|' and ';'. Use another character, such as '-' or '/'.")


def delete_class(ctx: Context, project_name: str, name: str) -> int:
    """Remove a class; documents left with no class become untagged. Returns the documents changed."""
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        _require_class(project, name)
        tagged = docs_db.labelled_with(conn, project["id"], name)
        changes = {doc_id: ([label for label in labels if label != name] or None) for doc_id, labels in tagged.items()}
        docs_db.set_labels_many(conn, project["id"], changes)
        docs_db.forget_taggers(conn, project["id"], [doc_id for doc_id, labels in changes.items() if labels is None])
        touch(conn, project, [c for c in project["classes"] if c != name], _class_threshold_moved(project, name, None))
    return len(changes)


def move_class(ctx: Context, project_name: str, name: str, position: int) -> tuple[int, int]:
    """Put class ``name`` at ``position`` (1-based; clamped to the list) of the project's classes, the
    order the Tag page lists them in and gives keys 1-9 and 0 to (they followed the order the classes
    were first seen in, so a project's commonest class could have no key). Returns (its position, the
    number of classes)."""
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        _require_class(project, name)
        others = [c for c in project["classes"] if c != name]
        at = min(max(int(position), 1), len(others) + 1)
        touch(conn, project, [*others[:at - 1], name, *others[at - 1:]])
    return at, len(others) + 1


def _require_class(project: dict[str, Any], name: str) -> None:
    if name not in project["classes"]:
        raise NotFound(f"The class {name!r} is not in project {project['name']}.", target="class")


def check_class_limit(ctx: Context, classes: list[str]) -> None:
    if len(classes) > ctx.settings.max_classes:
        raise InvalidArgument(f"A project holds at most {ctx.settings.max_classes} classes; this would make {len(classes)}.")


def served_by_name(ctx: Context, project_name: str, name: str) -> tuple[float | None, list[tuple[str, str, float | None, bool]]]:
    """Before class ``name`` is renamed, merged or deleted: the threshold the project set for it
    (multi-label; None: none set), and each deployment whose model knows ``name``, as (deployment, model
    label, the threshold it answers ``name`` at once the set one is gone: the model's tuned one raised
    to the project's confidence threshold, None single-label; whether that raised it). A deployed model trained before goes
    on answering ``name`` (an earlier model of a label trained again too), and a threshold set for it
    moves with a rename or goes with a deletion: a rename silently changed what production returned."""
    from tagwise.core.deployments import served_model
    from tagwise.ml.persist import read_manifest

    with ctx.db.read() as conn:
        project = require(conn, project_name)
        settings = project["settings"] or {}
        chosen = (settings.get("classThresholds") or {}).get(name) if project["kind"] == MULTI else None
        floor = float(settings.get("confidenceThreshold") or 0.0)
        served = []
        for deployment in records.list_deployments(conn, project["id"]):
            try:  # the model's own classes and tuned thresholds: the label's record may be a model trained since
                manifest = read_manifest(served_model(ctx, conn, project, deployment)[1])
                classes, tuned = list(manifest["classes"]), manifest.get("thresholds")
            except (NotFound, InvalidArgument, KeyError, TypeError):  # gone, or not a model folder: nothing it answers
                continue
            if name in classes:
                own = float(tuned[classes.index(name)]) if tuned else None
                served.append((deployment["name"], deployment["model_label"], None if own is None else max(own, floor),
                               own is not None and floor > own))
    return (None if chosen is None else float(chosen)), served


def _class_threshold_moved(project: dict[str, Any], old: str, new: str | None) -> dict[str, Any] | None:
    """The project's settings with the threshold it set for class ``old`` (``settings.classThresholds``)
    moved to ``new``, or removed (``new`` None: the class is deleted); None when it set none. A stale
    name made the project's export refuse to import again."""
    per_class = (project["settings"] or {}).get("classThresholds") or {}
    if old not in per_class:
        return None
    moved = {old: None} if new is None else {old: None, new: per_class[old]}
    return patched_settings(project["settings"], {"classThresholds": moved})


def touch(conn, project: dict[str, Any], classes: list[str] | None = None, settings: dict[str, Any] | None = None) -> None:
    """Mark the project changed now (its ``lastModifiedDateTime``), with its new ``classes`` or ``settings``."""
    values: dict[str, Any] = {"modified_at": utcnow()}
    if classes is not None:
        values["classes"] = classes
    if settings is not None:
        values["settings"] = settings
    records.update_project(conn, project["id"], values)
