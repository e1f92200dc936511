"""What ``serve`` and ``worker`` write for tagwise's own log lines (``tagwise.logs``)."""

from __future__ import annotations

import logging
import re

from tagwise import logs


def test_a_line_starts_with_its_time_in_utc(capsys):
    # a log written to a file could not place a deploy or a failed job in time
    logger = logging.getLogger("tagwise")
    before = (logger.level, logger.propagate, list(logger.handlers))
    try:
        logs.configure("info")
        logging.getLogger("tagwise.core.deployments").info("deployment p/prod now serves v2")
        line = capsys.readouterr().err.strip()
    finally:
        logger.setLevel(before[0])
        logger.propagate = before[1]
        logger.handlers[:] = before[2]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO:     tagwise.core.deployments: deployment p/prod now serves v2", line), line
