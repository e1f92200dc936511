"""The benchmark scripts docs/benchmarks.md tells people to run still start: each one's --help, and
the search benchmark end to end on a small project (its call into the document store had gone stale
and it crashed on every run, unnoticed, since nothing ran it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if not p.stem.startswith("_"))


def run(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_script_starts(script):
    result = run(f"benchmarks.{script}", "--help")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage: ")


def test_the_search_benchmark_runs_on_a_small_project():
    result = run("benchmarks.search", "--documents", "300", "--repeat", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| nino |" in result.stdout and "the runner's scan for texts without a search form" in result.stdout
