"""Domain errors: a machine code and a message a person can act on, never HTTP.

The API maps each class to a status code and the Azure error envelope in ONE table
(`tagwise.api.errors.STATUS_BY_ERROR`). The tree::

    TagwiseError                     InternalServerError
    ├── InvalidRequest               InvalidRequest      (400)
    │   └── InvalidArgument          InvalidArgument     (400)
    ├── Unauthorized                 Unauthorized        (401)
    ├── Forbidden                    Forbidden           (403)
    ├── NotFound                     NotFound            (404)
    │   ├── ProjectNotFound          ProjectNotFound     (404)
    │   └── OperationNotFound        OperationNotFound   (404)
    ├── Conflict                     Conflict            (409)
    ├── QuotaError                   QuotaExceeded       (403)
    ├── PayloadTooLarge              InvalidRequest      (413)
    ├── UnsupportedMediaType         InvalidRequest      (415)
    ├── TooManyRequests              TooManyRequests     (429)
    ├── EncoderUnavailable           InternalServerError (500: the server lacks a model's sentence encoder)
    ├── ModelUnreadable              InternalServerError (500: a model's files in the model store are damaged)
    ├── StoreUnavailable             ServiceUnavailable  (503 + Retry-After: the database cannot be reached)
    │   ├── StoreBusy                ServiceUnavailable  (503 + Retry-After: another process holds the write lock)
    │   └── StoreReadOnly            ServiceUnavailable  (503, no Retry-After: the store refuses every write)
    ├── StoreFull                    InsufficientStorage (507: the server's disk is full; no Retry-After)
    └── JobCancelled                 (internal: a job body noticed a cancel request)
"""

from __future__ import annotations

from typing import Any

# what a 404 under /language says: the Azure SDKs have a method for every Azure Language feature, and
# a bare "no such route" reads to them as if the object the call named did not exist
NOT_IN_TAGWISE = ("tagwise has no route for this URL. It serves Azure's custom text classification: projects, import and "
                  "export, training, evaluation, deployments and classification (analyze-text jobs). Other Azure Language "
                  "features are not in tagwise: copying projects, assigning resources, exported models, snapshots, "
                  "other analysis kinds. Its routes are listed at /docs.")


class TagwiseError(Exception):
    """Base of every error tagwise raises on purpose.

    ``code`` is the Azure ``error.code``; ``inner_code`` the optional ``innererror.code``
    (for example ``InvalidParameterValue`` or ``InvalidDocument``).
    """

    code = "InternalServerError"
    default_inner_code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        inner_code: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.inner_code = inner_code or self.default_inner_code
        self.target = target
        self.details = details

    def to_error_object(self) -> dict[str, Any]:
        """The Azure error object (the value of ``{"error": ...}``)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        if self.inner_code:
            inner: dict[str, Any] = {"code": self.inner_code, "message": self.message}
            if self.details:
                inner["details"] = {k: str(v) for k, v in self.details.items()}
            error["innererror"] = inner
        return error


class InvalidRequest(TagwiseError):
    code = "InvalidRequest"
    default_inner_code = "InvalidParameterValue"


class InvalidArgument(InvalidRequest):
    code = "InvalidArgument"


class Unauthorized(TagwiseError):
    code = "Unauthorized"


class Forbidden(TagwiseError):
    code = "Forbidden"


class NotFound(TagwiseError):
    code = "NotFound"


class ProjectNotFound(NotFound):
    code = "ProjectNotFound"


class OperationNotFound(NotFound):
    code = "OperationNotFound"


class Conflict(TagwiseError):
    code = "Conflict"


class QuotaError(TagwiseError):
    code = "QuotaExceeded"


class PayloadTooLarge(TagwiseError):
    code = "InvalidRequest"
    default_inner_code = "InvalidDocumentBatch"


class UnsupportedMediaType(TagwiseError):
    code = "InvalidRequest"
    default_inner_code = "InvalidRequestBodyFormat"


class TooManyRequests(TagwiseError):
    code = "TooManyRequests"

    def __init__(self, message: str, *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class EncoderUnavailable(TagwiseError):
    """A model needs a sentence encoder this server cannot build (its configuration lacks it)."""


class ModelUnreadable(TagwiseError):
    """A trained model's folder in the model store cannot be loaded (damaged or incomplete files)."""


class StoreUnavailable(TagwiseError):
    """The database (TAGWISE_DATABASE_URL) cannot be reached or opened."""

    code = "ServiceUnavailable"


class StoreBusy(StoreUnavailable):
    """A write waited too long for the store's write lock (SQLite: another process holds it, see
    ``storage.db.Database.write``): nothing was written, and a retry may well succeed."""


class StoreReadOnly(StoreUnavailable):
    """The store refuses every write (a read-only file, folder or file system, a read-only
    PostgreSQL replica): reads work, and retrying will not help until an operator fixes it."""

    default_inner_code = "StoreReadOnly"  # what tells a client not to retry it (a proxy's 503 has no Retry-After either)


class StoreFull(TagwiseError):
    """The server's disk (the database's, or the model store's) is full: nothing was written."""

    code = "InsufficientStorage"


class JobCancelled(TagwiseError):
    """Raised inside a job body when the job's cancel flag is seen."""

    code = "Cancelled"


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, or ``""``: what a person is shown (a database error's
    further lines hold the SQL statement and its parameters, which belong in the log)."""
    return (str(exc).strip().splitlines() or [""])[0]


def store_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the server's disk is full: SQLite's ``SQLITE_FULL`` ("database or disk
    is full"), PostgreSQL's ``disk_full`` (53100), or an ``OSError`` with ``ENOSPC``. A driver
    reports it as an operational error, so ``store_unavailable`` is true of it too: a job runner
    waits for space as for an outage, while a client is told, not asked to retry in seconds."""
    import errno
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, OSError):
        return exc.errno == errno.ENOSPC
    if not isinstance(exc, DBAPIError):
        return False
    if (code := sqlite_code(exc)) is not None:
        return code == sqlite3.SQLITE_FULL
    return getattr(exc.orig, "sqlstate", None) == "53100"


def store_read_only(exc: BaseException) -> bool:
    """Whether ``exc`` says the store refuses writes: SQLite's ``SQLITE_READONLY`` ("attempt to
    write a readonly database": the file, its folder or the file system is read-only) or
    PostgreSQL's ``read_only_sql_transaction`` (25006: a hot standby, or a read-only default)."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, StoreReadOnly):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if (code := sqlite_code(exc)) is not None:
        return code == sqlite3.SQLITE_READONLY
    return getattr(exc.orig, "sqlstate", None) == "25006"


def store_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` is PostgreSQL ending this transaction for another one's sake: a deadlock
    (40P01) or a serialization failure (40001). Nothing was written; the request may be sent again."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in ("40P01", "40001")


def sqlite_code(exc: BaseException) -> int | None:
    """The primary result code of the SQLite error behind a database error (its extended code
    folded: ``SQLITE_IOERR_WRITE`` is ``SQLITE_IOERR``), or None for any other error."""
    import sqlite3

    orig = getattr(exc, "orig", None)
    return (getattr(orig, "sqlite_errorcode", 0) or 0) & 0xFF if isinstance(orig, sqlite3.Error) else None


def store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the store cannot be reached right now (worth retrying), not a bug.

    That is ``StoreUnavailable``, or a database driver error about the connection: SQLAlchemy's
    ``OperationalError`` (connection refused or lost, server shutting down, SQLite file that cannot
    be opened or is locked) or ``DisconnectionError``, or any driver error that invalidated its
    connection. SQLite also reports bad SQL ("no such table") as ``OperationalError``; its generic
    ``SQLITE_ERROR`` code tells that apart, and it stays a bug.
    """
    import sqlite3

    from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

    if isinstance(exc, StoreUnavailable | DisconnectionError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if isinstance(exc.orig, sqlite3.Error) and getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_ERROR:
        return False
    return isinstance(exc, OperationalError) or bool(exc.connection_invalidated)
