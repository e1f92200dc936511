"""Where tagwise's own log lines go when it runs as a program (``serve``, ``worker``).

uvicorn configures only its own loggers; without this, ``tagwise.*`` records fell through to
Python's last-resort handler (warnings and up, bare messages) whatever ``TAGWISE_LOG_LEVEL`` said.
Only the command-line entry points call :func:`configure`: a library user's logging stays theirs.
"""

from __future__ import annotations

import logging
import sys
import time

# the time (UTC) first: a log written to a file (not journald, which adds its own) could not place
# a deploy or a failed job in time; then uvicorn's "INFO:     ..." column, then the logger and the
# process id: the lines of `serve --workers N`'s processes, and of workers, share one log
_FORMAT = "%(asctime)s %(levelname)-10s%(name)s[%(process)d]: %(message)s"
_TIME = "%Y-%m-%dT%H:%M:%SZ"


class _Format(logging.Formatter):
    converter = time.gmtime

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
        handler.setFormatter(_Format(_FORMAT, _TIME))
        handler.tagwise = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False
