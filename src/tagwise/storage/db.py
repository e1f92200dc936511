"""Database connections: SQLite done the datasette way, or PostgreSQL.

SQLite runs in WAL mode; reads use their own pooled connections, and every write goes
through one process-wide lock inside ``BEGIN IMMEDIATE`` so writers never meet
"database is locked". Other processes (training workers) wait on ``busy_timeout``.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.pool import NullPool

from tagwise.errors import StoreBusy, sqlite_code

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 7_415_001  # any constant: the PostgreSQL advisory lock id of "tagwise migrates"

PG_CONNECT_TIMEOUT_S = 10
# SQLite: the longest a write waits for another process's lock on the file: past it the request is a
# 503 (retry) rather than a wait as long as the other process holds it (90 s seen, behind the runner's own)
WRITE_WAIT_S = 30.0
# a write arriving while this process's lock is held by a write that another process has held up this long
# is refused at once: each waiting write holds a worker thread, and 45 of them queued behind a stuck lock
# left /health and reads none (84 s). A burst of short writes (100 at once drain in a second) waits.
HELD_UP_S = 5.0


class NewerSchema(Exception):
    """The store was migrated by a newer tagwise: its schema revision is one this code does not know."""


# what to do about a store that a -wal left beside it broke (a restore's usual slip), for the messages that find one
WAL_ADVICE = ("A backup copied in while the file's old -wal was left beside it does this (SQLite applies that log to it): stop "
              "tagwise, remove tagwise.db-wal and tagwise.db-shm, copy the backup in again and start. Otherwise restore the last "
              "whole backup (docs/operations.md, Backup and restore)")


class DamagedStore(Exception):
    """SQLite's own check of the store's file fails (``PRAGMA quick_check``)."""


class Database:
    """The store's connections. ``read()`` and ``write()`` yield a SQLAlchemy Connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.Lock()
        self._held_up_since: float | None = None  # since when the holder of _write_lock waits for another process's lock
        self._unchecked_wal = self.found_wal = False
        if self.is_sqlite:
            path = url.removeprefix("sqlite:///")
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            if path != ":memory:":
                _private(Path(path))
                # a write-ahead log with something in it before this process opens the file: a crash, another process
                # running, or a backup restored beside its old -wal, which SQLite then applies to it (a restore probe's
                # store served a mix of both times, and 500s): checked at the migration, before anything is served
                try:
                    self.found_wal = self._unchecked_wal = Path(f"{path}-wal").stat().st_size > 0
                except OSError:  # none (or another process's last connection just removed it)
                    pass
            self.reader = _sqlite_engine(url, immediate=False)
            self.writer = _sqlite_engine(url, immediate=True)
        else:
            # a host that swallows packets would otherwise hang a start or a request for minutes (the
            # OS's TCP timeout); `?connect_timeout=N` in the URL wins
            args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
            self.reader = self.writer = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=args)
            event.listen(self.reader, "before_cursor_execute", _nul_finds_nothing, retval=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn:
            yield conn

    @contextmanager
    def write(self, *, wait_s: float | None = None, foreign_keys: bool = True) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        SQLite: writes take turns on a process-wide lock, then ``BEGIN IMMEDIATE`` on the file. A
        write waits for the process's lock as long as its holder works (a big import holds it for a
        minute; a burst of short writes drains in a second), and for the file at most
        ``WRITE_WAIT_S``. While the holder has been held up by another process's lock on the file
        for over ``HELD_UP_S``, a waiting write gives up at once. Either way, :class:`StoreBusy`
        (nothing written). ``wait_s``: a write that can do without, which gives up after this long
        for either lock (PostgreSQL: for any lock it meets, ``lock_timeout``). ``foreign_keys=False``
        (SQLite, the migrations): no foreign-key actions, so that a migration that rebuilds a table
        (copy, drop, rename, as 0009 rebuilt ``documents``) does not cascade the drop into the tables
        that point at it (every "Tag is right" mark would go)."""
        if not self.is_sqlite:
            with self.writer.begin() as conn:
                if wait_s is not None:
                    conn.execute(text(f"SET LOCAL lock_timeout = '{int(1000 * wait_s)}ms'"))
                yield conn
            return
        deadline = None if wait_s is None else time.monotonic() + wait_s
        while not self._write_lock.acquire(timeout=0.2 if wait_s is None else wait_s):
            since = self._held_up_since
            if deadline is not None or (since is not None and time.monotonic() - since > HELD_UP_S):
                raise StoreBusy(_busy_message())
        try:
            self._held_up_since = time.monotonic()  # opening the file (it may switch to WAL) and BEGIN wait on others
            try:
                with self.writer.connect() as conn:
                    file_wait = WRITE_WAIT_S if deadline is None else max(deadline - time.monotonic(), 0.0)
                    conn.connection.dbapi_connection.execute(f"PRAGMA busy_timeout={int(1000 * file_wait)}")
                    if not foreign_keys:  # outside a transaction, or SQLite ignores it; back on before the pool has it again
                        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
                    try:
                        transaction = conn.begin()
                    except sa.exc.OperationalError as exc:
                        if sqlite_code(exc) == sqlite3.SQLITE_BUSY:
                            raise StoreBusy(_busy_message()) from exc
                        raise
                    self._held_up_since = None
                    try:
                        with transaction:
                            yield conn
                    finally:
                        if not foreign_keys:
                            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
            finally:
                self._held_up_since = None
        finally:
            self._write_lock.release()

    def migrate(self, revision: str = "head") -> tuple[str, str] | None:
        """Bring the schema to the newest migration (recorded in ``alembic_version``), or to ``revision``.
        Returns (the revision it had, the newest) when it brought an existing store forward, else None."""
        if self._unchecked_wal:
            self._unchecked_wal = False
            self.check_file()
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.write(foreign_keys=False) as conn:
            if not self.is_sqlite:
                # Several processes start at once (serve --workers N, workers): one migrates,
                # the others wait here and then find the schema at head. SQLite's writer lock does this.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config.attributes["connection"] = conn
            stored, head = _refuse_newer(conn)
            upgrading = stored is not None and stored != head and revision == "head"
            if upgrading:  # a big store takes a while (0006: 3.7 s per 100,000 accented documents): say so
                log.info("upgrading the store's schema from %s to %s", stored, head)
            started = time.monotonic()
            command.upgrade(config, revision)
            if upgrading:
                log.info("the store's schema is at %s (%.1f s)", head, time.monotonic() - started)
        return (stored, head) if upgrading else None

    def check_file(self) -> None:
        """SQLite's quick check of the store's file (0.17 s on 216 MB): :class:`DamagedStore` when it fails."""
        started = time.monotonic()
        with self.read() as conn:
            found = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA quick_check")]
        if found == ["ok"]:
            log.debug("the store's file had a write-ahead log (a crash, or another process): checked, %.1f s",
                     time.monotonic() - started)
            return
        problems = [line for row in found for line in row.splitlines() if line.strip() and not line.startswith("***")]
        raise DamagedStore(f"it is damaged (SQLite's check, the first of its findings: {problems[0] if problems else found[0]}). {WAL_ADVICE}")

    def fold_missing(self) -> int:
        """:func:`fold_missing` in batches, each read in a read transaction and written in a write
        transaction of its own, so that no lock is held while the store is scanned: a job runner
        calls this (it reads every text's length: ``benchmarks/search.py`` times it)."""
        last = folded = 0
        while True:
            with self.read() as conn:
                rows = _unfolded(conn, last)
            if not rows:
                return folded
            with self.write() as conn:
                _store_folded(conn, rows)
            last, folded = rows[-1][0], folded + len(rows)

    def dispose(self) -> None:
        self.reader.dispose()
        self.writer.dispose()


def _private(path: Path) -> None:
    """A new store file is readable by its owner only (every document and the keys' hashes, as the
    api-key file; SQLite gives its -wal and -shm files the same mode). An existing one that others
    can read (an older tagwise made it 0644, or an operator chose so) is named in the log, not changed."""
    if not path.exists():
        path.touch(mode=0o600)
    elif (mode := path.stat().st_mode & 0o777) & 0o077:
        log.warning("the store %s can be read by other users (mode %o): it holds every document; "
                    "`chmod 600 %s` unless that is meant", path, mode, path)


def known_revisions() -> tuple[set[str], str]:
    """Every schema revision these migrations know, and the newest."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    return {r.revision for r in script.walk_revisions()}, script.get_current_head()


def _refuse_newer(conn: Connection) -> tuple[str | None, str | None]:
    """(the store's revision, None for an empty store; the newest these migrations know). A store at
    a revision they do not have (a newer tagwise wrote it: a rollback) is refused in one line, not
    alembic's traceback."""
    from sqlalchemy import inspect

    known, head = known_revisions()
    if not inspect(conn).has_table("alembic_version"):
        return None, head
    stored = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if stored and stored not in known:
        raise NewerSchema(f"a newer tagwise wrote it (schema revision {stored}; this version knows up to "
                          f"{head}): run that version, or restore the backup taken before the upgrade")
    return stored, head


_FOLD_BATCH = 2_000


def refold(conn: Connection) -> int:
    """Store again the search form of every document whose stored form :func:`fold` now writes
    otherwise (migration 0010: Arabic, Hebrew and invisible characters), in batches by id; how many."""
    documents = _documents_table()
    last = changed = 0
    while rows := conn.execute(sa.select(documents.c.id, documents.c.text, documents.c.search_text)
                               .where(documents.c.id > last, documents.c.search_text.is_not(None))
                               .order_by(documents.c.id).limit(_FOLD_BATCH)).all():
        # the stored form is what to look at: Arabic presentation forms (text copied from a PDF) are Arabic letters there
        stale = [(doc_id, text_) for doc_id, text_, stored in rows if _OPTIONAL.search(stored) and searchable(text_) != stored]
        if stale:
            _store_folded(conn, stale)
        last, changed = rows[-1][0], changed + len(stale)
    return changed


def fold_missing(conn: Connection) -> int:
    """Store the search form (:func:`searchable`) of every non-ASCII document text that has none, in
    batches by id, inside the caller's transaction; how many. Migration 0006 does this for the texts
    stored before it; a job runner (``Database.fold_missing``) does it again for texts an older
    tagwise, still running during the upgrade, wrote without one."""
    last = folded = 0
    while rows := _unfolded(conn, last):
        _store_folded(conn, rows)
        last, folded = rows[-1][0], folded + len(rows)
    return folded


def _documents_table() -> sa.TableClause:  # the columns the folding reads, as migration 0006 knows them
    return sa.table("documents", sa.column("id", sa.Integer), sa.column("text", sa.Text), sa.column("search_text", sa.Text))


def _unfolded(conn: Connection, after: int) -> list[Any]:
    """Up to ``_FOLD_BATCH`` (id, text) of non-ASCII texts without a search form, ids above ``after``."""
    documents = _documents_table()
    return conn.execute(sa.select(documents.c.id, documents.c.text)
                        .where(documents.c.id > after, documents.c.search_text.is_(None), ~ascii_only(conn, documents.c.text))
                        .order_by(documents.c.id).limit(_FOLD_BATCH)).all()


def ascii_only(conn: Connection, column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """SQL: ``column`` holds plain ASCII (its bytes do not outnumber its characters), in the dialect of ``conn``."""
    if conn.dialect.name == "postgresql":
        return sa.func.octet_length(column) == sa.func.char_length(column)
    return sa.func.length(sa.cast(column, sa.LargeBinary)) == sa.func.length(column)


def _store_folded(conn: Connection, rows: list[Any]) -> None:
    documents = _documents_table()
    update = documents.update().where(documents.c.id == sa.bindparam("doc_id")).values(search_text=sa.bindparam("folded"))
    conn.execute(update, [{"doc_id": doc_id, "folded": searchable(text_)} for doc_id, text_ in rows])


def _busy_message() -> str:
    return ("The store is busy: another process (another tagwise process importing a big file, a backup, or a script "
            "with the database open) is holding the SQLite file's write lock, so nothing of this was written. Retry in a "
            "few seconds.")


def _enable_wal(cursor, wait_s: float = 30.0) -> None:
    """Switch the file to WAL (it stays so). On a NEW database opened by several processes at once
    (``serve --workers N``), SQLite answers "database is locked" to this pragma at once instead of
    waiting on busy_timeout (reproduced: 95 of 2,400 connections, 8 processes x 300 new files), so
    retry for up to ``wait_s``, as the busy timeout would."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def fold(value: str | None) -> str | None:
    """Text as search compares it: Unicode-normalised (NFKC), case-folded and without accents on
    Latin letters, so ``STRASSE`` finds ``Straße``, ``ЗАКАЗ`` finds ``заказ``, ``nino`` finds
    ``niño``, ``Etats`` finds ``États`` and ``oeil`` finds ``œil``. Marks on other scripts stay:
    ``й`` is not ``и``.

    >>> fold("Les ÉTATS-Unis, niño, Straße, l'œil, Ærø, Łódź")
    "les etats-unis, nino, strasse, l'oeil, aero, lodz"
    >>> fold("мой") == fold("мои")
    False

    What people leave out when they type is left out too: Arabic's short-vowel marks and tatweel,
    the hamza over or under an alif, ى for ي and ة for ه, Hebrew's vowel points, Arabic-Indic digits
    and invisible characters (a zero-width space inside a word), so ``اين`` finds ``أين``, ``مرحبا``
    finds ``مَرْحَبًا`` and ``4521`` finds ``٤٥٢١`` (found nothing before).

    >>> [fold(v) for v in ("أين", "مَرْحَبًا", "الشحنة", "٤٥٢١", "שָׁלוֹם", "パス\u200bワード")] == ["اين", "مرحبا", "الشحنه", "4521", "שלום", "パスワード"]
    True
    """
    if value is None:
        return None
    folded = strip_accents(unicodedata.normalize("NFKC", value).casefold())
    if folded.isascii():
        return folded
    folded = folded.translate(_LATIN_LETTERS)
    if _OPTIONAL.search(folded):  # Arabic, Hebrew or an invisible character: one scan for the rest
        folded = _OPTIONAL_MARKS.sub("", folded).translate(_ARABIC_LETTERS)
    return folded


def searchable(text: str) -> str | None:
    """What a document's ``search_text`` holds: None for a plain ASCII text (the databases' LIKE and
    ILIKE already ignore its case), else the folded text.

    >>> searchable("card declined"), searchable("Carte refusée")
    (None, 'carte refusee')
    """
    return None if text.isascii() else fold(text)


def strip_accents(value: str) -> str:
    """``value`` without the combining accents (U+0300-U+036F) that follow an ASCII letter,
    composed or not: ``é`` -> ``e``, ``Ñ`` -> ``N``; ``ø``, ``ß`` and other scripts' marks stay."""
    if value.isascii() or not _MAY_HAVE_LATIN_ACCENTS.search(value):  # Cyrillic, CJK, ... cost one scan
        return value
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", value)))


# marks and letters that typing leaves out or spells another way (see fold): Arabic's harakat, superscript alif and
# tatweel, Hebrew's points and cantillation (not its maqaf or sof pasuq), zero-width spaces and joiners, word joiner,
# byte-order mark and soft hyphen; the alif's hamza forms, alif maqsura, ta marbuta, and both sets of Arabic-Indic digits
_OPTIONAL = re.compile("[\u0591-\u06ff\u200b-\u200d\u2060\ufeff\u00ad]")
_OPTIONAL_MARKS = re.compile("[\u064b-\u065f\u0670\u0640\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
                             "\u200b-\u200d\u2060\ufeff\u00ad]")
_ARABIC_LETTERS = str.maketrans({**dict.fromkeys("أإآٱ", "ا"), "ى": "ي", "ة": "ه",
                                 **{chr(0x660 + d): str(d) for d in range(10)}, **{chr(0x6f0 + d): str(d) for d in range(10)}})
# Latin letters of their own that a keyboard without them spells with plain ones (after casefold)
_LATIN_LETTERS = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
_MAY_HAVE_LATIN_ACCENTS = re.compile("[\u00c0-\u024f\u0300-\u036f\u1e00-\u1eff]")
_LATIN_ACCENTS = re.compile("(?<=[A-Za-z])[\u0300-\u036f]+")


def _accented_latin() -> tuple[str, str]:
    """(accented, plain): every precomposed Latin letter that is an ASCII letter plus accents, and
    that letter; PostgreSQL's ``translate`` maps one onto the other (no ``unaccent`` extension needed)."""
    accented, plain = [], []
    for code in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        char = chr(code)
        base = strip_accents(char)
        if base != char and len(base) == 1 and base.isascii():
            accented.append(char)
            plain.append(base)
    return "".join(accented), "".join(plain)


ACCENTED_LATIN, PLAIN_LATIN = _accented_latin()
# decomposed accents in a stored text: translate() deletes characters it has no counterpart for
COMBINING_ACCENTS = "".join(chr(c) for c in range(0x300, 0x370))


def _nul_finds_nothing(conn, cursor, statement: str, parameters: Any, context, executemany: bool) -> tuple[str, Any]:
    """PostgreSQL's text holds no NUL (U+0000), and psycopg refuses to send one: a project, model,
    deployment, job, key or document looked up by a name with one was a 500 on PostgreSQL and a 404 on
    SQLite (79 requests of a probe, from paths, bodies and forms). In a query that only reads, a NUL
    becomes U+FFFD, which finds what it found on SQLite: nothing (no name tagwise stores holds a NUL).
    A write is left as it is: every write path refuses a NUL first, with a 400 that names the field."""
    if executemany or statement.lstrip()[:6].upper() != "SELECT" or not _holds_nul(parameters):
        return statement, parameters
    return statement, _without_nul(parameters)


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_without_nul(v) for v in value)
    return value


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, poolclass=NullPool if immediate else None, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # a deleted document's text is overwritten in the file, not left in a free page (Debian's SQLite does this
        # by default, others do not): deleting a customer's tickets deletes their words
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        # SQLite's LIKE folds ASCII only: the studio's search compares texts that are not plain ASCII folded by Python
        dbapi_conn.create_function("tagwise_fold", 1, fold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
