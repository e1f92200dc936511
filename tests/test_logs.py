"""What ``serve`` and ``worker`` write for tagwise's own log lines (``tagwise.logs``)."""

from __future__ import annotations

import logging

from tagwise import logs


def test_a_line_starts_with_its_time_in_utc(capsys):
    # a log written to a file could not place a deploy or a failed job in time
    logger = logging.getLogger("tagwise")
    before = (logger.level, logger.propagate, list(logger.handlers))
    try:
        logs.configure("info")
        record = logging.LogRecord("tagwise.core.deployments", logging.INFO, __file__, 1, "deployment p/prod now serves v2", None, None)
        record.created = 1_764_300_000.0  # 2025-11-28 03:20:00 UTC, whatever the machine's time zone
        record.process = 4242  # which process wrote it: serve --workers N and workers share one log
        logging.getLogger("tagwise.core.deployments").handle(record)
        line = capsys.readouterr().err.strip()
    finally:
        logger.setLevel(before[0])
        logger.propagate = before[1]
        logger.handlers[:] = before[2]
    assert line == "2025-11-28T03:20:00Z INFO:     tagwise.core.deployments[4242]: deployment p/prod now serves v2", line
