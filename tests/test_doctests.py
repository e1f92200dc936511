"""The ``>>>`` examples in tagwise's docstrings run as written (they were read, never run)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tagwise

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(tagwise.__path__, "tagwise.")
                 if ".migrations" not in name)  # alembic's env.py runs only inside alembic


@pytest.mark.parametrize("name", [name for name in MODULES if ">>>" in (importlib.util.find_spec(name).loader.get_source(name) or "")])
def test_docstring_examples(name):
    failed, tried = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert not failed, f"{failed} of {tried} examples in {name} failed"  # tried is 0 where all are +SKIP (a server's calls)
