"""Exit codes and messages: 0 ok, 1 one ``error:`` line from the service, 2 usage; help everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import ok

COMMANDS = [
    ["serve"], ["worker"], ["project", "create"], ["project", "list"], ["project", "show"], ["project", "delete"],
    ["project", "delete-documents"],
    ["import"], ["train"], ["evaluate"], ["deploy"], ["classify"], ["export"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(cli, command):
    text = ok(cli(*command, "--help")).stdout
    assert "Example:" in text and f"tagwise {' '.join(command)}" in text


def test_root_help_and_version(cli):
    assert "project" in ok(cli("--help")).stdout
    assert ok(cli("--version")).stdout.startswith("tagwise ")


def one_error_line(result, code: int = 1) -> str:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_service_errors_exit_1_with_one_line(cli, bank):
    ok(cli("project", "create", "bank", "--kind", "single"))
    assert "could not be found" in one_error_line(cli("project", "show", "nope"))
    assert "already exists" in one_error_line(cli("project", "create", "bank", "--kind", "single"))
    assert "invalid" in one_error_line(cli("project", "create", "bad name", "--kind", "single"))
    assert "training needs at least" in one_error_line(cli("train", "bank", "--model", "v1"))
    assert "could not be found" in one_error_line(cli("deploy", "bank", "prod", "--model", "v1"))
    queries = bank.path("queries.txt")
    assert "deployment prod could not be found" in one_error_line(cli("classify", "bank", "prod", str(queries)))
    assert "does not exist" in one_error_line(cli("import", "missing", str(bank.path("train.jsonl"))))


def test_usage_errors_exit_2(cli, bank, tmp_path):
    assert cli("project", "create", "bank").exit_code == 2  # --kind missing
    assert cli("project", "create", "bank", "--kind", "triple").exit_code == 2
    assert cli("train", "bank").exit_code == 2  # --model missing
    assert cli("frobnicate").exit_code == 2
    ok(cli("project", "create", "bank", "--kind", "single"))
    assert "no such file" in one_error_line(cli("import", "bank", str(tmp_path / "absent.jsonl")), code=2)
    assert "no such file" in one_error_line(cli("classify", "bank", "prod", str(tmp_path / "absent.txt")), code=2)
    (tmp_path / "folder.txt").mkdir()  # it said "no such file" of a path that is there
    assert one_error_line(cli("classify", "bank", "prod", str(tmp_path / "folder.txt")), code=2).endswith("folder.txt: a folder, not a file")
    os.mkfifo(tmp_path / "pipe")  # what <(cat file) hands over: it read "no such file"
    assert one_error_line(cli("classify", "bank", "prod", str(tmp_path / "pipe")), code=2).endswith(
        "pipe: not a regular file (a pipe, as <(cat ...) makes?): pass - and send it to stdin")
    odd = tmp_path / "data.xml"
    odd.write_text("<x/>")
    assert "--format" in one_error_line(cli("import", "bank", str(odd)), code=2)
    assert "split-percent" in one_error_line(cli("train", "bank", "--model", "v1", "--split-percent", "100"), code=2)
    both = one_error_line(cli("train", "bank", "--model", "v1", "--split-percent", "80", "--manual-split"), code=2)
    assert "two ways to choose the test set: pass one of them" in both  # the percentage was dropped without a word


CLICK_USAGE_ERRORS = {  # what click refuses while parsing -> (what the line says, the command its hint names)
    "train bank --bogus": ("No such option: --bogus", "train"),
    "train": ("Missing argument 'NAME'", "train"),
    "classify bank prod in.txt --top 0": ("Invalid value for '--top'", "classify"),
    "project create bank --kind triple": ("Invalid value for '--kind'", "project create"),
    "frobnicate": ("No such command 'frobnicate'", ""),
    "key revoke": ("Missing argument 'KEY_ID'", "key revoke"),
    "--bogus project list": ("No such option: --bogus", ""),
    # a bad --language or an over-long --search exited 1 on some commands (the service refused it) and 2 on others
    "project create bank --kind single --language english": ("Invalid value for '--language': 'english' is not a language code", "project create"),
    "import bank in.jsonl --kind single --language english": ("Invalid value for '--language'", "import"),
    "classify bank prod in.txt --language english": ("Invalid value for '--language'", "classify"),
    "project documents bank --search " + "x" * 1_001: ("Invalid value for '--search': it is 1,001 characters; it takes at most 1,000", "project documents"),
}


@pytest.mark.parametrize("argv", CLICK_USAGE_ERRORS)
def test_click_usage_errors_are_one_error_line(cli, argv):
    message, command = CLICK_USAGE_ERRORS[argv]
    line = one_error_line(cli(argv), code=2)
    assert line.startswith(f"error: {message}") and line.endswith(f"(see {f'tagwise {command}'.strip()} --help)"), line


def test_a_language_is_stored_as_the_service_spells_it(cli):
    ok(cli("project", "create", "bank", "--kind", "single", "--language", "pt_br"))  # a locale's spelling
    assert "(single-label, pt-BR)" in cli("project", "create", "other", "--kind", "single", "--language", "PT-br").stderr
    assert json.loads(ok(cli("project", "show", "bank", "--json")).stdout)["project"]["language"] == "pt-BR"


def test_a_root_option_after_the_command_says_where_it_goes(cli):
    # it pointed at "tagwise project list --help", which does not list it
    line = one_error_line(cli("project", "list", "--endpoint", "http://127.0.0.1:9"), code=2)
    assert line == ("error: No such option: --endpoint (--endpoint goes before the command: tagwise --endpoint ... project list; "
                    "see tagwise --help)")
    assert one_error_line(cli("train", "bank", "--data-dir=x"), code=2).endswith("tagwise --data-dir ... train; see tagwise --help)")


def test_help_and_no_arguments_still_show_the_help(cli):
    assert ok(cli("train", "--help")).stdout.startswith("Usage: ")
    assert "Usage: " in ok(cli("key", "-h")).stdout
    bare = cli("project")
    assert bare.exit_code == 2 and "create" in bare.stdout + bare.stderr


def test_endpoint_without_key_is_a_usage_error(cli):
    assert "--key" in one_error_line(cli("--endpoint", "http://127.0.0.1:9", "project", "list"), code=2)


@pytest.mark.parametrize("root, said", [
    (["--endpoint", ""], "--endpoint is empty"),  # worked on the local data dir and created it
    (["--key", "k"], "--key is the key of a server given with --endpoint"),  # ignored
    (["--endpoint", "http://127.0.0.1:9", "--key", "k", "--data-dir", "elsewhere"], "--data-dir is for local work"),
])
def test_a_root_option_typed_in_vain_is_a_usage_error(cli, data_dir, root, said):
    assert said in one_error_line(cli(*root, "project", "list"), code=2)
    assert not (data_dir.parent / "elsewhere").exists()


def test_the_environment_s_root_options_stay_silent(cli, data_dir):
    # TAGWISE_API_KEY is also a server's own key and TAGWISE_ENDPOINT may be set empty: the cli fixture sets both ""
    ok(cli("project", "list"))
    # serve reads --data-dir and no endpoint: an exported TAGWISE_ENDPOINT (for the CLI) does not refuse it
    from tests.cli.conftest import make_cli

    exported = make_cli({"TAGWISE_ENDPOINT": "http://127.0.0.1:9", "TAGWISE_API_KEY": "k"})
    assert "Invalid value for '--port'" in one_error_line(exported("--data-dir", str(data_dir), "serve", "--port", "0"), code=2)
    # backup and restore are local too: with the variable exported for the other commands they refused to run
    ok(make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})("project", "create", "bank", "--kind", "single"))
    backed = exported("--data-dir", str(data_dir), "backup", str(data_dir.parent / "nightly"))
    assert backed.exit_code == 0 and (data_dir.parent / "nightly").is_dir(), backed.stderr
    typed = exported("--endpoint", "http://127.0.0.1:9", "--key", "k", "backup", str(data_dir.parent / "other"))
    assert "not through --endpoint" in one_error_line(typed, code=2)
    refused = one_error_line(exported("--data-dir", str(data_dir), "project", "list"), code=2)
    assert "--data-dir is for local work, and this command goes to the server at http://127.0.0.1:9" in refused


def test_a_command_that_starts_an_empty_store_says_so(cli, data_dir):
    # `tagwise --data-dir typo project list` made an empty store there and listed no projects without a word
    first = ok(cli("project", "list"))
    assert first.stderr.startswith(f"note: no tagwise store was at {data_dir / 'tagwise.db'}: this starts an empty one "
                                   "(a mistyped --data-dir or TAGWISE_DATA_DIR?)\n")
    assert "note: no tagwise store" not in ok(cli("project", "list")).stderr


def test_creating_the_first_project_says_nothing_of_the_store(cli):
    assert "note:" not in ok(cli("project", "create", "bank", "--kind", "single")).stderr


def test_unreachable_server_is_one_line(cli):
    line = one_error_line(cli("--endpoint", "http://127.0.0.1:9", "--key", "k", "project", "list"))
    assert "cannot reach" in line


def test_a_proxy_in_between_is_named(monkeypatch):
    # a company's HTTP_PROXY that cannot see 127.0.0.1 read as the server being down
    from tests.cli.conftest import make_cli

    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    cli = make_cli({"TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    line = one_error_line(cli("--endpoint", "http://127.0.0.1:8", "--key", "k", "project", "list"))
    assert "at http://127.0.0.1:8 through the proxy http://127.0.0.1:9 (from HTTP_PROXY or ALL_PROXY; NO_PROXY=127.0.0.1" in line
    monkeypatch.setenv("HTTP_PROXY", "http://alice:S3cret@127.0.0.1:9")  # its password would reach a CI log
    line = one_error_line(cli("--endpoint", "http://127.0.0.1:8", "--key", "k", "project", "list"))
    assert "through the proxy http://alice:***@127.0.0.1:9 " in line and "S3cret" not in line
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert "proxy" not in one_error_line(cli("--endpoint", "http://127.0.0.1:8", "--key", "k", "project", "list"))


def test_the_installed_command_runs(tmp_path):
    script = Path(sys.executable).parent / "tagwise"
    if not script.exists():
        pytest.skip("tagwise is not installed in this environment (make install)")
    env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path), TAGWISE_ENDPOINT="")
    listed = subprocess.run([str(script), "project", "list"], check=False, env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and "no projects yet" in listed.stderr
    missing = subprocess.run([str(script), "project", "show", "x"], check=False, env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and missing.stderr == "error: The project x could not be found.\n"
    # run as a module, the program's name is "python -m tagwise": the command is still told from it
    created = subprocess.run([sys.executable, "-m", "tagwise", "--data-dir", str(tmp_path / "new"), "project", "create", "p", "--kind",
                              "single"], check=False, env=env, capture_output=True, text=True, timeout=60)
    assert created.returncode == 0 and created.stderr == "created project p (single-label, en)\n"


def test_a_table_whose_reader_left_exits_0(cli, data_dir):
    # `tagwise evaluate ... | grep -q accuracy` exited 1 with nothing said (rich's broken-pipe exit), failing the pipeline
    # under `set -o pipefail`, where `tagwise classify ... | head` exits 0
    ok(cli("project", "create", "bank", "--kind", "single"))
    env = dict(os.environ, TAGWISE_DATA_DIR=str(data_dir), TAGWISE_ENDPOINT="", TAGWISE_API_KEY="")
    process = subprocess.Popen([sys.executable, "-m", "tagwise", "project", "list"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the table is written
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""


def test_the_root_help_has_the_quickstart_and_says_where_root_options_go(cli):
    # `tagwise --help` showed one line: the quickstart in its docstring was hidden by help=, and
    # `tagwise project list --endpoint URL` said "No such option" with no hint that it goes before the command
    shown = ok(cli("--help")).stdout
    assert "Quickstart:\n    tagwise project create banking --kind single\n" in shown
    assert "which go before the command (tagwise --endpoint URL --key KEY project list)" in " ".join(shown.split())


def test_a_web_page_instead_of_tagwise_is_one_line(cli):
    # a wrong endpoint that is another web server printed its ten-line HTML page as the "one-line" error
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!DOCTYPE HTML>\n<html>\n<head><title>Error response</title></head>\n<body>Not found</body>\n</html>\n"
            self.send_response(200 if "/projects/" in self.path else 404)  # a 200 page ended in a JSONDecodeError traceback
            self.send_header("Content-Type", "text/html;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        line = one_error_line(cli("--endpoint", url, "--key", "k", "project", "list"))
        shown = one_error_line(cli("--endpoint", url.replace("//", "//user:s3cret@"), "--key", "k", "project", "show", "bank"))
    finally:
        server.shutdown()
    assert line == (f"error: {url}/language/authoring/analyze-text/projects answered HTTP 404 with a web page (text/html), where "
                    "tagwise answers JSON: is the endpoint a tagwise server (or a proxy in front of one that is down)?")
    assert shown.startswith(f"error: {url}/language/authoring/analyze-text/projects/bank answered HTTP 200 with a web page")


@pytest.mark.parametrize(("port", "said"), [("0", "greater than or equal to 1"), ("99999", "less than or equal to 65535")])
def test_serve_refuses_a_port_out_of_range(cli, port, said):
    # --port 99999 printed :99999 and listened on 34463 (the address wrapped); --port 0 was TAGWISE_PORT
    line = one_error_line(cli("serve", "--port", port), code=2)
    assert line == f"error: Invalid value for '--port': Input should be {said} (see tagwise serve --help)"


@pytest.mark.parametrize("command", [["serve"], ["worker"], ["project", "list"]], ids=" ".join)
def test_a_bad_setting_is_one_clear_line_not_a_traceback(data_dir, command):
    from tests.cli.conftest import make_cli

    cli = make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_ENCODER_BACKEND": "gpu"})
    result = cli(*command)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: TAGWISE_ENCODER_BACKEND='gpu': ") and "'onnx'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", [["serve"], ["project", "list"]], ids=" ".join)
def test_a_rule_between_settings_names_them_and_prints_no_secret(data_dir, command):
    # a lease no longer than the heartbeat printed every TAGWISE_* value, the key and the password too
    from tests.cli.conftest import make_cli

    cli = make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": "supersecret123",
                    "TAGWISE_DATABASE_URL": "postgresql://u:hunter2@db/tagwise", "TAGWISE_JOB_LEASE_S": "3"})
    result = cli(*command)
    assert result.exit_code == 2
    assert result.stderr == ("error: TAGWISE_JOB_LEASE_S (3) must be at least 4 times TAGWISE_JOB_HEARTBEAT_S (5), "
                             "or live jobs would be taken for dead\n")


def test_a_folder_that_is_no_encoder_is_one_clear_line(data_dir, tmp_path):
    from tests.cli.conftest import make_cli

    cli = make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_ENCODER_MODEL_DIR": str(tmp_path)})
    result = cli("serve")
    assert result.exit_code == 2 and "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith(f"error: TAGWISE_ENCODER_MODEL_DIR: encoder folder {tmp_path}: missing config.json")


@pytest.mark.parametrize("command", [["export", "bank"], ["classify", "bank", "prod", "INPUT"]])
def test_output_to_a_folder_or_a_missing_folder_names_the_path_and_leaves_nothing(cli, tmp_path, command):
    # classify wrote "nowhere/out.jsonl: No such file or directory" and exited 1, as a service error
    ok(cli("project", "create", "bank", "--kind", "single"))
    given = tmp_path / "texts.txt"
    given.write_text("card lost\n", encoding="utf-8")
    command = [str(given) if part == "INPUT" else part for part in command]
    folder = tmp_path / "adir"
    folder.mkdir()
    assert f"{folder} is a folder; give the file to write" in one_error_line(cli(*command, "-o", str(folder)), code=2)
    missing = tmp_path / "nowhere" / "bank.json"
    message = one_error_line(cli(*command, "-o", str(missing)), code=2)
    assert f"{missing}: no folder {missing.parent}" in message and ".tmp-" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "data", "texts.txt"] and not any(folder.iterdir())


def test_a_bad_recipe_is_a_usage_error(cli, bank):
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    message = one_error_line(cli("train", "bank", "--model", "v1", "--recipe", "bogus"), code=2)
    assert "--recipe 'bogus' is unknown" in message and "linear" in message
    assert "--recipe" in one_error_line(cli("train", "bank", "--model", "v1", "--recipe", ""), code=2)


def test_a_local_command_that_upgrades_the_store_says_so(cli, data_dir):
    # `tagwise project list` on the data dir of a running older server upgraded its store without a
    # word: that server then refused to start
    from tagwise.settings import Settings
    from tagwise.storage.db import Database

    old = Database(Settings(data_dir=data_dir, api_key="k").resolved_database_url)
    old.migrate("0006_document_search_text")
    old.dispose()
    first = ok(cli("project", "list"))
    assert "note: upgraded the store's schema from 0006_document_search_text to " in first.stderr
    assert "an older tagwise refuses this store now" in first.stderr
    assert "upgraded" not in ok(cli("project", "list")).stderr  # once
