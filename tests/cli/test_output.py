"""What the CLI prints of a team's data is that data: no Rich markup read into it, no control
characters sent to the terminal."""

from __future__ import annotations

import json

from tests.cli.conftest import ok


def test_values_print_as_written_with_control_characters_escaped(cli, tmp_path):
    # a description "[/oops]" ended `project list` and `project show` in a Rich MarkupError traceback, "[bold red]"
    # coloured it; a document text holding ESC sequences rewrote the terminal `project documents` listed it in
    description = "[/oops] and [bold red]red[/] x"
    ok(cli("project", "create", "mk", "--kind", "single", "--description", description))
    docs = tmp_path / "docs.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": "refund please\x1b[2K \x1b]0;PWNED\x07 \x9b31mRED", "labels": ["x"]}) + "\n"
                    + json.dumps({"id": "b", "text": "plain [bold]b[/]", "labels": ["[urgent]"]}) + "\n")
    ok(cli("import", "mk", str(docs)))
    assert description in ok(cli("project", "list")).stdout
    assert description in ok(cli("project", "show", "mk")).stdout
    listed = ok(cli("project", "documents", "mk")).stdout
    assert "refund please\\x1b[2K \\x1b]0;PWNED\\x07 \\x9b31mRED" in listed and "\x1b" not in listed and "\x9b" not in listed
    assert "plain [bold]b[/]" in listed and "[urgent]" in listed


def test_an_argument_that_is_not_utf8_is_one_error_line(cli):
    # Python keeps such a byte as a lone surrogate: `tagwise project create $'caf\xe9'` ended in a UnicodeEncodeError traceback
    result = cli("project", "create", "caf\udce9", "--kind", "single")
    assert result.exit_code == 2 and result.stderr.strip() == (
        "error: the argument 'caf\ufffd' is not UTF-8 text (byte 0xe9): type it again in UTF-8")
