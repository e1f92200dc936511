"""Document queries for the studio's services: filtered pages, counts, bulk tag and dataset changes.

SQLAlchemy Core on the ``documents`` table, taking an open Connection; nothing here commits.
Filtering, counting and paging happen in SQL so a page of a 10,000-document project costs a
few milliseconds. ``labels`` is a JSON column: a list of class names, or JSON ``null`` for a
document nobody has tagged yet (``[]`` is "tagged with no class", multi-label only). Looking
inside it needs the dialect's JSON functions (SQLite ``json_each``, PostgreSQL ``jsonb``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement

from tagwise.storage.db import ACCENTED_LATIN, COMBINING_ACCENTS, PLAIN_LATIN, ascii_only, fold, searchable, strip_accents
from tagwise.storage.tables import documents, tag_confirmations, tag_leases

_CHUNK = 500
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class DocumentFilter:
    """Which documents of a project a list, a bulk change or a tagging session is about.

    ``status``: ``"untagged"``, ``"tagged"``, ``"noclass"`` (tagged with no class), ``"kept"`` (tags marked right
    against the tag check) or None (all); ``dataset``: ``"Train"``, ``"Test"``,
    ``"none"`` (unassigned) or None; ``label``: documents tagged with this class;
    ``locations``: only these locations (e.g. the mispredicted ones of an evaluation).
    """

    search: str | None = None
    status: str | None = None
    label: str | None = None
    dataset: str | None = None
    locations: tuple[str, ...] | None = None
    tagged_by: str | None = None  # documents this person (their key's name) tagged in the studio


def untagged_clause() -> ColumnElement[bool]:
    # SQLAlchemy writes Python None into a JSON column as the JSON text 'null', not SQL NULL.
    return or_(documents.c.labels.is_(None), cast(documents.c.labels, String) == "null")


def has_label_clause(conn: Connection, label: str) -> ColumnElement[bool]:
    if conn.dialect.name == "postgresql":
        return text("(CAST(documents.labels AS jsonb) @> jsonb_build_array(CAST(:has_label AS text)))").bindparams(has_label=label)
    return text("EXISTS (SELECT 1 FROM json_each(documents.labels) AS je WHERE je.value = :has_label)").bindparams(has_label=label)


def _where(conn: Connection, project_id: int, flt: DocumentFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [documents.c.project_id == project_id]
    if flt.search and "\x00" in flt.search:  # no text holds one (imports refuse it); SQLite's LIKE stopped at it and matched all
        clauses.append(false())
    elif flt.search:
        # folded before escaping: NFKC turns a full-width ％ into %; a typographic quote typed is the straight one
        search = fold(flt.search).translate(_PLAIN_QUOTES)
        pattern = "%" + _escaped(search) + "%"
        # a plain ASCII text has no search_text: LIKE (SQLite: ASCII case) and ILIKE ignore its case
        in_text, location = func.coalesce(documents.c.search_text, documents.c.text), documents.c.location
        if any(c in search for c in "'\""):
            # "n'est" finds the "n’est" Outlook and Word write: the quotes of the text and location are
            # made straight for this search only (nothing stored changes; searches without one cost nothing more)
            in_text, location = _plain_quotes(in_text), _plain_quotes(location)
        if conn.dialect.name == "postgresql":
            in_location = _unaccented(location).ilike("%" + _escaped(strip_accents(flt.search).translate(_PLAIN_QUOTES)) + "%", escape="\\")
            clauses.append(or_(in_text.ilike(pattern, escape="\\"), in_location))
        else:
            clauses.append(or_(in_text.like(pattern, escape="\\"), _sqlite_contains(conn, location, pattern)))
    if flt.status == "untagged":
        clauses.append(untagged_clause())
    elif flt.status == "tagged":
        clauses.append(not_(untagged_clause()))
    elif flt.status == "noclass":  # multi-label: tagged with no class (the JSON text '[]', on both backends)
        clauses.append(cast(documents.c.labels, String) == "[]")
    elif flt.status == "kept":  # tags someone marked right against the tag check, still the document's
        clauses.append(exists().where(tag_confirmations.c.document_id == documents.c.id, _mark_holds()))
    if flt.label:
        clauses.append(has_label_clause(conn, flt.label))
    if flt.tagged_by:
        clauses.append(documents.c.tagged_by == flt.tagged_by)
    if flt.dataset == "none":
        clauses.append(documents.c.dataset.is_(None))
    elif flt.dataset:
        clauses.append(documents.c.dataset == flt.dataset)
    if flt.locations is not None:
        clauses.append(documents.c.location.in_(list(flt.locations)) if flt.locations else text("1 = 0"))
    return clauses


def _escaped(search: str) -> str:
    return search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# apostrophes and double quotes, typographic -> straight: one of each to a search (the query in Python, the column in SQL)
_QUOTE_FORMS = {**dict.fromkeys("\u2018\u2019\u02bc\u201b", "'"), **dict.fromkeys("\u201c\u201d\u201e", '"')}
_PLAIN_QUOTES = str.maketrans(_QUOTE_FORMS)


def _plain_quotes(column: ColumnElement[str]) -> ColumnElement[str]:
    """SQL: ``column`` with its typographic apostrophes and double quotes made straight."""
    for typographic, straight in _QUOTE_FORMS.items():
        column = func.replace(column, typographic, straight)
    return column


def _sqlite_contains(conn: Connection, column: ColumnElement[str], pattern: str) -> ColumnElement[bool]:
    """``column`` folded matches ``pattern`` (already folded). Folding ASCII text changes nothing that
    SQLite's LIKE does not already ignore (ASCII case), so only a text holding other characters (its
    bytes outnumber its characters) goes through ``tagwise_fold``: a Python call for every row made
    each scan of a search 1.5 to 2.5 times slower (300,000 documents)."""
    return case((ascii_only(conn, column), column.like(pattern, escape="\\")),
                else_=func.tagwise_fold(column).like(pattern, escape="\\"))


def _unaccented(column: ColumnElement[str]) -> ColumnElement[str]:
    """PostgreSQL: ``column`` (a location: short, and stored once) with the accents on its Latin letters
    taken off, ``strip_accents``'s rule without the ``unaccent`` extension: precomposed letters mapped
    to their ASCII letter, combining accents deleted."""
    return func.translate(column, ACCENTED_LATIN + COMBINING_ACCENTS, PLAIN_LATIN)


def _summary_columns() -> list[Any]:
    return [documents.c.id, documents.c.location, documents.c.dataset, documents.c.labels, documents.c.language,
            documents.c.tagged_by, documents.c.tagged_at,
            func.substr(documents.c.text, 1, SNIPPET_CHARS).label("snippet"), func.length(documents.c.text).label("length")]


ID_MIX, ID_MOD = 2_654_435_761, 2**32  # Knuth's multiplicative hash of an id, for ``ids_digest``


def ids_digest(ids: Iterable[int]) -> str:
    """What tells one set of documents from another: ``"<count>:<sum of ids>:<sum of their hashes>"``
    (as :func:`page` computes it in SQL; a list the page showed, against the one matching now)."""
    ids = list(ids)
    return _digest(len(ids), sum(ids), sum(i * ID_MIX % ID_MOD for i in ids))


def _digest(count: int, id_sum: int, id_mix: int) -> str:
    return f"{count}:{int(id_sum)}:{int(id_mix)}"


def page(conn: Connection, project_id: int, flt: DocumentFilter, limit: int, offset: int) -> tuple[list[dict[str, Any]], int, str]:
    """One page of matching documents (id order) without their full text, the number matching, and
    the digest of their ids (:func:`ids_digest`: what tells a list shown earlier from the one matching now)."""
    where = and_(*_where(conn, project_id, flt))
    mixed = func.coalesce(func.sum(cast(documents.c.id, BigInteger) * literal(ID_MIX, BigInteger) % literal(ID_MOD, BigInteger)), 0)
    total, id_sum, id_mix = conn.execute(select(func.count(), func.coalesce(func.sum(documents.c.id), 0), mixed)
                                         .select_from(documents).where(where)).one()
    digest = _digest(total, id_sum, id_mix)
    if offset >= total:  # nothing to list (a search that found nothing would scan every text again)
        return [], total, digest
    query = select(*_summary_columns()).where(where).order_by(documents.c.id).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(query)], total, digest


def matching_after(conn: Connection, project_id: int, flt: DocumentFilter, after: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` matching documents, whole (their text too), whose ids follow ``after``, in id
    order: the pages of a download, each read on its own (no offset to count past, nothing held)."""
    query = (select(*READ_COLUMNS).where(*_where(conn, project_id, flt), documents.c.id > after)
             .order_by(documents.c.id).limit(limit))
    return [dict(r._mapping) for r in conn.execute(query)]


def matching_ids(conn: Connection, project_id: int, flt: DocumentFilter) -> list[int]:
    query = select(documents.c.id).where(*_where(conn, project_id, flt)).order_by(documents.c.id)
    return list(conn.execute(query).scalars())


def neighbour(conn: Connection, project_id: int, flt: DocumentFilter, doc_id: int, *, after: bool) -> int | None:
    """The id of the next (``after``) or previous matching document in id order."""
    order = documents.c.id if after else documents.c.id.desc()
    step = documents.c.id > doc_id if after else documents.c.id < doc_id
    query = select(documents.c.id).where(*_where(conn, project_id, flt), step).order_by(order).limit(1)
    return conn.execute(query).scalar_one_or_none()


def get(conn: Connection, project_id: int, doc_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """One document; ``lock``: held until the transaction ends (PostgreSQL ``FOR UPDATE``: a check of its
    tags, then their change, runs one request at a time; SQLite's single writer already does that)."""
    query = select(*READ_COLUMNS).where(documents.c.project_id == project_id, documents.c.id == doc_id)
    row = conn.execute(query.with_for_update() if lock and conn.dialect.name == "postgresql" else query).first()
    return dict(row._mapping) if row else None


def _chunks(values: Sequence[Any]) -> Iterator[list[Any]]:
    """``values`` in lists of at most ``_CHUNK``, for ``IN (...)`` clauses the databases take."""
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


def by_locations(conn: Connection, project_id: int, locations: Sequence[str], *, with_text: bool = True) -> dict[str, dict[str, Any]]:
    columns = [documents] if with_text else _summary_columns()
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(locations):
        query = select(*columns).where(documents.c.project_id == project_id, documents.c.location.in_(chunk))
        found.update({r.location: dict(r._mapping) for r in conn.execute(query)})
    return found


def existing_locations(conn: Connection, project_id: int, locations: Sequence[str]) -> set[str]:
    return set(by_locations(conn, project_id, locations, with_text=False))


def texts_present(conn: Connection, project_id: int, texts: Collection[str]) -> set[str]:
    """Those of ``texts`` some document of the project has, exactly: one pass over the project's
    texts (streamed, only the matches kept), as no index covers the text."""
    wanted = set(texts)
    found: set[str] = set()
    query = select(documents.c.text).where(documents.c.project_id == project_id).execution_options(yield_per=2_000)
    for (body,) in conn.execute(query):
        if body in wanted:
            found.add(body)
    return found


def locations_with_prefix(conn: Connection, project_id: int, prefix: str) -> int:
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    query = select(func.count()).select_from(documents).where(documents.c.project_id == project_id,
                                                             documents.c.location.like(pattern, escape="\\"))
    return conn.execute(query).scalar_one()


def delete_locations(conn: Connection, project_id: int, locations: Sequence[str]) -> None:
    """Delete the project's documents at these locations (those it has)."""
    for chunk in _chunks(locations):
        conn.execute(delete(documents).where(documents.c.project_id == project_id, documents.c.location.in_(chunk)))


def delete_ids(conn: Connection, project_id: int, ids: Sequence[int]) -> list[tuple[str, str]]:
    """Delete the project's documents with these ids; returns the (location, text) of those it had."""
    gone: list[tuple[str, str]] = []
    for chunk in _chunks(list(ids)):
        where = (documents.c.project_id == project_id, documents.c.id.in_(chunk))
        gone += [(r.location, r.text) for r in conn.execute(select(documents.c.location, documents.c.text).where(*where))]
        conn.execute(delete(documents).where(*where))
    return gone


def insert_many(conn: Connection, project_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Append documents (``location``, ``text``, ``language``, ``dataset``, ``labels``)."""
    if rows:
        conn.execute(insert(documents), stored_rows(project_id, rows))


def stored_rows(project_id: int, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` as the ``documents`` table holds them: with their project and their ``search_text``."""
    return [dict(r, project_id=project_id, search_text=searchable(r["text"])) for r in rows]


# what a document read back holds: search_text is the search's, not the caller's
READ_COLUMNS = tuple(c for c in documents.c if c.name != "search_text")


def set_labels(conn: Connection, project_id: int, doc_id: int, labels: list[str] | None, by: str | None = None,
               at: datetime | None = None) -> None:
    """Tag one document; ``by`` and ``at``: who tagged it and when (None: nobody, as an untagging leaves it)."""
    stmt = update(documents).where(documents.c.project_id == project_id, documents.c.id == doc_id)
    conn.execute(stmt.values(labels=labels, tagged_by=by, tagged_at=at))


def forget_taggers(conn: Connection, project_id: int, ids: Sequence[int]) -> None:
    """These documents are untagged now (their one class deleted): nobody's tag."""
    for chunk in _chunks(list(ids)):
        conn.execute(update(documents).where(documents.c.project_id == project_id, documents.c.id.in_(chunk))
                     .values(tagged_by=None, tagged_at=None))


def taggers(conn: Connection, project_id: int) -> list[str]:
    """The names that tagged some document of the project in the studio, alphabetically."""
    query = select(documents.c.tagged_by).where(documents.c.project_id == project_id, documents.c.tagged_by.is_not(None)).distinct()
    return sorted(conn.execute(query).scalars(), key=str.casefold)


def set_labels_many(conn: Connection, project_id: int, changes: dict[int, list[str] | None]) -> None:
    if not changes:
        return
    stmt = (update(documents).where(documents.c.project_id == project_id, documents.c.id == bindparam("doc_id"))
            .values(labels=bindparam("new_labels")))
    conn.execute(stmt, [{"doc_id": k, "new_labels": v} for k, v in changes.items()])


def set_dataset(conn: Connection, project_id: int, ids: Iterable[int], dataset: str | None) -> int:
    changed = 0
    for chunk in _chunks(list(ids)):
        stmt = update(documents).where(documents.c.project_id == project_id, documents.c.id.in_(chunk)).values(dataset=dataset)
        changed += conn.execute(stmt).rowcount
    return changed


def labelled_with(conn: Connection, project_id: int, label: str) -> dict[int, list[str]]:
    """id -> labels of every document tagged with ``label``."""
    query = select(documents.c.id, documents.c.labels).where(documents.c.project_id == project_id, has_label_clause(conn, label))
    return {r.id: list(r.labels) for r in conn.execute(query)}


def status_counts(conn: Connection, project_id: int) -> dict[tuple[bool, str | None], int]:
    """(tagged, dataset) -> number of documents (only the pairs that have some)."""
    # grouped by dataset alone, the rows come in the order of ix_documents_dataset (no sort of every row)
    untagged = func.sum(case((untagged_clause(), 1), else_=0))
    query = select(documents.c.dataset, func.count(), untagged).where(documents.c.project_id == project_id).group_by(documents.c.dataset)
    counts: dict[tuple[bool, str | None], int] = {}
    for dataset, total, without in conn.execute(query):
        counts.update({key: n for key, n in (((True, dataset), total - without), ((False, dataset), without)) if n})
    return counts


NO_CLASS = ""  # class_counts' key for documents tagged with no class (multi-label); no class can be named ""


def class_counts(conn: Connection, project_id: int) -> dict[tuple[str, str | None], int]:
    """(class, dataset) -> number of documents tagged with the class; (``NO_CLASS``, dataset) -> those
    tagged with no class at all (multi-label's ``[]``)."""
    # Grouped by the stored JSON text, the database answers one row per distinct list of classes and
    # dataset (a few hundred in a single-label project), split here: faster than expanding every
    # document's list in SQL (SQLite json_each with 100,000 tagged documents: 1.6 times; PostgreSQL
    # jsonb_array_elements_text, 300,000 documents: 2.7 times), and one query for both backends.
    stored = cast(documents.c.labels, String)
    query = (select(stored, documents.c.dataset, func.count())
             .where(documents.c.project_id == project_id, not_(untagged_clause())).group_by(stored, documents.c.dataset))
    counts: Counter[tuple[str, str | None]] = Counter()
    for raw, dataset, n in conn.execute(query):
        labels = json.loads(raw)
        if labels == []:
            counts[(NO_CLASS, dataset)] += n
        for label in labels if isinstance(labels, list) else ():
            counts[(label, dataset)] += n
    return dict(counts)


def tagged_rows(conn: Connection, project_id: int, *, with_text: bool) -> list[dict[str, Any]]:
    """Every tagged document (id order): id, location, dataset, labels, language (None: the project's), and text if asked."""
    columns = [documents.c.id, documents.c.location, documents.c.dataset, documents.c.labels, documents.c.language]
    if with_text:
        columns.append(documents.c.text)
    query = select(*columns).where(documents.c.project_id == project_id, not_(untagged_clause())).order_by(documents.c.id)
    return [dict(r._mapping) for r in conn.execute(query)]


def untagged_ids(conn: Connection, project_id: int) -> list[int]:
    query = select(documents.c.id).where(documents.c.project_id == project_id, untagged_clause()).order_by(documents.c.id)
    return list(conn.execute(query).scalars())


def spread_untagged_ids(conn: Connection, project_id: int, skip: Collection[int], limit: int) -> list[int]:
    """``limit`` ids of untagged documents not in ``skip``, in an order spread over the whole project
    (by a multiplicative hash of the id: fixed, and unrelated to the order of the file): a file
    sorted by class, tagged from its start, gave 153 documents of one class before a first model
    could be trained (banking77 as shipped); spread, 10 or 11. One scan of the project's untagged
    documents (100,000 on SQLite: 50 ms)."""
    query = select(documents.c.id).where(documents.c.project_id == project_id, untagged_clause())
    if skip:
        query = query.where(documents.c.id.not_in(list(skip)))
    spread = cast(documents.c.id, BigInteger) * literal(ID_MIX, BigInteger) % literal(ID_MOD, BigInteger)
    return list(conn.execute(query.order_by(spread, documents.c.id).limit(limit)).scalars())


def untagged_among(conn: Connection, project_id: int, ids: Sequence[int]) -> list[int]:
    """Those of ``ids`` that are untagged documents of the project (any order)."""
    found: list[int] = []
    for chunk in _chunks(ids):
        query = select(documents.c.id).where(documents.c.project_id == project_id, documents.c.id.in_(chunk), untagged_clause())
        found.extend(conn.execute(query).scalars())
    return found


def texts(conn: Connection, project_id: int, ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for chunk in _chunks(ids):
        query = select(documents.c.id, documents.c.text).where(documents.c.project_id == project_id, documents.c.id.in_(chunk))
        found.update({r.id: r.text for r in conn.execute(query)})
    return found


def tags_of(conn: Connection, project_id: int, ids: Sequence[int]) -> dict[int, tuple[list[str] | None, str | None]]:
    """id -> (labels, dataset) of those of ``ids`` the project still has."""
    found: dict[int, tuple[list[str] | None, str | None]] = {}
    for chunk in _chunks(ids):
        query = select(documents.c.id, documents.c.labels, documents.c.dataset).where(
            documents.c.project_id == project_id, documents.c.id.in_(chunk))
        found.update({r.id: (r.labels, r.dataset) for r in conn.execute(query)})
    return found


# -- who has which document open on the Tag page ----------------------------------------------

def leased(conn: Connection, project_id: int, now: datetime, *, besides: str | None = None) -> dict[int, str]:
    """document id -> holder of the project's leases that have not ended (but ``besides``'s own), on
    documents the project still has."""
    return {doc_id: holder for doc_id, (holder, _) in open_leases(conn, project_id, now, besides=besides).items()}


def open_leases(conn: Connection, project_id: int, now: datetime, *, besides: str | None = None,
                lately: datetime | None = None) -> dict[int, tuple[str, bool]]:
    """:func:`leased`, each with whether it ends after ``lately`` (was taken lately), in one query."""
    recent = (tag_leases.c.expires_at > lately) if lately is not None else literal(False)
    query = (select(tag_leases.c.document_id, tag_leases.c.holder, recent.label("recent"))
             .join(documents, and_(documents.c.id == tag_leases.c.document_id, documents.c.project_id == tag_leases.c.project_id))
             .where(tag_leases.c.project_id == project_id, tag_leases.c.expires_at > now))
    if besides is not None:
        query = query.where(tag_leases.c.holder != besides)
    return {row.document_id: (row.holder, bool(row.recent)) for row in conn.execute(query)}


def lease(conn: Connection, project_id: int, doc_id: int, holder: str, now: datetime, until: datetime) -> bool:
    """``holder`` has ``doc_id`` open until ``until`` (True), unless another holder's lease of it has not
    ended (False, nothing changed). One upsert decides, so two sessions never both get it; the holder's
    other lease of the project ends, and so do the project's ended ones."""
    upsert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(tag_leases).values(
        project_id=project_id, document_id=doc_id, holder=holder, expires_at=until)
    taken = conn.execute(upsert.on_conflict_do_update(
        index_elements=[tag_leases.c.project_id, tag_leases.c.document_id],
        set_={"holder": upsert.excluded.holder, "expires_at": upsert.excluded.expires_at},
        where=or_(tag_leases.c.expires_at <= now, tag_leases.c.holder == holder)).returning(tag_leases.c.holder)).first() is not None
    if taken:
        conn.execute(delete(tag_leases).where(tag_leases.c.project_id == project_id, tag_leases.c.document_id != doc_id,
                                              or_(tag_leases.c.holder == holder, tag_leases.c.expires_at <= now)))
    return taken


def release(conn: Connection, holder: str, project_id: int | None = None) -> None:
    """End ``holder``'s leases: of one project, or all of them."""
    query = delete(tag_leases).where(tag_leases.c.holder == holder)
    conn.execute(query if project_id is None else query.where(tag_leases.c.project_id == project_id))


# -- tags a person marked right against the tag check -------------------------------------

def confirm(conn: Connection, project_id: int, doc_id: int, labels: list[str], by: str | None, now: datetime) -> None:
    """``labels``, the document's tags now, are right (said by ``by``): replaces an earlier confirmation."""
    conn.execute(delete(tag_confirmations).where(tag_confirmations.c.document_id == doc_id))
    conn.execute(insert(tag_confirmations).values(document_id=doc_id, project_id=project_id, labels=labels,
                                                  confirmed_by=by, confirmed_at=now))


def unconfirm_many(conn: Connection, project_id: int, ids: Iterable[int]) -> int:
    """Take back the marks of ``ids`` (those that have one); how many there were."""
    taken = 0
    for chunk in _chunks(list(ids)):
        taken += conn.execute(delete(tag_confirmations).where(tag_confirmations.c.project_id == project_id,
                                                              tag_confirmations.c.document_id.in_(chunk))).rowcount
    return taken


def _mark_holds() -> ColumnElement[bool]:
    """A mark's tags are still its document's, as written then (a document retagged since has none): what the
    tag check, the Evaluate page's rows and the Data page's "tag marked right" filter all read."""
    return cast(tag_confirmations.c.labels, String) == cast(documents.c.labels, String)


def confirmed(conn: Connection, project_id: int, ids: Sequence[int] | None = None) -> dict[int, list[str]]:
    """document id -> the tags (sorted) someone marked right, of the project's documents (of ``ids`` only, if
    given) whose mark still holds (:func:`_mark_holds`)."""
    query = (select(tag_confirmations.c.document_id, tag_confirmations.c.labels)
             .join(documents, documents.c.id == tag_confirmations.c.document_id)
             .where(tag_confirmations.c.project_id == project_id, _mark_holds()))
    if ids is None:
        return {r.document_id: sorted(r.labels) for r in conn.execute(query)}
    return {r.document_id: sorted(r.labels) for chunk in _chunks(list(ids))
            for r in conn.execute(query.where(tag_confirmations.c.document_id.in_(chunk)))}


def rename_in_confirmations(conn: Connection, project_id: int, old: str, new: str) -> None:
    """Class ``old`` is called ``new`` now (a rename or a merge): the confirmations say so too, so that a
    document confirmed right is not listed again because its class changed name."""
    rows = conn.execute(select(tag_confirmations.c.document_id, tag_confirmations.c.labels)
                        .where(tag_confirmations.c.project_id == project_id)).all()
    changes = [{"doc_id": r.document_id, "new_labels": list(dict.fromkeys(new if label == old else label for label in r.labels))}
               for r in rows if old in r.labels]
    if changes:
        conn.execute(update(tag_confirmations).where(tag_confirmations.c.document_id == bindparam("doc_id"))
                     .values(labels=bindparam("new_labels")), changes)
