"""The whole lifecycle on a local data dir, no server: create, import, train, evaluate, deploy, classify, export."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from tagwise.core.uncertainty import interval
from tests.cli.conftest import (
    check_delete_documents_command,
    check_documents_command,
    check_model_and_deployment_commands,
    ok,
    write_jsonl,
)


def test_local_lifecycle(cli, bank, tmp_path):
    ok(cli("project", "create", "bank", "--kind", "single", "--description", "banking intents"))
    assert "bank" in ok(cli("project", "list")).stdout

    imported = ok(cli("import", "bank", str(bank.path("train.jsonl")), "--split", "train"))
    assert "160 documents" in imported.stdout  # results on stdout, for pipes
    appended = ok(cli("import", "bank", str(bank.path("test.jsonl")), "--split", "test", "--append"))
    assert "it now holds 200 documents" in appended.stdout and "of these 40: 40 tagged: 0 train, 40 test" in appended.stdout
    # the same tickets again without their tags (a nightly export): replaced, and said so, tags and all
    first = json.loads(bank.path("test.jsonl").read_text().splitlines()[0])
    again = write_jsonl(tmp_path / "again.jsonl", [{"id": first["id"], "text": first["text"]}])
    replaced = ok(cli("import", "bank", str(again), "--append"))
    assert "note: 1 document replaced the project's at the same location; 1 of them lost their tags (the file has them untagged)" in replaced.stderr
    ok(cli("import", "bank", str(bank.path("test.jsonl")), "--split", "test", "--append"))

    trained = ok(cli("train", "bank", "--model", "v1", "--recipe", "linear", "--manual-split"))
    assert "trained bank/v1" in trained.stdout and "on 40 test documents" in trained.stdout

    summary = json.loads(ok(cli("evaluate", "bank", "--model", "v1", "--json")).stdout)
    scores = summary["customSingleLabelClassificationEvaluation"]
    assert set(scores["classes"]) == set(bank.classes)
    assert scores["microF1"] > 0.6
    table = ok(cli("evaluate", "bank", "--model", "v1")).stdout
    assert "per class" in table and "confusion matrix" in table and bank.classes[0][:20] in table
    low, high = interval(round(summary["tagwise"]["accuracy"] * 40), 40)  # 40 test documents: several points either way
    assert re.search(rf"accuracy, 95% interval\s+{low:.4f}-{high:.4f}", table)

    ok(cli("deploy", "bank", "prod", "--model", "v1"))
    shown = ok(cli("project", "show", "bank")).stdout
    assert "v1" in shown and "prod" in shown

    out = tmp_path / "predictions.jsonl"
    ok(cli("classify", "bank", "prod", str(bank.path("queries.txt")), "-o", str(out), "--top", "3"))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, len(bank.test) + 1)]
    assert all(len(r["predictions"]) == 3 and r["predictions"][0]["category"] in bank.classes for r in rows)
    hits = sum(r["predictions"][0]["category"] == t["labels"][0] for r, t in zip(rows, bank.test))
    assert hits / len(rows) > 0.6

    as_csv = ok(cli("classify", "bank", "prod", str(bank.path("test.jsonl")), "--format", "csv")).stdout
    records = list(csv.DictReader(io.StringIO(as_csv)))
    assert [r["id"] for r in records] == [t["id"] for t in bank.test]
    assert all(r["category"] in bank.classes and 0 < float(r["confidenceScore"]) <= 1 for r in records)

    stdin = "".join(json.dumps({"id": f"q{i}", "text": t["text"]}) + "\n" for i, t in enumerate(bank.test[:5]))
    piped = ok(cli("classify", "bank", "prod", "-", input=stdin)).stdout.splitlines()
    assert [json.loads(line)["id"] for line in piped] == [f"q{i}" for i in range(5)]

    exported = tmp_path / "bank.json"
    ok(cli("export", "bank", "-o", str(exported)))
    ok(cli("import", "copy", str(exported)))  # an Azure project file creates the project
    copy = tmp_path / "copy.json"
    ok(cli("export", "copy", "-o", str(copy)))
    original, again = json.loads(exported.read_text()), json.loads(copy.read_text())
    assert again["assets"] == original["assets"] and again["metadata"]["projectName"] == "copy"

    refused = cli("project", "delete", "bank")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    ok(cli("project", "delete", "bank", "--yes"))
    gone = cli("project", "show", "bank")
    assert gone.exit_code == 1 and gone.stderr.startswith("error: ") and len(gone.stderr.strip().splitlines()) == 1


def test_train_no_wait_leaves_the_job_queued_for_a_worker(cli, bank, data_dir):
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    queued = ok(cli("train", "bank", "--model", "v1", "--recipe", "linear", "--no-wait"))
    job_id = queued.stdout.strip()
    assert "worker" in queued.stderr

    from tagwise.core import jobs
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        assert jobs.get(ctx, job_id, "train", "bank")["status"] == "notStarted"
    finally:
        ctx.close()
    busy = cli("train", "bank", "--model", "v2", "--recipe", "linear")
    assert busy.exit_code == 1 and "already training" in busy.stderr and "tagwise train bank --cancel" in busy.stderr

    cancelled = ok(cli("train", "bank", "--cancel"))
    assert f"cancelled training job {job_id}" in cancelled.stderr
    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        assert jobs.get(ctx, job_id, "train", "bank")["status"] == "cancelled"
    finally:
        ctx.close()
    assert "no training of bank is queued or running" in ok(cli("train", "bank", "--cancel")).stderr
    ok(cli("train", "bank", "--model", "v2", "--recipe", "linear", "--no-wait"))  # no longer refused
    assert cli("train", "nope", "--cancel").exit_code == 1
    # --follow: locally it runs the queued job here (no serve or worker took it) and prints its scores
    assert "is of v2, not v9" in cli("train", "bank", "--follow", "--model", "v9").stderr  # --model says which
    assert cli("train", "bank", "--follow", "--cancel").exit_code == 2
    followed = ok(cli("train", "bank", "--follow", "--model", "v2"))
    assert followed.stdout.startswith("trained bank/v2 in ") and "on " in followed.stdout


def test_multi_label_lifecycle(cli, datasets, tmp_path):
    from tests.cli.conftest import write_jsonl
    from tests.conftest import read_jsonl

    keep = {"gratitude", "love", "anger", "amusement"}
    rows = [dict(r, labels=[x for x in r["labels"] if x in keep]) for r in read_jsonl(datasets / "goemotions" / "train.jsonl")
            if set(r["labels"]) & keep][:240]
    path = write_jsonl(tmp_path / "emotions.jsonl", [{"id": r["id"], "text": r["text"], "labels": r["labels"]} for r in rows])
    ok(cli("import", "emo", str(path), "--kind", "multi"))
    trained = ok(cli("train", "emo", "--model", "v1", "--recipe", "linear", "--split-percent", "75")).stdout
    assert re.search(r"s: micro F1 0\.\d{3}, macro F1 0\.\d{3}, exact match 0\.\d{3} on \d+ test documents", trained), trained
    summary = json.loads(ok(cli("evaluate", "emo", "--model", "v1", "--json")).stdout)
    assert set(summary["customMultiLabelClassificationEvaluation"]["classes"]) == keep
    assert "confusion" not in ok(cli("evaluate", "emo", "--model", "v1")).stdout
    ok(cli("deploy", "emo", "live", "--model", "v1"))
    piped = ok(cli("classify", "emo", "live", "-", input="thank you so much!\nthis is hilarious lol\n")).stdout
    first = json.loads(piped.splitlines()[0])
    assert first["id"] == "1" and [p["category"] for p in first["predictions"]] == ["gratitude"]


def test_multi_label_evaluate_says_exact_match_and_counts_no_class_documents(cli, datasets, tmp_path, data_dir):
    # `tagwise evaluate` called multi-label's exact match "accuracy", promised a confusion matrix it did not print,
    # and nothing counted the "no class" test documents (a probe's 8 all got a class)
    from tests.conftest import read_jsonl

    keep = {"gratitude", "love", "anger", "amusement"}
    rows = read_jsonl(datasets / "goemotions" / "train.jsonl")
    tagged = [dict(r, labels=[x for x in r["labels"] if x in keep]) for r in rows if set(r["labels"]) & keep][:200]
    none = [dict(r, labels=[]) for r in rows if not set(r["labels"]) & keep][:60]  # JSONL's [] says "no class"
    path = write_jsonl(tmp_path / "emotions.jsonl", [{"id": r["id"], "text": r["text"], "labels": r["labels"]} for r in tagged + none])
    ok(cli("import", "emo", str(path), "--kind", "multi"))
    ok(cli("train", "emo", "--model", "v1", "--recipe", "linear", "--split-percent", "75"))
    shown = ok(cli("evaluate", "emo", "--model", "v1")).stdout
    assert re.search(r"^ *exact match +0\.\d{4} *$", shown, re.MULTILINE) and re.search(r"^ *exact match, 95% interval ", shown, re.MULTILINE), shown
    assert not re.search(r"^ *accuracy", shown, re.MULTILINE), shown
    counts = json.loads(ok(cli("evaluate", "emo", "--model", "v1", "--json")).stdout)["tagwise"]["noClass"]
    assert counts["testDocuments"] >= 10  # a stratified 25% of the 60
    assert (f"documents with no class: {counts['testDocuments']} in the test set, {counts['answeredNoClass']} answered with none; "
            f"{counts['wronglyAnsweredNoClass']} document") in shown
    helped = " ".join(ok(cli("evaluate", "--help")).stdout.split()).replace("- ", "-")  # wrapped at a hyphen
    assert "for single-label, the confusion matrix" in helped and "Multi-label has no confusion matrix" in helped

    # the project's confidenceThreshold, a floor under the tuned thresholds, holds for local classify too
    from tagwise.core import projects
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ok(cli("deploy", "emo", "live", "--model", "v1"))
    texts = "".join(r["text"].replace("\n", " ") + "\n" for r in tagged[:30])
    before = [json.loads(line)["predictions"] for line in ok(cli("classify", "emo", "live", "-", input=texts)).stdout.splitlines()]
    scores = sorted(p["confidenceScore"] for predictions in before for p in predictions)
    floor = round(scores[len(scores) // 2], 3)  # half of today's answers are under it
    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        projects.upsert(ctx, "emo", {"settings": {"confidenceThreshold": floor}})
    finally:
        ctx.close()
    after = [json.loads(line)["predictions"] for line in ok(cli("classify", "emo", "live", "-", input=texts)).stdout.splitlines()]
    assert after == [[p for p in old if p["confidenceScore"] >= floor] for old in before]
    assert sum(map(len, after)) < sum(map(len, before))


def test_local_training_sends_heartbeats_like_a_runner(bank, data_dir):
    from tests.cli.conftest import make_cli

    cli = make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_JOB_HEARTBEAT_S": "0.05"})
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    ok(cli("train", "bank", "--model", "v1", "--recipe", "linear"))

    from tagwise.core import jobs
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        [job] = jobs.list_for(ctx, "train", "bank")
    finally:
        ctx.close()
    assert job["status"] == "succeeded" and job["heartbeat_at"] is not None


def test_local_training_is_stopped_at_the_training_timeout(datasets, data_dir):
    from tests.cli.conftest import make_cli
    from tests.cli.test_errors import one_error_line

    # All of banking77's 10,003 training texts: a linear fit of several seconds, reporting progress all along.
    cli = make_cli({"TAGWISE_DATA_DIR": str(data_dir), "TAGWISE_ENDPOINT": "", "TAGWISE_TRAINING_TIMEOUT_S": "1"})
    ok(cli("import", "bank", str(datasets / "banking77" / "train.jsonl"), "--kind", "single"))
    message = one_error_line(cli("train", "bank", "--model", "v1", "--recipe", "linear"), code=1)
    assert message == "error: Training ran longer than 1 s (TAGWISE_TRAINING_TIMEOUT_S) and was stopped."

    from tagwise.core import jobs
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        [job] = jobs.list_for(ctx, "train", "bank")
    finally:
        ctx.close()
    assert job["status"] == "failed" and "TAGWISE_TRAINING_TIMEOUT_S" in job["errors"][0]["message"]
    assert cli("evaluate", "bank", "--model", "v1").exit_code == 1  # no model was recorded


def test_notes_go_to_stderr_off_a_terminal_but_progress_bars_do_not(cli, bank):
    """What docs/cli.md promises: notes on stderr terminal or not, progress bars only on a terminal."""
    created = ok(cli("project", "create", "bank", "--kind", "single"))
    assert created.stdout == "" and created.stderr.startswith("created project bank (single-label")
    imported = ok(cli("import", "bank", str(bank.path("train.jsonl"))))
    trained = ok(cli("train", "bank", "--model", "v1", "--recipe", "linear"))
    assert imported.stderr == "" and trained.stderr == ""  # no progress bar
    assert ok(cli("deploy", "bank", "prod", "--model", "v1")).stderr.startswith("deployed bank/v1 as prod")
    classified = ok(cli("classify", "bank", "prod", str(bank.path("queries.txt"))))
    assert classified.stderr.startswith(f"classified {len(bank.test)} documents in ") and len(classified.stderr.splitlines()) == 1
    docs = " ".join((Path(__file__).parents[2] / "docs" / "cli.md").read_text().split())
    assert "`classified N documents ...`, and after `train` its `note:` lines" in docs
    assert "the commonest class) always go to stderr, terminal or not" in docs
    assert "and only when stderr is a terminal" in docs


def test_a_multilingual_project_from_the_command_line(cli, tmp_path):
    # only the API could set multilingual: the CLI and the studio had no way to
    assert "(single-label, de, multilingual)" in ok(cli("project", "create", "mix", "--kind", "single", "--language", "de",
                                                        "--multilingual")).stderr
    assert "de (multilingual)" in ok(cli("project", "show", "mix")).stdout
    path = write_jsonl(tmp_path / "docs.jsonl", [{"text": "hola", "labels": ["greet"]}, {"text": "adiós", "labels": ["bye"]}])
    ok(cli("import", "fresh", str(path), "--kind", "single", "--language", "es", "--multilingual"))
    assert "es (multilingual)" in ok(cli("project", "show", "fresh")).stdout


def test_train_says_what_the_default_recipe_chose_and_the_trainings_notes(cli, bank):
    # the studio showed auto's choice, the encoder and the training's notes; the command line said none of them
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    trained = ok(cli("train", "bank", "--model", "a1"))
    assert trained.stdout.startswith("trained bank/a1") and trained.stdout.count("\n") == 1  # stdout stays one line
    # the model's own training time, in whole seconds as the API's lastTrainingDurationInSeconds (the command's wall time
    # counted its waits: a rate-limited key read "in 160.0 s" for a 16 s training)
    assert re.match(r"trained bank/a1 in (\d+ s|under 1 s): ", trained.stdout), trained.stdout
    assert re.search(r"^note: auto chose (linear|ensemble): ", trained.stderr, re.MULTILINE), trained.stderr


def test_evaluate_and_deploy_warn_as_the_studio_does_of_a_skewed_projects_model(cli, tmp_path):
    # a startup's first tickets: the studio warned "no better than always answering billing" and named
    # the classes never chosen; `tagwise evaluate` printed bare scores, `tagwise deploy` nothing.
    # card's texts read like billing's, so the model cannot tell them apart
    rows = ([{"text": f"please help me with ticket {i}", "labels": ["billing"]} for i in range(16)]
            + [{"text": f"please help me with ticket {i}", "labels": ["card"]} for i in range(20, 24)]
            + [{"text": "my pin is blocked after three tries", "labels": ["pin"]}])
    ok(cli("import", "inbox", str(write_jsonl(tmp_path / "inbox.jsonl", rows)), "--kind", "single"))
    ok(cli("train", "inbox", "--model", "v1", "--recipe", "linear"))
    evaluated = ok(cli("evaluate", "inbox", "--model", "v1"))
    assert "note: no better than always answering billing" in evaluated.stderr
    assert "note: never chosen on the test set: card (" in evaluated.stderr
    assert "note: not tested: pin (no test documents" in evaluated.stderr  # one document: kept for training
    assert re.search(r"^ *pin +- +- +- +0 ", evaluated.stdout, re.MULTILINE), evaluated.stdout  # not a made-up 0.000
    assert "warning: inbox/v1 is no better than always answering billing" in ok(cli("deploy", "inbox", "prod", "--model", "v1")).stderr
    assert "confidence threshold" not in evaluated.stderr
    # --json: the summary on stdout, the same notes on stderr (a script that would not deploy such a model read none)
    as_json = ok(cli("evaluate", "inbox", "--model", "v1", "--json"))
    assert json.loads(as_json.stdout)["tagwise"] and as_json.stderr == evaluated.stderr


def test_evaluate_says_the_threshold_its_scores_were_measured_at(cli, bank, data_dir):
    # a model trained at 90% scored 0.924 against 0.973 at none, and `tagwise evaluate` did not say why (the studio did)
    from tagwise.core import projects
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        projects.upsert(ctx, "bank", {"settings": {"confidenceThreshold": 0.9}})
    finally:
        ctx.close()
    ok(cli("train", "bank", "--model", "t90", "--recipe", "linear"))
    evaluated = ok(cli("evaluate", "bank", "--model", "t90"))
    assert ("note: scored at a confidence threshold of 0.9, the project's when it trained: a less sure answer counted as None"
            in evaluated.stderr)


def test_models_and_deployments_can_be_swapped_and_deleted_locally(cli, bank):
    check_model_and_deployment_commands(cli, bank)


def test_a_projects_documents_are_listed_locally(cli, bank, tmp_path):
    check_documents_command(cli, bank)
    brackets = write_jsonl(tmp_path / "brackets.jsonl", [{"id": "a", "text": "[bold]not markup[/bold] [/]", "labels": ["[x]"]}])
    ok(cli("import", "raw", str(brackets), "--kind", "single"))
    assert "[bold]not markup[/bold] [/]" in ok(cli("project", "documents", "raw")).stdout


def test_documents_are_deleted_by_location_locally(cli, bank, tmp_path):
    check_delete_documents_command(cli, bank, tmp_path)


def test_evaluate_names_the_class_thresholds_the_project_set():
    # admiration scored recall 0.345 with its threshold set to 0.6 by the project, and `tagwise evaluate` said nothing of it
    from tagwise.cli.training import _notes

    summary = {"customMultiLabelClassificationEvaluation": {}, "tagwise": {"projectClassThresholds": {"anger": 0.45, "admiration": 0.6}}}
    assert "scored with the project's class thresholds in place of the tuned ones: admiration 0.6, anger 0.45" in _notes(summary)


def test_evaluate_says_when_a_model_beats_the_commonest_class_by_less_than_its_test_set_can_tell():
    from tagwise.cli.training import _notes

    summary = {"customSingleLabelClassificationEvaluation": {},
               "tagwise": {"accuracy": 51 / 72, "testDocuments": 72, "majorityBaseline": {"class": "Major", "accuracy": 0.694}}}
    assert any(n.startswith("the model is not clearly better than always answering Major (70.8% against 69.4%") for n in _notes(summary))
