"""The environment variables the command line reads are documented where the settings are (docs/settings.md)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

import tagwise.cli
from tagwise.cli import app

ROOT = Path(__file__).parents[2]


def cli_variables() -> set[str]:
    """The root options' variables, and any TAGWISE_* the cli modules read from os.environ themselves."""
    names = {param.envvar for param in typer.main.get_command(app).params if isinstance(param.envvar, str)}
    for module in Path(tagwise.cli.__file__).parent.glob("*.py"):
        names |= set(re.findall(r"environ(?:\.get\(|\[)\"(TAGWISE_\w+)\"", module.read_text()))
    return names


def test_every_variable_the_cli_reads_is_in_docs_settings():
    names = cli_variables()
    assert {"TAGWISE_ENDPOINT", "TAGWISE_API_KEY", "TAGWISE_DATA_DIR"} <= names
    docs = (ROOT / "docs" / "settings.md").read_text()
    assert not [name for name in sorted(names) if f"`{name}`" not in docs]
    outside_table = re.sub(r"<!-- settings-table -->.*<!-- /settings-table -->", "", docs, flags=re.DOTALL)
    assert "`TAGWISE_ENDPOINT` | `--endpoint`" in outside_table  # a note beside the generated table, not in it
