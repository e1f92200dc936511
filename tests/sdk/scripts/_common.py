"""Shared by the SDK scripts (they run in the SDK virtual environments: stdlib + the SDK only).

A script records every contract check it makes. A failed check that later steps do not depend
on is recorded and the script goes on, so one run lists every deviation; a failed step that
later steps need stops the script. Either way the script prints one JSON object on stdout:
``{"ok": bool, "failures": [{"check", "error"}], "summary": {...}}`` and exits 0 when ``ok``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

# Passed to every SDK client. azure-core retries 5xx (and anything carrying Retry-After) up to
# 10 times with exponential backoff, which turns one server bug into minutes of silence; three
# tries keep the retry behaviour while failing within seconds.
CLIENT_OPTIONS = {"retry_total": 3, "retry_backoff_max": 4}


class Report:
    """Collects check failures and summary values, and prints them as the script's output."""

    def __init__(self) -> None:
        self.failures: list[dict[str, str]] = []
        self.summary: dict[str, Any] = {}
        self.checks = 0
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}

    @contextlib.contextmanager
    def check(self, name: str) -> Iterator[None]:
        """A check that may fail without stopping the script."""
        self.checks += 1
        _progress(name)
        try:
            yield
        except Exception as exc:  # noqa: BLE001 - every failure is a finding to report
            self.failures.append({"check": name, "error": _describe(exc)})

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """A step later steps depend on: a failure is recorded and ends the script."""
        self.checks += 1
        _progress(name)
        start = time.monotonic()
        try:
            yield
        except Exception as exc:
            self.failures.append({"check": name, "error": _describe(exc), "fatal": "yes"})
            raise _Stop() from exc
        finally:
            self.timings[name] = round(time.monotonic() - start, 2)

    def expect_error(self, name: str, error_type: type, call: Callable[[], Any]) -> Any:
        """Check that ``call()`` raises ``error_type``; return the exception (or None)."""
        with self.check(name):
            try:
                call()
            except error_type as exc:
                return exc
            raise AssertionError(f"expected {error_type.__name__}, but the call succeeded")
        return None

    def finish(self) -> None:
        out = {
            "ok": not self.failures,
            "checks": self.checks,
            "failures": self.failures,
            "summary": self.summary,
            "timings": {**self.timings, "total": round(time.monotonic() - self.started, 2)},
        }
        print(json.dumps(out, indent=1, default=str))
        sys.exit(0 if not self.failures else 1)


class _Stop(Exception):
    pass


def _progress(name: str) -> None:
    # On stderr, so a hanging call (an LRO that never ends, retries) shows where it hangs.
    print(f"[{time.strftime('%H:%M:%S')}] {name}", file=sys.stderr, flush=True)


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    response = getattr(exc, "response", None)
    if response is not None:
        request = getattr(response, "request", None)
        if request is not None:
            text += f"\n[last request: {request.method} {request.url} -> {getattr(response, 'status_code', '?')}]"
    if isinstance(exc, AssertionError) or not str(exc):
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        text += f"\n[at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}: {frame.line}]"
    return text[:3000]


def run(main: Callable[[Report, argparse.Namespace], None], parser: argparse.ArgumentParser) -> None:
    """Parse arguments, run ``main`` with a fresh report, and print the report whatever happens."""
    args = parser.parse_args()
    report = Report()
    try:
        main(report, args)
    except _Stop:
        pass
    except Exception as exc:  # noqa: BLE001
        report.failures.append({"check": "unexpected error", "error": _describe(exc), "fatal": "yes"})
    report.finish()


def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--endpoint", required=True, help="server root URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--key", required=True, help="API key (Ocp-Apim-Subscription-Key)")
    parser.add_argument("--project", required=True, help="project name")
    parser.add_argument("--data", required=True, help="data file written by tests/sdk/slices.py")
    return parser


def load_data(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def micro_f1(expected: list[set[str]], predicted: list[set[str]]) -> float:
    """Micro-averaged F1 over label sets (equals accuracy when every set has one label)."""
    tp = sum(len(e & p) for e, p in zip(expected, predicted))
    fp = sum(len(p - e) for e, p in zip(expected, predicted))
    fn = sum(len(e - p) for e, p in zip(expected, predicted))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
