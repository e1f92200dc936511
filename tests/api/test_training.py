"""Training jobs, trained models and their evaluation, for both project kinds."""

from __future__ import annotations

import time

import pytest

from tests.api.conftest import CLASSIFY, MULTI, SINGLE, A, V, create_and_import, deploy, project_file, train, wait


def test_train_percentage_split_and_read_the_evaluation(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"])
    job = train(client, "bank")
    assert job["status"] == "succeeded", job
    assert job["result"]["trainingStatus"] == {**job["result"]["trainingStatus"], "percentComplete": 100, "status": "succeeded"}
    assert job["result"]["evaluationStatus"]["status"] == "succeeded"
    # a finished job says when each step ran, and its estimate is when it ended (both were missing)
    training, evaluation = job["result"]["trainingStatus"], job["result"]["evaluationStatus"]
    assert training["startDateTime"] <= training["endDateTime"] == evaluation["startDateTime"] <= evaluation["endDateTime"]
    assert job["result"]["estimatedEndDateTime"] == evaluation["endDateTime"]

    model = client.get(f"{A}/bank/models/m1", params=V).json()
    assert model["label"] == "m1" and model["modelTrainingConfigVersion"] == "linear"
    assert [m["label"] for m in client.get(f"{A}/bank/models", params=V).json()["value"]] == ["m1"]

    summary = client.get(f"{A}/bank/models/m1/evaluation/summary-result", params=V).json()
    assert summary["projectKind"] == SINGLE
    assert summary["evaluationOptions"] == {"kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20}
    evaluation = summary["customSingleLabelClassificationEvaluation"]
    assert evaluation["microF1"] == evaluation["microPrecision"] == evaluation["microRecall"]
    assert evaluation["microF1"] > 0.6  # 6 banking77 intents, 20 training examples each
    assert set(evaluation["classes"]) == {r["labels"][0] for r in banking["train"]}
    assert summary["tagwise"]["trainDocumentsPerClass"] == dict.fromkeys(evaluation["classes"], 20)
    assert summary["tagwise"]["confidenceThreshold"] == 0.0  # the project has none
    assert summary["tagwise"]["majorityBaseline"]["tiedClasses"] == 6  # 5 test documents of each class: no commonest
    for row in evaluation["confusionMatrix"].values():
        assert abs(sum(cell["normalizedValue"] for cell in row.values()) - 100) < 1e-6

    results = client.get(f"{A}/bank/models/m1/evaluation/result", params=dict(V, stringIndexType="Utf16CodeUnit", maxpagesize=10)).json()
    total, page = len(results["value"]), results
    while page["nextLink"]:
        page = client.get(page["nextLink"]).json()
        total += len(page["value"])
    assert total == 30  # 20% of 25 documents in each of 6 classes
    first = results["value"][0]["customSingleLabelClassificationResult"]
    assert set(first) == {"expectedClass", "predictedClass"}
    # each document's confidence, so that the calibration error can be checked from outside (it could not)
    import numpy as np

    from tagwise.ml.evaluate import expected_calibration_error

    items = client.get(f"{A}/bank/models/m1/evaluation/result", params=dict(V, top=100)).json()["value"]
    confidence = np.array([item["tagwise"]["confidence"] for item in items])
    # the top class before the threshold: a project with one answers None below it, and the ECE is of the top class
    right = np.array([i["tagwise"]["topClass"] == i["customSingleLabelClassificationResult"]["expectedClass"] for i in items])
    assert expected_calibration_error(confidence, right) == pytest.approx(summary["tagwise"]["expectedCalibrationError"], abs=1e-4)

    assert client.get(f"{A}/bank/train/jobs", params=V).json()["value"][0]["jobId"] == job["jobId"]


def test_manual_split_uses_the_documents_dataset(client, banking):
    rows = [dict(r, dataset="Train") for r in banking["train"]] + [dict(r, dataset="Test") for r in banking["test"][:40]]
    create_and_import(client, "manual", SINGLE, rows)
    assert train(client, "manual", evaluation={"kind": "manual"})["status"] == "succeeded"
    summary = client.get(f"{A}/manual/models/m1/evaluation/summary-result", params=V).json()
    assert summary["evaluationOptions"] == {"kind": "manual"}
    assert summary["tagwise"]["testDocuments"] == 40


def test_multi_label_training_tunes_thresholds_and_has_no_confusion_matrix(client, emotions):
    create_and_import(client, "emo", MULTI, emotions)
    assert train(client, "emo")["status"] == "succeeded"
    summary = client.get(f"{A}/emo/models/m1/evaluation/summary-result", params=V).json()
    evaluation = summary["customMultiLabelClassificationEvaluation"]
    assert "confusionMatrix" not in evaluation
    assert evaluation["microF1"] > 0.4
    item = client.get(f"{A}/emo/models/m1/evaluation/result", params=V).json()["value"][0]
    assert set(item["customMultiLabelClassificationResult"]) == {"expectedClasses", "predictedClasses"}
    # each document's probabilities of its expected and predicted classes (and the likeliest few):
    # how far a missed class fell below its threshold, and how sure a wrong one was
    thresholds = summary["tagwise"]["classThresholds"]
    items = client.get(f"{A}/emo/models/m1/evaluation/result", params=dict(V, top=200)).json()["value"]
    missed = 0
    for item in items:
        result, scores = item["customMultiLabelClassificationResult"], item["tagwise"]["scores"]
        assert set(result["expectedClasses"]) | set(result["predictedClasses"]) <= set(scores)
        assert 3 <= len(scores) and list(scores.values()) == sorted(scores.values(), reverse=True)
        for label, score in scores.items():  # a class is chosen exactly when it reaches its threshold
            assert (label in result["predictedClasses"]) == (score >= thresholds[label] - 1e-6), (label, score)
        missed += len(set(result["expectedClasses"]) - set(result["predictedClasses"]))
    assert missed  # some expected class was missed, and its score says by how much


def test_same_data_and_seed_give_the_same_evaluation(client, banking):
    create_and_import(client, "again", SINGLE, banking["train"])
    train(client, "again", "a")
    train(client, "again", "b")
    first = client.get(f"{A}/again/models/a/evaluation/result", params=V).json()["value"]
    second = client.get(f"{A}/again/models/b/evaluation/result", params=V).json()["value"]
    assert first == second


def test_training_requests_are_checked_before_queuing(client, banking, emotions):
    create_and_import(client, "small", SINGLE, banking["train"][:6])
    create_and_import(client, "ok", SINGLE, banking["train"])
    untagged = [dict(row, labels=[]) for row in emotions[:30]]  # multi-label: tagged, but with no class at all
    create_and_import(client, "none", MULTI, untagged)
    cases = [
        ("small", {"modelLabel": "m", "trainingConfigVersion": "linear"}, "at least 10"),
        ("ok", {"modelLabel": "m", "trainingConfigVersion": "v99"}, "trainingConfigVersion"),
        ("ok", {"modelLabel": "bad label", "trainingConfigVersion": "linear"}, "model name"),
        ("ok", {}, "modelLabel is required"),  # was "The model name None is invalid"
        ("ok", {"modelLabel": "m", "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": 70, "testingSplitPercentage": 20}}, "add up to 100"),
        ("ok", {"modelLabel": "m", "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": True, "testingSplitPercentage": 99}}, "whole numbers"),
        ("ok", {"modelLabel": "m", "evaluationOptions": {"kind": "manual"}}, "test set"),
        ("ok", {"modelLabel": "m", "trainingConfigVersion": ["latest"]}, "trainingConfigVersion ['latest'] is unknown"),
        ("none", {"modelLabel": "m", "trainingConfigVersion": "linear"}, "No document of the training set has a class"),
    ]
    for project, body, phrase in cases:
        response = client.post(f"{A}/{project}/:train", params=V, json=body)
        assert response.status_code == 400, response.text
        assert phrase in response.json()["error"]["message"]
    assert client.post(f"{A}/nope/:train", params=V, json={"modelLabel": "m"}).status_code == 404


def test_cancel_a_training_job(client, banking):
    create_and_import(client, "cancel", SINGLE, banking["train"])
    started = client.post(f"{A}/cancel/:train", params=V, json={"modelLabel": "m1", "trainingConfigVersion": "linear"})
    second = client.post(f"{A}/cancel/:train", params=V, json={"modelLabel": "m2", "trainingConfigVersion": "linear"})
    assert second.status_code == 409  # one training at a time per project
    job_url = started.headers["Operation-Location"]
    job_id = job_url.split("/jobs/")[1].split("?")[0]
    cancel = client.post(f"{A}/cancel/train/jobs/{job_id}/:cancel", params=V)
    if cancel.status_code != 409:  # 409: a fast training finished first
        assert cancel.status_code == 202 and cancel.headers["Operation-Location"] == job_url
    final = wait(client, job_url)
    assert final["status"] in ("cancelled", "succeeded")
    if final["status"] == "cancelled":
        assert client.get(f"{A}/cancel/models/m1", params=V).status_code == 404
    again = client.post(f"{A}/cancel/train/jobs/{job_id}/:cancel", params=V)
    assert again.status_code == 409 and "has already ended" in again.json()["error"]["message"]


def test_delete_a_model(client, banking):
    create_and_import(client, "del", SINGLE, banking["train"])
    train(client, "del")
    assert client.delete(f"{A}/del/models/m1", params=V).status_code == 204
    response = client.get(f"{A}/del/models/m1", params=V)
    assert response.status_code == 404 and response.json()["error"]["code"] == "NotFound"


def test_the_default_recipe_says_what_it_chose_and_why(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"])
    assert train(client, "bank", version="latest")["status"] == "succeeded"
    extra = client.get(f"{A}/bank/models/m1/evaluation/summary-result", params=V).json()["tagwise"]
    assert extra["chosenRecipe"] in {"linear", "ensemble"} and "out-of-fold accuracy" in extra["chosenBecause"]
    assert train(client, "bank", label="m2")["status"] == "succeeded"  # a named recipe chooses nothing
    assert "chosenRecipe" not in client.get(f"{A}/bank/models/m2/evaluation/summary-result", params=V).json()["tagwise"]
    # Azure's dated version, which training-config-versions lists, is the default recipe too
    assert train(client, "bank", label="m3", version="2022-05-01")["status"] == "succeeded"
    assert client.get(f"{A}/bank/models/m3/evaluation/summary-result", params=V).json()["tagwise"]["chosenRecipe"] == extra["chosenRecipe"]


def test_the_operator_sets_the_default_recipes_time_budget(tmp_path, banking):
    from tagwise.settings import Settings
    from tests.conftest import KEY, open_client

    hurried = Settings(data_dir=tmp_path / "data", api_key=KEY, auto_time_budget_s=0)
    with open_client(hurried) as client:
        create_and_import(client, "bank", SINGLE, banking["train"][:200])
        assert train(client, "bank", version="latest")["status"] == "succeeded"
        extra = client.get(f"{A}/bank/models/m1/evaluation/summary-result", params=V).json()["tagwise"]
    assert extra["chosenRecipe"] == "linear" and "over the time budget (0 s)" in extra["chosenBecause"]


def test_the_operator_brings_a_sentence_encoder(tmp_path, banking, encoder_folder):
    # TAGWISE_ENCODER_MODEL_DIR: the training job's process embeds with the folder, the model
    # remembers it, and a server without it says so instead of classifying with another encoder
    from tagwise.ml.encoder import folder_model_id
    from tagwise.settings import Settings
    from tests.conftest import KEY, open_client

    docs = {"documents": [{"id": "1", "text": banking["test"][0]["text"]}]}
    own = Settings(data_dir=tmp_path / "data", api_key=KEY, encoder_model_dir=encoder_folder)
    with open_client(own) as client:
        create_and_import(client, "bank", SINGLE, banking["train"][:200])
        assert train(client, "bank", version="ensemble")["status"] == "succeeded"
        extra = client.get(f"{A}/bank/models/m1/evaluation/summary-result", params=V).json()["tagwise"]
        deploy(client, "bank", "prod", "m1")
        assert client.post(CLASSIFY.format(p="bank", d="prod"), json=docs).status_code == 200
    assert extra["sentenceEncoder"] == folder_model_id(encoder_folder)
    with open_client(Settings(data_dir=tmp_path / "data", api_key=KEY)) as client:
        response = client.post(CLASSIFY.format(p="bank", d="prod"), json=docs)
    error = response.json()["error"]
    assert response.status_code == 500 and error["code"] == "InternalServerError"
    assert "TAGWISE_ENCODER_MODEL_DIR is not set" in error["message"]


def test_deleting_a_project_stops_its_training_and_a_new_one_of_that_name_is_not_touched(client, datasets, emotions):
    # the training went on; a project created under the same name got 409 "already training", and
    # (SQLite reuses a deleted row's id) the old training then wrote its model into the new project
    from tests.conftest import read_jsonl

    create_and_import(client, "reuse", SINGLE, read_jsonl(datasets / "banking77" / "train.jsonl")[:3000])
    started = client.post(f"{A}/reuse/:train", params=V, json={"modelLabel": "old", "trainingConfigVersion": "ensemble"})
    old_job = started.headers["Operation-Location"]
    deadline = time.monotonic() + 60
    while client.get(old_job).json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert wait(client, client.delete(f"{A}/reuse", params=V).headers["Operation-Location"])["status"] == "succeeded"
    ended = client.get(old_job).json()  # failed, which ends an SDK's begin_train poller: "cancelled" left it waiting forever
    assert ended["status"] == "failed" and ended["errors"] == [{
        "code": "ProjectNotFound", "message": "The project reuse was deleted while this training was queued or running; no model was kept."}]
    assert ended["error"] == ended["errors"][0]  # what azure-core reads into the poller's exception

    create_and_import(client, "reuse", MULTI, emotions[:200])
    new = client.post(f"{A}/reuse/:train", params=V, json={"modelLabel": "new", "trainingConfigVersion": "linear"})
    assert new.status_code == 202, new.text
    assert wait(client, old_job)["status"] == "failed"
    assert wait(client, new.headers["Operation-Location"])["status"] == "succeeded"
    assert [m["label"] for m in client.get(f"{A}/reuse/models", params=V).json()["value"]] == ["new"]
    assert [j["result"]["modelLabel"] for j in client.get(f"{A}/reuse/train/jobs", params=V).json()["value"]] == ["new"]


def test_a_new_project_of_a_deleted_ones_name_lists_none_of_its_trainings(client, banking):
    # the deleted project's jobs were listed in the new one, naming models it does not have
    create_and_import(client, "again", SINGLE, banking["train"])
    old_job = client.post(f"{A}/again/:train", params=V, json={"modelLabel": "old", "trainingConfigVersion": "linear"})
    old = wait(client, old_job.headers["Operation-Location"])
    assert old["status"] == "succeeded"
    assert wait(client, client.delete(f"{A}/again", params=V).headers["Operation-Location"])["status"] == "succeeded"

    create_and_import(client, "again", SINGLE, banking["train"])
    assert client.get(f"{A}/again/train/jobs", params=V).json()["value"] == []
    assert train(client, "again", "new")["status"] == "succeeded"
    listed = client.get(f"{A}/again/train/jobs", params=V).json()["value"]
    assert [j["result"]["modelLabel"] for j in listed] == ["new"] and old["jobId"] not in {j["jobId"] for j in listed}
    assert [m["label"] for m in client.get(f"{A}/again/models", params=V).json()["value"]] == ["new"]


def test_an_english_project_with_texts_in_other_languages_says_so_or_trains_multilingual(client, datasets):
    # sib200's German, Spanish and French in a project left at "en" trained with the English-only encoder:
    # 0.709 against 0.861 with the multilingual one, and nothing said why
    from tests.conftest import read_jsonl

    rows = read_jsonl(datasets / "sib200_de_es_fr" / "train.jsonl")[:300]
    create_and_import(client, "sib", SINGLE, rows)
    job = train(client, "sib", version="linear")
    assert job["status"] == "succeeded" and job["warnings"][0]["code"] == "TrainingDataWarning"
    assert "do not look English" in job["warnings"][0]["message"]
    summary = client.get(f"{A}/sib/models/m1/evaluation/summary-result", params=V).json()
    assert "multilingual: true" in summary["tagwise"]["notes"][0]

    # documents that declare their language: the model uses the multilingual encoder on its own
    every = read_jsonl(datasets / "sib200_de_es_fr" / "train.jsonl")
    mixed = [r for lang in ("de", "es", "fr") for r in every if r["meta"]["lang"] == lang][::7]  # 100 of each, in turn
    declared = project_file("declared", SINGLE, mixed)
    for doc, row in zip(declared["assets"]["documents"], mixed, strict=True):
        doc["language"] = row["meta"]["lang"]
    assert wait(client, client.post(f"{A}/declared/:import", params=V, json=declared).headers["Operation-Location"])["status"] == "succeeded"
    train(client, "declared", version="embedding")
    extra = client.get(f"{A}/declared/models/m1/evaluation/summary-result", params=V).json()["tagwise"]
    assert extra["sentenceEncoder"] != "all-MiniLM-L6-v2" and "multilingual sentence encoder" in extra["notes"][0]
    # how each language fares, in the summary (it was on the studio's Evaluate page only)
    assert {r["language"] for r in extra["languages"]} == {"de", "es", "fr"}
    assert sum(r["testDocuments"] for r in extra["languages"]) == extra["testDocuments"]
    assert sum(r["correct"] for r in extra["languages"]) == round(extra["accuracy"] * extra["testDocuments"])
    assert "languages" not in summary["tagwise"]  # one language: nothing to compare

    create_and_import(client, "en", SINGLE, read_jsonl(datasets / "banking77" / "train.jsonl")[:300])
    assert train(client, "en", version="linear")["warnings"] == []  # English data says nothing


def test_a_class_with_almost_no_training_documents_is_named_in_the_trainings_warnings(client, banking):
    # the Overview warned, the training page said nothing, and the class was never chosen
    rows = [dict(r, dataset="Train") for r in banking["train"]]
    label = rows[0]["labels"][0]
    rare = next(r for r in banking["test"] if r["labels"] == [label])
    rows = [r for r in rows if r["labels"] != [label]] + [dict(rows[0]), dict(rare, dataset="Test")]
    rows += [dict(r, dataset="Test") for r in banking["test"][:20]]
    create_and_import(client, "rare", SINGLE, rows)
    job = train(client, "rare", evaluation={"kind": "manual"})
    assert job["status"] == "succeeded"
    assert [w["message"] for w in job["warnings"]] == [
        f"Trained on fewer than 3 documents of {label} (1): the model can hardly learn them. Tag more of these."]


def test_test_documents_that_copy_training_documents_are_named_in_the_warnings(client, banking):
    # a helpdesk's forwarded copies of one email landed in train and test: 0.986 on the evaluation,
    # 0.389 on new emails, and nothing said why
    rows = [dict(r, dataset="Train") for r in banking["train"]]
    copies = [dict(r, text="  " + r["text"].upper() + " ", dataset="Test") for r in banking["train"][:6]]
    copies.append(dict(banking["train"][6], text=banking["train"][6]["text"].replace("?", "").replace("'", "") + "!!", dataset="Test"))
    rows[7] = dict(rows[7], text=rows[7]["text"] + " (ticket 1001)")
    copies.append(dict(rows[7], text=rows[7]["text"].replace("1001", "48213"), dataset="Test"))  # its ticket id hid the copy
    # "top up" in one, "top-up" in the other: the dropped hyphen had made them two texts
    copies.append(dict(banking["train"][9], text=banking["train"][9]["text"].replace(" ", "-", 1), dataset="Test"))
    other = next(r["labels"] for r in banking["train"] if r["labels"] != banking["train"][8]["labels"])
    conflict = dict(banking["train"][8], labels=other, dataset="Test")  # the same text under another tag
    create_and_import(client, "copies", SINGLE, rows + copies + [conflict] + [dict(r, dataset="Test") for r in banking["test"][:20]])
    messages = [w["message"] for w in train(client, "copies", evaluation={"kind": "manual"})["warnings"]]
    # each names some of the documents (a team could not tell which of 2,010 the note meant)
    n = len(rows)  # the copies come after the training rows, as doc{n}.txt...; the originals are doc0.txt...
    assert messages[0] == (f"10 of 30 test documents have the same text as a training document (ignoring case, spacing, "
                           f"punctuation and numbers): doc{n}.txt (as doc0.txt), doc{n + 1}.txt (as doc1.txt), doc{n + 2}.txt (as doc2.txt) and 7 more. "
                           "The evaluation scores them as seen text, so it overstates how the model does on new text. Remove the "
                           "copies (forwards and resends of one email are copies too).")
    assert messages[1] == (f"1 text is tagged differently in different documents: doc8.txt ({banking['train'][8]['labels'][0]}) vs "
                           f"doc{n + 9}.txt ({other[0]}). Give each text one tag.")
