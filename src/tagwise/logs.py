"""Where tagwise's own log lines go when it runs as a program (``serve``, ``worker``).

uvicorn configures only its own loggers; without this, ``tagwise.*`` records fell through to
Python's last-resort handler (warnings and up, bare messages) whatever ``TAGWISE_LOG_LEVEL`` said.
Only the command-line entry points call :func:`configure`: a library user's logging stays theirs.
"""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(levelname)-10s%(name)s: %(message)s"  # uvicorn's "INFO:     ..." column, then the logger


class _Format(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        record = logging.makeLogRecord(record.__dict__)
        record.levelname = f"{record.levelname}:"
        return super().format(record)


def configure(level: str) -> None:
    """Send ``tagwise.*`` records at ``level`` and above to stderr, once per process."""
    logger = logging.getLogger("tagwise")
    logger.setLevel(level.upper())
    if not any(getattr(handler, "tagwise", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Format(_FORMAT))
        handler.tagwise = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False
