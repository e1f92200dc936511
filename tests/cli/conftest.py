"""Driving ``tagwise`` as a user would: real files from the shared datasets, a real data dir.

``cli(...)`` runs the command in-process (``typer.testing.CliRunner``) with its own environment,
so a test reads like a shell session: ``cli("train", "bank", "--model", "v1")``.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import read_jsonl, take_per_class

N_CLASSES, TRAIN_PER_CLASS, TEST_PER_CLASS = 8, 20, 5


@dataclass
class Slice:
    """A small banking77 slice written as the files a user would have."""

    folder: Path
    train: list[dict]
    test: list[dict]

    @property
    def classes(self) -> list[str]:
        return sorted({r["labels"][0] for r in self.train})

    def path(self, name: str) -> Path:
        return self.folder / name


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def bank(datasets, tmp_path_factory) -> Slice:
    train = take_per_class(read_jsonl(datasets / "banking77" / "train.jsonl"), N_CLASSES, TRAIN_PER_CLASS)
    classes = sorted({r["labels"][0] for r in train})
    test_rows = [r for r in read_jsonl(datasets / "banking77" / "test.jsonl") if r["labels"][0] in classes]
    test = take_per_class(test_rows, N_CLASSES, TEST_PER_CLASS)
    folder = tmp_path_factory.mktemp("bank-files")
    write_jsonl(folder / "train.jsonl", [{"id": r["id"], "text": r["text"], "labels": r["labels"]} for r in train])
    write_jsonl(folder / "test.jsonl", [{"id": r["id"], "text": r["text"], "labels": r["labels"]} for r in test])
    (folder / "queries.txt").write_text("".join(r["text"].replace("\n", " ") + "\n" for r in test), encoding="utf-8")
    return Slice(folder, train, test)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


CliFn = Callable[..., Result]


def make_cli(env: dict[str, str]) -> CliFn:
    from tagwise.cli import app

    runner = CliRunner()

    def cli(*args: str, input: str | bytes | None = None) -> Result:
        argv = list(args) if len(args) != 1 else shlex.split(args[0])
        # COLUMNS unset: tables are as wide as a pipe gets them (pytest-xdist's workers set it to 80)
        result = runner.invoke(app, argv, env={**env, "COLUMNS": None}, input=input, catch_exceptions=False, prog_name="tagwise")
        return Result(result.exit_code, result.stdout, result.stderr)

    return cli


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def cli(data_dir) -> CliFn:
    """``tagwise`` on a fresh local data dir (no server)."""
    return make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})


def ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result


def partly(result: Result, failed: int = 1) -> Result:
    """A classify that ran to the end with ``failed`` documents it could not classify: exit code 3."""
    assert result.exit_code == 3, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert f"; {failed:,} could not be classified (see their error field)" in result.stderr, result.stderr
    return result


@dataclass
class Deployed:
    cli: CliFn
    data_dir: Path


@pytest.fixture(scope="session")
def deployed(bank, tmp_path_factory) -> Deployed:
    """A local data dir where project ``bank`` is trained (``v1``, linear) and deployed as ``prod``."""
    data = tmp_path_factory.mktemp("deployed") / "data"
    cli = make_cli({"TAGWISE_DATA_DIR": str(data), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    ok(cli("project", "create", "bank", "--kind", "single"))
    ok(cli("import", "bank", str(bank.path("train.jsonl"))))
    ok(cli("train", "bank", "--model", "v1", "--recipe", "linear"))
    ok(cli("deploy", "bank", "prod", "--model", "v1"))
    return Deployed(cli, data)


def check_model_and_deployment_commands(cli: CliFn, bank: Slice) -> None:
    """Promote staging to production with a swap, then clean up: a deployed model cannot be
    deleted, a deployment can, and then its model. (The CLI could deploy but not undo it.)"""
    ok(cli("project", "create", "ops", "--kind", "single"))
    ok(cli("import", "ops", str(bank.path("train.jsonl"))))
    for label in ("v1", "v2"):
        ok(cli("train", "ops", "--model", label, "--recipe", "linear"))
    ok(cli("deploy", "ops", "production", "--model", "v1"))
    ok(cli("deploy", "ops", "staging", "--model", "v2"))
    swapped = ok(cli("deployment", "swap", "ops", "production", "staging"))
    assert "swapped: production serves v2, staging serves v1" in swapped.stderr
    everywhere = [line.split() for line in ok(cli("deployment", "list")).stdout.splitlines()]  # a server may hold other projects
    assert everywhere[0] == ["project", "deployment", "model", "model", "id", "trained", "deployed", "expires"]
    mine = [row for row in everywhere[1:] if row[0] == "ops"]
    assert [row[:3] for row in mine] == [["ops", "production", "v2"], ["ops", "staging", "v1"]]
    assert mine[0][3].startswith("v2-") and mine[0][-1] == "9999-12-31"  # the model id; tagwise deployments never expire
    assert [line.split() for line in ok(cli("deployment", "list", "ops")).stdout.splitlines()[1:]] == mine
    # --json: which model production serves, without parsing a table (a nightly script read it with awk)
    import json

    served = {d["deploymentName"]: d["trainedModelLabel"] for d in json.loads(ok(cli("deployment", "list", "ops", "--json")).stdout)}
    assert served == {"production": "v2", "staging": "v1"}
    shown = json.loads(ok(cli("project", "show", "ops", "--json")).stdout)
    assert shown["project"]["projectName"] == "ops" and {m["label"] for m in shown["models"]} == {"v1", "v2"}
    assert {d["deploymentName"] for d in shown["deployments"]} == {"production", "staging"}
    assert "ops" in [p["projectName"] for p in json.loads(ok(cli("project", "list", "--json")).stdout)]
    in_use = cli("model", "delete", "ops", "v2", "--yes")
    assert in_use.exit_code == 1 and "The model v2 is deployed as production" in in_use.stderr
    asks = cli("deployment", "delete", "ops", "staging")  # not on a terminal: no silent deletion
    assert asks.exit_code == 2 and "pass --yes" in asks.stderr
    assert "deleted deployment ops/staging" in ok(cli("deployment", "delete", "ops", "staging", "--yes")).stderr
    assert "deleted model ops/v1" in ok(cli("model", "delete", "ops", "v1", "--yes")).stderr
    shown = ok(cli("project", "show", "ops")).stdout
    assert "staging" not in shown and "production" in shown and " v1 " not in shown and "v2" in shown
    missing = cli("deployment", "delete", "ops", "nope", "--yes")
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1 and "nope" in missing.stderr


def check_documents_command(cli: CliFn, bank: Slice) -> None:
    """``tagwise project documents``: a project's documents, filtered, a page at a time."""
    ok(cli("import", "docs", str(bank.path("train.jsonl")), "--split", "train", "--kind", "single"))
    ok(cli("import", "docs", str(bank.path("test.jsonl")), "--split", "test", "--append"))
    table = ok(cli("project", "documents", "docs"))
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["location", "set", "class", "text"] and len(lines) == 51
    assert lines[1].split()[1:3] == ["Train", bank.train[0]["labels"][0]]
    assert table.stderr == "showing 1-50; more with --skip 50\n"
    assert "showing 51-60;" in ok(cli("project", "documents", "docs", "--skip", "50", "--top", "10")).stderr

    test_set = [json.loads(line) for line in ok(cli("project", "documents", "docs", "--dataset", "test", "--json", "--top", "0")).stdout.splitlines()]
    assert [d["text"] for d in test_set] == [r["text"] for r in bank.test]
    assert {(d["dataset"], d["tagged"]) for d in test_set} == {("Test", True)}
    label = bank.classes[0]
    tagged = ok(cli("project", "documents", "docs", "--class", label, "--dataset", "test", "--json"))
    assert [json.loads(line)["class"] for line in tagged.stdout.splitlines()] == [{"category": label}] * sum(
        r["labels"][0] == label for r in bank.test)
    none = ok(cli("project", "documents", "docs", "--untagged"))
    assert none.stdout == "" and none.stderr == "no documents in docs match\n"
    unknown = cli("project", "documents", "docs", "--class", "nope")
    assert unknown.exit_code == 1 and "The class 'nope' is not in project docs; its classes: " in unknown.stderr
    missing = cli("project", "documents", "nope")
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1 and "The project nope could not be found" in missing.stderr


def check_delete_documents_command(cli: CliFn, bank: Slice, tmp_path: Path) -> None:
    """``tagwise project delete-documents``: by location, all or nothing, naming the models trained on them."""
    ok(cli("import", "gone", str(bank.path("train.jsonl")), "--kind", "single"))
    ok(cli("train", "gone", "--model", "v1", "--recipe", "linear"))
    first, second = bank.train[0]["id"], bank.train[1]["id"]

    def locations() -> set[str]:
        return {json.loads(line)["location"] for line in ok(cli("project", "documents", "gone", "--json", "--top", "0")).stdout.splitlines()}

    asks = cli("project", "delete-documents", "gone", first)  # not on a terminal: no silent deletion
    assert asks.exit_code == 2 and "pass --yes" in asks.stderr
    missing = cli("project", "delete-documents", "gone", first, "nope.txt", "--yes")
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1, missing.stderr
    assert missing.stderr.startswith("error: ") and "'nope.txt'" in missing.stderr and "nothing was deleted" in missing.stderr
    assert first in locations() and len(locations()) == len(bank.train)

    done = ok(cli("project", "delete-documents", "gone", first, second, "--yes"))
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "deleted 2 documents of gone",
        ("note: The model v1 was trained on them and keeps what it learned from them (a linear model keeps their words): "
         "delete or retrain it to forget them.")]
    assert not {first, second} & locations() and len(locations()) == len(bank.train) - 2
    exported = tmp_path / "v1.json"
    ok(cli("export", "gone", "-o", str(exported), "--model", "v1"))  # the model's saved training data lost them too
    assert not {first, second} & {d["location"] for d in json.loads(exported.read_text())["assets"]["documents"]}
    # a search's documents, piped: `project documents --json | project delete-documents NAME -` (thousands did not fit argv)
    third, fourth = bank.train[2]["id"], bank.train[3]["id"]
    listed = ok(cli("project", "documents", "gone", "--search", third, "--json", "--top", "0")).stdout
    assert third in listed
    piped = ok(cli("project", "delete-documents", "gone", "-", "--yes", input=f"{listed}\n{fourth}\n"))
    assert piped.stderr.startswith("deleted 2 documents of gone") and not {third, fourth} & locations()
    bad = cli("project", "delete-documents", "gone", "-", "--yes", input='{"text": "no location"}\n')
    assert bad.exit_code == 2 and "stdin:1: a JSON line without a string 'location'" in bad.stderr
    # a search that found nothing: 0 deleted, exit 0 (a clean-up script under `set -e` went on)
    assert ok(cli("project", "delete-documents", "gone", "-", "--yes", input="\n")).stderr.startswith("deleted 0 documents of gone")
    # a line is a location as it is: "doc " stripped deleted "doc"
    fifth = bank.train[4]["id"]
    spaced = cli("project", "delete-documents", "gone", "-", "--yes", input=f"{fifth} \n")
    assert spaced.exit_code == 1 and f"'{fifth} '" in spaced.stderr and fifth in locations()
