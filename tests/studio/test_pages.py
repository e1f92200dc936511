"""Studio pages and writes in process (real store, real models): deploy/swap/delete, cancel, multi-label evaluation, bulk sets."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest

from tagwise.core import deployments, documents, jobs, model_results, models, percentfmt, projects, readiness, schema, tagging, training
from tagwise.core.percentfmt import percents
from tagwise.errors import InvalidArgument
from tagwise.storage.document_records import DocumentFilter
from tagwise.studio import views
from tests.studio.conftest import field_error, flash, form_data

SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"


def _train(ctx, project: str, label: str, recipe: str = "linear") -> None:
    job = training.start(ctx, project, {"modelLabel": label, "trainingConfigVersion": recipe})
    training.run(ctx, job["id"], lambda _: None)


def test_deploy_swap_and_delete(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    _train(ctx, "bank", "one")
    _train(ctx, "bank", "two")
    # a finished training's Deploy button offers that model, not the newest (which put "two" live from one's page)
    job_id = next(j["id"] for j in jobs.list_for(ctx, "train", "bank") if j["payload"]["modelLabel"] == "one")
    assert '/deployments?model=one"' in studio.get(f"/studio/p/bank/train/{job_id}").text
    assert '<option value="one" selected>' in studio.get("/studio/p/bank/deployments", params={"model": "one"}).text
    assert '<option value="two" selected>' in studio.get("/studio/p/bank/deployments").text  # the newest, when it beats the baseline
    for name, model in (("prod", "one"), ("staging", "two")):
        page = studio.post("/studio/p/bank/deployments", data={"csrf": studio.csrf, "name": name, "model": model})
        assert f"deployed as {name}." in flash(page.text)
    page = studio.post("/studio/p/bank/deployments", data={"csrf": studio.csrf, "name": "staging", "model": "one"})
    assert "Model one is deployed as staging, in place of two." in flash(page.text)
    studio.post("/studio/p/bank/deployments", data={"csrf": studio.csrf, "name": "staging", "model": "two"})
    page = studio.post("/studio/p/bank/deployments/swap", data={"csrf": studio.csrf, "first": "prod", "second": "staging"})
    assert "Swapped" in flash(page.text)
    assert {d["name"]: d["model_label"] for d in deployments.list_all(ctx, "bank")} == {"prod": "two", "staging": "one"}
    # deleting one said nothing of the applications calling it
    assert 'Every application that calls staging gets "not found" from then on' in html.unescape(studio.get("/studio/p/bank/deployments").text)
    page = studio.post("/studio/p/bank/deployments/delete", data={"csrf": studio.csrf, "name": "staging"})
    assert "deleted" in flash(page.text) and [d["name"] for d in deployments.list_all(ctx, "bank")] == ["prod"]
    tried = studio.post("/studio/p/bank/try", data={"csrf": studio.csrf, "deployment": "prod", "text": banking["test"][0]["text"]})
    assert 'data-predicted' in tried.text and tried.text.count('class="bar') >= 2
    # a text that cannot be classified stays in the form, with the reason
    for text, reason in (("pasted " * 1000, "paste at most 5,000"), ("   ", "Paste some text")):
        refused = studio.post("/studio/p/bank/try", data={"csrf": studio.csrf, "deployment": "prod", "text": text},
                              headers={"referer": "http://127.0.0.1/studio/p/bank/try"})
        assert reason in field_error(refused.text, "try-text") and f">{text}</textarea>" in refused.text
    # 4,900 characters in the box, sent as 5,600: a form sends each line break as \r\n
    lines = studio.post("/studio/p/bank/try", data={"csrf": studio.csrf, "deployment": "prod", "text": "pasted\r\n" * 700})
    assert lines.status_code == 200 and "data-predicted" in lines.text and 'id="try-language"' not in lines.text
    # the API's LanguageNotTrained, which Try it never showed (the page a team tests foreign tickets on)
    russian = html.unescape(studio.post("/studio/p/bank/try", data={"csrf": studio.csrf, "deployment": "prod",
                                                                    "text": "Где моя карта? Я её потерял вчера."}).text)
    assert re.search(r'id="try-language" role="note">The document is written mostly in Cyrillic script, but the model was trained for', russian)
    overview = studio.get("/studio/p/bank").text
    assert "prod" in overview and "two" in overview


def test_a_model_is_deleted_from_its_evaluate_page_unless_deployed(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    for label in ("model-1", "model-2", "model-3"):
        _train(ctx, "bank", label)
    record = projects.get(ctx, "bank")
    folder = models.located(ctx, record, models.get(ctx, "bank", "model-2"))
    assert (folder / "manifest.json").is_file()

    page = studio.get("/studio/p/bank/evaluate?model=model-2").text
    assert 'aria-label="Delete this model: model-2…"' in page and "it cannot be undone" in page
    sent = form_data(page, "delete-model-form")
    assert sent["model"] == ["model-2"] and sent["csrf"] == [studio.csrf]
    # without the session's token nothing is deleted
    stale = studio.post("/studio/p/bank/models/delete", data={**sent, "csrf": "stale"},
                        headers={"referer": "http://127.0.0.1/studio/p/bank/evaluate?model=model-2"})
    assert "security token" in flash(stale.text) and folder.is_dir()
    assert [m["label"] for m in models.list_all(ctx, "bank")] == ["model-1", "model-2", "model-3"]
    # the page showed another model of that label than the store has now (trained again since): nothing goes
    retrained = studio.post("/studio/p/bank/models/delete", data={**sent, "model_id": "model-2-20260101T000000-0123abcd"},
                            headers={"referer": "http://127.0.0.1/studio/p/bank/evaluate?model=model-2"})
    assert "was trained again since this page was shown" in flash(retrained.text) and folder.is_dir()

    done = studio.post("/studio/p/bank/models/delete", data=sent, headers={"referer": "http://127.0.0.1/studio/p/bank/evaluate?model=model-2"})
    assert done.url.path == "/studio/p/bank/evaluate" and "Model model-2 deleted" in flash(done.text)
    assert [m["label"] for m in models.list_all(ctx, "bank")] == ["model-1", "model-3"] and not folder.exists()
    # "model-3" was suggested (2 models + 1): training under it replaced model-3
    assert 'name="label" value="model-4"' in studio.get("/studio/p/bank/train").text

    deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "model-3"})
    folder = models.located(ctx, record, models.get(ctx, "bank", "model-3"))
    page = studio.get("/studio/p/bank/evaluate?model=model-3").text
    assert 'id="delete-model-form"' not in page  # no button that can only fail: what to do first instead
    assert "model-3 is deployed as prod, so it cannot be deleted" in html.unescape(page)
    refused = studio.post("/studio/p/bank/models/delete", data={"csrf": studio.csrf, "model": "model-3"},
                          headers={"referer": "http://127.0.0.1/studio/p/bank/evaluate?model=model-3"})
    assert refused.url.path == "/studio/p/bank/evaluate" and refused.url.params["model"] == "model-3"
    assert 'class="flash error sticky"' in refused.text and "The model model-3 is deployed as prod" in flash(refused.text)
    assert [m["label"] for m in models.list_all(ctx, "bank")] == ["model-1", "model-3"] and folder.is_dir()


def test_the_suggested_model_name_is_past_the_highest_model_number_and_never_taken():
    from tagwise.studio.routes.models import next_label

    assert next_label([]) == next_label(["v1", "prod"]) == "model-1"
    assert next_label(["model-1", "model-3"]) == "model-4"
    assert next_label(["Model-7", "model-2", "model-x", "mymodel-9", "model-9b"]) == "model-8"
    assert next_label(["model-04"]) == "model-5"


def test_cancel_a_training_job(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "c", SINGLE, "en")
    tagging.add_documents(ctx, "c", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"][:40]])
    page = studio.post("/studio/p/c/train", data={"csrf": studio.csrf, "label": "m", "recipe": "linear", "split": "percentage", "train_pct": "75"})
    job_id = str(page.url).rsplit("/", 1)[1]
    assert "Training m" in page.text and "Cancel training" in page.text
    assert studio.get(f"/studio/p/c/train/{job_id}.json").json()["status"] == "notStarted"
    page = studio.post(f"/studio/p/c/train/{job_id}/cancel", data={"csrf": studio.csrf})
    assert "Cancel requested" in flash(page.text)
    state = studio.get(f"/studio/p/c/train/{job_id}.json").json()
    assert state["status"] == "cancelled" and state["done"]
    assert jobs.get(ctx, job_id, "train")["payload"]["evaluationOptions"]["trainingSplitPercentage"] == 75


def test_training_errors_are_shown_on_the_page(studio):
    tagging.create_project(studio.ctx, "few", SINGLE, "en")
    page = studio.post("/studio/p/few/train", data={"csrf": studio.csrf, "label": "m"}, headers={"referer": "http://127.0.0.1/studio/p/few/train"})
    assert page.url.path == "/studio/p/few/train" and "at least 10" in flash(page.text)


def test_multi_label_evaluation_shows_label_confusion(studio, emotions):
    ctx = studio.ctx
    tagging.create_project(ctx, "emo", MULTI, "en")
    tagging.add_documents(ctx, "emo", [{"location": f"d{i}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(emotions)])
    _train(ctx, "emo", "m")
    page = studio.get("/studio/p/emo/evaluate")
    assert page.status_code == 200
    assert 'id="label-confusion"' in page.text and 'id="confusion"' not in page.text
    assert "Micro" in page.text and 'id="class-table"' in page.text
    assert "(none)" not in page.text  # read like a class named "(none)"
    # each class's own threshold, on Evaluate and on Try it, where a class chosen at 23% next to one not chosen at 26% puzzled
    thresholds = models.get(ctx, "emo", "m")["evaluation"]["tagwise"]["classThresholds"]
    assert set(thresholds) == set(models.get(ctx, "emo", "m")["evaluation"]["customMultiLabelClassificationEvaluation"]["classes"])
    assert '<th scope="col" title="The probability the class needs to be chosen, tuned on the training data">Threshold</th>' in page.text
    deployments.deploy(ctx, "emo", "prod", {"trainedModelLabel": "m"})
    tried = studio.post("/studio/p/emo/try", data={"csrf": studio.csrf, "deployment": "prod", "text": emotions[0]["text"]})
    assert 'id="try-thresholds"' in tried.text and tried.text.count("data-threshold") >= 2
    wrong = [w for w in (r["customMultiLabelClassificationResult"] for r in models.get(ctx, "emo", "m")["evaluation_results"])
             if not w["predictedClasses"] and w["expectedClasses"]]
    assert not wrong or "Tag as no class" in page.text  # a document the model gave no class can be tagged so in one click
    # each incorrect prediction shows the model's probability of the classes it missed and added:
    # a class missed at 45% against its threshold of 50% is another fix than one missed at 2%
    first = next(w for w in (models.get(ctx, "emo", "m")["evaluation_results"])
                 if set(w["customMultiLabelClassificationResult"]["expectedClasses"]) != set(w["customMultiLabelClassificationResult"]["predictedClasses"]))
    row = page.text.split('id="wrong-1"', 1)[1].split("</tr>", 1)[0]
    for label in first["customMultiLabelClassificationResult"]["expectedClasses"] + first["customMultiLabelClassificationResult"]["predictedClasses"]:
        shown = f'{100 * first["tagwise"]["scores"][label]:.1f}%'
        assert f"{label}</bdi> <span class=\"score\" title=\"the model's probability of {label}\">{shown}</span>" in row, (label, row)
    # a document tagged with no class has no right classes to add to: said apart (40 of 66 "added annoyance to a
    # document's right classes" were such documents)
    crafted = {"evaluation": {"projectKind": MULTI}, "evaluation_results": [
        {"customMultiLabelClassificationResult": {"expectedClasses": [], "predictedClasses": ["joy"]}},
        {"customMultiLabelClassificationResult": {"expectedClasses": ["anger"], "predictedClasses": []}},
        {"customMultiLabelClassificationResult": {"expectedClasses": ["anger"], "predictedClasses": ["anger", "joy"]}}]}
    assert views.label_confusion(crafted)["pairs"] == [{"missed": "", "added": "joy", "count": 1},
                                                      {"missed": "anger", "added": None, "count": 1},
                                                      {"missed": None, "added": "joy", "count": 1}]
    # micro pools every class decision in a multi-label project (it read "per document"), and the calibration error's
    # tooltip says what it averages over (a 90%-sure class was not right 88-92% of the time)
    assert 'Micro <span class="small muted">(per class decision)</span>' in page.text
    assert "averaged over every document and class" in html.unescape(page.text)
    none_left = studio.get("/studio/p/emo/data?status=noclass")
    assert none_left.status_code == 200 and 'value="noclass" selected>tagged "no class"</option>' in none_left.text
    mismatched = studio.get("/studio/p/emo/data?mismatch=1")
    assert mismatched.status_code == 200 and "that model m, the newest, predicted differently" in html.unescape(mismatched.text)
    tagging.create_project(ctx, "fresh", MULTI, "en")  # "0 document(s) the newest model predicted differently" with no model
    assert "No model has been trained yet" in studio.get("/studio/p/fresh/data?mismatch=1").text


def test_evaluation_says_what_the_default_recipe_chose_and_why(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    _train(ctx, "bank", "m", recipe="latest")
    page = studio.get("/studio/p/bank/evaluate").text
    chosen = re.search(r'id="chosen-recipe">([a-z]+)<', page)
    assert chosen and chosen.group(1) in {"linear", "ensemble"}
    assert re.search(r'id="chosen-because">Chosen by <code>auto</code>: best out-of-fold accuracy', page)
    # a probe read a 92% cross-validation score next to an 85.9% test score, with nothing saying which to expect
    assert "only choose the recipe; the scores below, on test documents the model never saw, are what to expect" in page
    # a model that embeds text names its sentence encoder
    assert ('id="sentence-encoder">all-MiniLM-L6-v2<' in page) == (chosen.group(1) == "ensemble")


def test_evaluation_train_column_is_what_the_model_was_trained_on(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    _train(ctx, "bank", "m")
    gone = min(r["labels"][0] for r in banking["train"])
    assert schema.delete_class(ctx, "bank", gone) == 25  # its documents are untagged after the training
    page = studio.get("/studio/p/bank/evaluate").text
    assert '<th scope="col" title="Documents of this class the model was trained on">Train</th>' in page
    row = re.search(rf'<a href="[^"]*label={gone}">{gone}</a></th><td>(\d+)</td><td>(\d+)</td>', page)
    assert row and row.groups() == ("20", "5")  # 25 tagged, 80/20 split: still what the model saw


def test_keeping_a_models_test_set_scores_the_next_model_on_the_same_documents(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    _train(ctx, "bank", "v1")  # the default split: 80/20 drawn at random
    first = models.get(ctx, "bank", "v1")
    tested = sorted(r["location"] for r in first["evaluation_results"])
    stray = next(r["id"] for r in banking["train"] if r["id"] not in tested)
    stray_id = tagging.list_documents(ctx, "bank", DocumentFilter(locations=(stray,))).items[0]["id"]
    tagging.set_dataset(ctx, "bank", "Test", ids=[stray_id])  # put in Test by hand earlier

    page = studio.get("/studio/p/bank/evaluate?model=v1").text
    assert 'id="keep-test-set"' in page and f"Make its {len(tested)} documents the project's Test set" in page
    kept = studio.post("/studio/p/bank/evaluate/keep-test-set", data={"csrf": studio.csrf, "model": "v1"})
    assert kept.url.path == "/studio/p/bank/train"
    assert (f"The {len(tested)} test documents of v1 are now the project's Test set; 1 other document moved from Test to Train"
            in html.unescape(flash(kept.text)))
    assert 'value="manual" checked>' in kept.text
    assert re.search(r'<span id="in-test">(\d+)</span> documents in Test', kept.text).group(1) == str(len(tested))
    again = studio.get("/studio/p/bank/evaluate?model=v1").text  # it offered to keep them again, worded as before
    assert 'id="keep-test-set"' not in again and f"This model's {len(tested)} test documents are the project's Test set" in again

    studio.post("/studio/p/bank/train", data={"csrf": studio.csrf, "label": "v2", "recipe": "linear", "split": "manual"})
    job = next(j for j in jobs.list_for(ctx, "train", "bank") if j["payload"]["modelLabel"] == "v2")
    training.run(ctx, job["id"], lambda _: None)
    second = models.get(ctx, "bank", "v2")
    assert sorted(r["location"] for r in second["evaluation_results"]) == tested
    assert 'id="keep-test-set"' not in studio.get("/studio/p/bank/evaluate?model=v2").text  # already the project's Test set
    missing = studio.post("/studio/p/bank/evaluate/keep-test-set", data={"csrf": studio.csrf, "model": "nope"},
                          headers={"referer": "http://127.0.0.1/studio/p/bank/evaluate"})
    assert missing.url.path == "/studio/p/bank/evaluate" and "The trained model nope could not be found" in flash(missing.text)


def test_a_class_filter_with_a_decomposed_accent_finds_the_class(studio):
    ctx = studio.ctx
    tagging.create_project(ctx, "cafe", SINGLE, "en")
    tagging.add_documents(ctx, "cafe", [{"location": "a", "text": "un cafe", "labels": "caf\u00e9"}, {"location": "b", "text": "tea", "labels": "tea"}])
    page = studio.get("/studio/p/cafe/data", params={"label": "cafe\u0301"}).text
    assert 'id="result-count">1 document(s)' in page  # it found none: the filter compared the decomposed form


def test_bulk_move_to_test_by_selection_and_by_filter(studio):
    ctx = studio.ctx
    tagging.create_project(ctx, "b", SINGLE, "en")
    tagging.add_documents(ctx, "b", [{"location": f"{i}.txt", "text": f"text {i}", "labels": ["x" if i % 2 else "y"]} for i in range(6)])
    page = studio.post("/studio/p/b/data/dataset", data={"csrf": studio.csrf, "to": "Test", "scope": "selected", "ids": ["1", "2"]})
    assert "2 document(s) moved to the test set" in flash(page.text)
    # "all matching" acts on the list the page showed: a form that does not say which (a page older than the server) is refused
    old = studio.post("/studio/p/b/data/dataset", data={"csrf": studio.csrf, "to": "Train", "scope": "all", "label": "x", "dataset": "none"})
    assert "Nothing was changed: this page does not say which documents it listed" in html.unescape(flash(old.text))
    listed = studio.get("/studio/p/b/data", params={"label": "x", "dataset": "none"}).text
    page = studio.post("/studio/p/b/data/dataset", data={**form_data(listed, "bulk-form", press="all"), "to": ["Train"]})
    assert "2 document(s) moved to the training set" in flash(page.text)
    assert page.url.path == "/studio/p/b/data" and "label=x" in str(page.url)
    view = readiness.overview(ctx, "b")
    assert view["datasets"] == {"Train": 2, "Test": 2, "none": 2}  # the x in Test stayed: the filter said "none"


def test_documents_are_deleted_by_selection_and_by_search_and_the_models_trained_on_them_are_named(studio):
    # a document could not be deleted at all: a wrong upload's copies stayed and counted twice
    ctx = studio.ctx
    tagging.create_project(ctx, "del", SINGLE, "en")
    tagging.add_documents(ctx, "del", [{"location": f"b{i}", "text": f"I was charged a fee twice, order {i}", "labels": ["billing"]}
                                       for i in range(8)]
                          + [{"location": f"c{i}", "text": f"my new card has not arrived after {i} days", "labels": ["card"]}
                             for i in range(8)])
    ids = {d["location"]: d["id"] for d in tagging.list_documents(ctx, "del", DocumentFilter(), page_size=100).items}
    page = studio.get("/studio/p/del/data").text
    box = page.split('id="delete-documents"', 1)[1].split("</details>", 1)[0]
    assert "it cannot be undone" in box and "keep what they learned from them" in box
    assert 'formaction="/studio/p/del/data/delete" name="delete" value="selected"' in box
    assert "Delete all 16 documents of the project" in box  # no filter: says it is every document
    sent = form_data(page, "bulk-form", tick=(str(ids["b0"]), str(ids["b1"])), press="selected")
    assert sent["csrf"] == [studio.csrf] and sorted(sent["ids"]) == sorted([str(ids["b0"]), str(ids["b1"])])

    # without the session's token nothing is deleted
    stale = studio.post("/studio/p/del/data/delete", data={**sent, "csrf": "stale"},
                        headers={"referer": "http://127.0.0.1/studio/p/del/data"})
    assert "security token" in flash(stale.text) and readiness.overview(ctx, "del")["total"] == 16
    nothing = studio.post("/studio/p/del/data/delete", data={"csrf": studio.csrf, "delete": "selected"})
    assert "Select documents first" in flash(nothing.text) and 'class="flash error' in nothing.text

    done = studio.post("/studio/p/del/data/delete", data=sent)
    assert done.url.path == "/studio/p/del/data" and flash(done.text) == "Deleted 2 document(s)."  # no model yet: no note
    left = {d["location"] for d in tagging.list_documents(ctx, "del", DocumentFilter(), page_size=100).items}
    assert "b0" not in left and "b1" not in left and len(left) == 14

    # ticked documents deleted since the page showed them are said so
    page = studio.get("/studio/p/del/data").text
    sent = form_data(page, "bulk-form", tick=(str(ids["b2"]), str(ids["b3"]), str(ids["b4"])), press="selected")
    documents.delete_documents(ctx, "del", locations=["b2", "b3"])  # a colleague, meanwhile
    done = studio.post("/studio/p/del/data/delete", data=sent)
    assert flash(done.text) == "Deleted 1 document(s). 2 of the 3 selected were no longer there (deleted since the page was shown)."

    _train(ctx, "del", "m1")
    # all matching a search (its filters sent back), and the model trained on them is named
    page = studio.get("/studio/p/del/data", params={"q": "arrived"}).text
    assert "Delete all 8 matching" in page
    sent = form_data(page, "bulk-form", press="all")
    # a stale page: documents matching the search were added since it showed "all 8"; nothing is deleted
    tagging.add_documents(ctx, "del", [{"location": "late", "text": "it has not arrived yet", "labels": ["card"]}])
    stale = studio.post("/studio/p/del/data/delete", data=sent)
    assert html.unescape(flash(stale.text)).startswith("Nothing was changed: 9 documents match the list's filters now, not the 8 the page showed")
    assert stale.url.params["q"] == "arrived" and readiness.overview(ctx, "del")["total"] == 12
    documents.delete_documents(ctx, "del", locations=["late"])
    # as many deleted as added since: the count alone would not tell, the ids do
    documents.delete_documents(ctx, "del", locations=["c7"])
    tagging.add_documents(ctx, "del", [{"location": "late2", "text": "still not arrived", "labels": ["card"]}])
    swapped = studio.post("/studio/p/del/data/delete", data=sent)
    assert html.unescape(flash(swapped.text)).startswith("Nothing was changed: other documents match the list's filters now than the 8 the page showed")
    sent = form_data(studio.get("/studio/p/del/data", params={"q": "arrived"}).text, "bulk-form", press="all")
    assert sent["q"] == ["arrived"] and sent["delete"] == ["all"]
    done = studio.post("/studio/p/del/data/delete", data=sent)
    assert done.url.path == "/studio/p/del/data" and done.url.params["q"] == "arrived"
    assert html.unescape(flash(done.text)) == ("Deleted 8 document(s). The model m1 was trained on them and keeps what it learned "
                                               "from them (a linear model keeps their words): delete or retrain it to forget them.")
    assert 'id="result-count">0 document(s)' in done.text and 'id="delete-documents"' not in done.text
    assert readiness.overview(ctx, "del")["total"] == 3
    # "predicted ≠ tagged" is the newest model's view, not a filter the store can apply: select those instead
    refused = studio.post("/studio/p/del/data/delete", data={"csrf": studio.csrf, "delete": "all", "mismatch": "1"},
                          headers={"referer": "http://127.0.0.1/studio/p/del/data?mismatch=1"})
    assert "by selecting them" in flash(refused.text) and readiness.overview(ctx, "del")["total"] == 3


def test_the_note_on_models_trained_on_deleted_documents_names_each():
    from tagwise.core.documents import models_note

    assert models_note(["m1", "m2"]) == ("The models m1, m2 were trained on them and keep what they learned from them (a linear "
                                         "model keeps their words): delete or retrain those models to forget them.")
    assert models_note([f"m{i}" for i in range(12)]).startswith("The models m0, m1, m2, m3, m4, m5, m6, m7, m8, m9 and 2 more were")


def test_the_overviews_tips_link_to_the_page_they_name(studio):
    # "add them on the Schema page" and "upload some on the Data page" were words only
    tagging.create_project(studio.ctx, "fresh", SINGLE, "en")
    page = html.unescape(studio.get("/studio/p/fresh").text)
    assert 'add them on the Schema page. <a href="/studio/p/fresh/schema">Open Schema</a>' in page
    assert 'upload some on the Data page. <a href="/studio/p/fresh/data">Open Data</a>' in page


def test_schema_rename_keeps_tags(studio):
    ctx = studio.ctx
    tagging.create_project(ctx, "s", SINGLE, "en")
    tagging.add_documents(ctx, "s", [{"location": "a", "text": "t", "labels": ["old"]}])
    page = studio.post("/studio/p/s/classes/rename", data={"csrf": studio.csrf, "old": "old", "new": "new"})
    assert "Class old renamed to new; 1 document(s) now tagged new." in flash(page.text)
    assert readiness.overview(ctx, "s")["classes"][0] == {"name": "new", "train": 0, "test": 0, "unassigned": 1, "total": 1}
    same = studio.post("/studio/p/s/classes/rename", data={"csrf": studio.csrf, "old": "new", "new": "new"})
    assert "Nothing changed: the class is already named new." in flash(same.text)
    # renaming into a class the project has was only refused: five priorities down to four meant retagging by hand
    tagging.add_documents(ctx, "s", [{"location": "b", "text": "u", "labels": ["Trivial"]}, {"location": "c", "text": "v", "labels": ["Minor"]}])
    refused = studio.post("/studio/p/s/classes/rename", data={"csrf": studio.csrf, "old": "Trivial", "new": "Minor"})
    assert refused.status_code == 409 and "pick another name, or merge 'Trivial' into it" in html.unescape(refused.text)
    assert 'id="merge-form"' in refused.text and "Merge Trivial into Minor" in refused.text
    merged = studio.post("/studio/p/s/classes/rename", data={"csrf": studio.csrf, "old": "Trivial", "new": "Minor", "merge": "1"})
    assert "Class Trivial merged into Minor: the 1 document(s) tagged Trivial are tagged Minor now." in flash(merged.text)
    assert projects.get(ctx, "s")["classes"] == ["new", "Minor"]
    assert [c["total"] for c in readiness.overview(ctx, "s")["classes"] if c["name"] == "Minor"] == [2]


def test_classes_are_reordered_so_the_commonest_get_the_tag_pages_keys(studio):
    # keys 1-9 and 0 followed the order the classes were first seen in: the commonest could have no key
    ctx = studio.ctx
    tagging.create_project(ctx, "order", SINGLE, "en")
    tagging.add_documents(ctx, "order", [{"location": str(i), "text": f"t{i}", "labels": [f"c{i:02}"]} for i in range(12)])
    moved = studio.post("/studio/p/order/classes/move", data={"csrf": studio.csrf, "name": "c11", "to": 11, "direction": "up"},
                        follow_redirects=False)
    assert moved.headers["location"] == "/studio/p/order/schema#move-up-11"  # the same button, to press again
    assert projects.get(ctx, "order")["classes"][10:] == ["c11", "c10"]
    top = studio.post("/studio/p/order/classes/move", data={"csrf": studio.csrf, "name": "c11", "to": 1, "direction": "up"})
    assert flash(top.text) == "Class c11 is now number 1 (key 1 on the Tag page)."
    assert projects.get(ctx, "order")["classes"][:2] == ["c11", "c00"]
    assert 'id="move-down-1"' in top.text and 'id="move-up-1"' not in top.text  # at the top: only down
    assert 'aria-label="Move c11 down"' in top.text
    first_doc = tagging.list_documents(ctx, "order", DocumentFilter()).items[0]["id"]
    tag_page = studio.get(f"/studio/p/order/tag?doc={first_doc}").text
    assert re.search(r'value="c11"[^>]*data-key="1"', tag_page)
    last = studio.post("/studio/p/order/classes/move", data={"csrf": studio.csrf, "name": "c00", "to": 99, "direction": "down"},
                       follow_redirects=False)
    assert last.headers["location"] == "/studio/p/order/schema#move-up-12"  # clamped to the end, where only up is
    assert projects.get(ctx, "order")["classes"][-1] == "c00"
    gone = studio.post("/studio/p/order/classes/move", data={"csrf": studio.csrf, "name": "renamed-since", "to": 1, "direction": "up"})
    assert gone.url.path == "/studio/p/order/schema" and "Nothing was moved" in html.unescape(flash(gone.text))  # not the Overview


def test_renaming_or_deleting_a_class_says_what_the_deployments_answer(studio, emotions):
    # a probe: annoyance's threshold set to 30.5% moved to "irritation" with the rename, and production, whose model
    # still answers annoyance, fell back to its tuned 12.1% without a word: "[]" became annoyance 0.18
    ctx = studio.ctx
    tagging.create_project(ctx, "emo", MULTI, "en")
    tagging.add_documents(ctx, "emo", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in emotions[:400]])
    _train(ctx, "emo", "m")
    name, tuned = min(models.get(ctx, "emo", "m")["evaluation"]["tagwise"]["classThresholds"].items())
    projects.upsert(ctx, "emo", {"settings": {"classThresholds": {name: 0.305}}})
    deployments.deploy(ctx, "emo", "production", {"trainedModelLabel": "m"})
    _train(ctx, "emo", "m")  # trained again: production keeps the model it was given, which the label's record no longer is
    # deleting m is refused (production would name a label gone): the Evaluate page says so before the click
    evaluate = html.unescape(studio.get("/studio/p/emo/evaluate?model=m").text)
    assert 'id="delete-model-form"' not in evaluate
    assert "production still serves the model trained as m before it was trained again, under this name, so m cannot be deleted" in evaluate
    renamed = studio.post("/studio/p/emo/classes/rename", data={"csrf": studio.csrf, "old": name, "new": "renamed"})
    said = html.unescape(flash(renamed.text))
    assert said.endswith(f"now tagged renamed. Its threshold of 30.5% is renamed's now. Deployment production serves m, trained "
                         f"before: it still answers {name}, now at its tuned threshold of {percentfmt.percent(tuned)}, until a "
                         "model trained since is deployed."), said
    assert projects.get(ctx, "emo")["settings"]["classThresholds"] == {"renamed": 0.305}
    # with a confidence threshold above the class's own, that is what it answers at
    other = next(c for c in projects.get(ctx, "emo")["classes"] if c != "renamed")
    projects.upsert(ctx, "emo", {"settings": {"classThresholds": {other: 0.2}, "confidenceThreshold": 0.99}})
    deleted = html.unescape(flash(studio.post("/studio/p/emo/classes/delete", data={"csrf": studio.csrf, "name": other}).text))
    assert deleted.endswith(f"lost that tag. Its threshold of 20.0% went with it. Deployment production serves m, trained before: it "
                            f"still answers {other}, now at the project's confidence threshold of 99.0%, until a model trained "
                            "since is deployed."), deleted


def test_class_names_that_differ_only_in_case_or_hold_an_upload_separator_are_refused(studio):
    # "Joy" next to "joy" was added (the Tag filter found both); "a|b" in a multi-label project could never come back from a CSV
    ctx = studio.ctx
    tagging.create_project(ctx, "emo", MULTI, "en")
    schema.add_class(ctx, "emo", "joy")
    for name, message in (("Joy", "The class 'joy' differs from 'Joy' only in case"),
                          ("a|b", "A multi-label class name cannot hold '|'"), ("a;b", "cannot hold ';'")):
        refused = studio.post("/studio/p/emo/classes/add", data={"csrf": studio.csrf, "name": name})
        assert refused.status_code in (400, 409) and message in html.unescape(refused.text), name
    renamed = studio.post("/studio/p/emo/classes/rename", data={"csrf": studio.csrf, "old": "joy", "new": "JOY"})
    assert "Class joy renamed to JOY" in flash(renamed.text)  # its own capitals may change
    with pytest.raises(InvalidArgument, match="the class 'joy' differs from the project's 'JOY' only in case; write it 'JOY'"):
        tagging.add_documents(ctx, "emo", [{"location": "x.txt", "text": "yay", "labels": ["joy"]}])
    # names that look the same in another width or with an invisible character: the Tag page showed two "請求"
    schema.add_class(ctx, "emo", "請求")
    for name, twin in (("請求\u200b", "請求"), ("ｊｏｙ", "JOY")):
        refused = studio.post("/studio/p/emo/classes/add", data={"csrf": studio.csrf, "name": name})
        assert refused.status_code == 409 and f"The class '{twin}' differs from {name!r} only in case, width or invisible characters" \
            in html.unescape(refused.text)
    with pytest.raises(InvalidArgument, match="only in case, width or invisible characters; write it '請求'"):
        tagging.add_documents(ctx, "emo", [{"location": "y.txt", "text": "bill", "labels": ["請求\u200b"]}])
    blank = studio.post("/studio/p/emo/classes/add", data={"csrf": studio.csrf, "name": "\u200b"})
    assert blank.status_code == 400 and "is blank" in html.unescape(blank.text)


def test_page_numbers_past_the_end_and_huge_ids_are_not_server_errors(studio):
    ctx = studio.ctx
    tagging.create_project(ctx, "many", SINGLE, "en")
    schema.add_class(ctx, "many", "a")
    tagging.add_documents(ctx, "many", [{"location": f"{i}.txt", "text": f"text {i}"} for i in range(120)])  # 3 pages
    for page in ("4", str(10**20), "9" * 5_000):  # int() of 5,000 digits raised: a 500
        response = studio.get(f"/studio/p/many/data?page={page}&status=untagged")
        assert response.status_code == 200 and "Page 3 of 3" in response.text, page
        assert 'value="untagged" selected' in response.text  # the filters stay
        assert '<a rel="prev" href="/studio/p/many/data?page=2&amp;status=untagged">' in response.text and 'rel="next"' not in response.text
    for page in ("abc", "0", "-2", "²"):  # "Input should be a valid integer, unable to p..." was an error page
        response = studio.get(f"/studio/p/many/data?page={page}")
        assert response.status_code == 200 and "Page 1 of 3" in response.text, page
    # a typed set name in other capitals filters by it (?dataset=test listed every document)
    from tagwise.studio.filters import Filters
    assert [Filters.read({"dataset": d}).dataset for d in ("test", "TRAIN", "None", "bogus")] == ["Test", "Train", "none", ""]
    for path in (f"/tag?doc={10**20}", f"/tag?doc=1&undo={10**20}"):
        response = studio.get(f"/studio/p/many{path}")
        assert response.status_code in (400, 404) and "<html" in response.text, path
    posted = studio.post("/studio/p/many/tag", data={"csrf": studio.csrf, "doc": str(10**20), "tag": "a"},
                         headers={"referer": "http://127.0.0.1/studio/p/many/data"})
    assert posted.status_code == 200 and posted.url.path == "/studio/p/many/data" and "doc" in flash(posted.text)


def test_an_upload_without_documents_says_so(studio):
    tagging.create_project(studio.ctx, "empty", SINGLE, "en")
    for name, content in (("empty.csv", b""), ("header.csv", b"text,label\n")):
        page = studio.post("/studio/p/empty/data/upload", data={"csrf": studio.csrf}, files={"files": (name, content, "text/csv")})
        assert f"{name} has no documents" in flash(page.text)


def test_texts_take_their_direction_from_their_own_script(studio):
    # Arabic and Hebrew texts were laid out left to right, which misplaces their punctuation and numbers
    tagging.create_project(studio.ctx, "rtl", SINGLE, "ar")
    tagging.add_documents(studio.ctx, "rtl", [{"location": "a.txt", "text": "أين بطاقتي؟ طلبتها قبل 3 أيام."}])
    # ... and their language from the document (the page is lang="en": German words broke without hyphens,
    # and screen readers read every ticket with English pronunciation)
    tagging.add_documents(studio.ctx, "rtl", [{"location": "de.txt", "text": "Rückerstattung", "language": "de"}])
    assert '<div class="doc-text" id="doc-text" dir="auto" lang="ar">أين بطاقتي؟' in studio.get("/studio/p/rtl/tag?doc=1").text
    data = studio.get("/studio/p/rtl/data").text
    assert '<div class="snippet" dir="auto" lang="ar">أين بطاقتي؟' in data and '<div class="snippet" dir="auto" lang="de">Rückerstattung' in data


def test_evaluation_shows_the_majority_baseline_and_classes_never_chosen(studio, banking):
    # on skewed tickets a model answering the biggest class every time scored 71% accuracy, with nothing said
    ctx = studio.ctx
    tagging.create_project(ctx, "skew", SINGLE, "en")
    big = min(r["labels"][0] for r in banking["train"])
    rows = [r for r in banking["train"] if r["labels"][0] == big] * 8 + [r for r in banking["train"] if r["labels"][0] != big][:10]
    tagging.add_documents(ctx, "skew", [{"location": f"d{i}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(rows)])
    _train(ctx, "skew", "m")
    page = studio.get("/studio/p/skew/evaluate").text
    # the class isolated in its own direction: a Hebrew or Arabic name pulled the score beside it to the wrong side
    assert re.search(rf'id="baseline">\(always answering <span dir="auto">{big}</span> would score 9\d\.\d%\)', page)
    # a test set of as many documents in every class has no commonest: it named the first (banking77's 77 classes of 40)
    tagging.create_project(ctx, "even", SINGLE, "en")
    tagging.add_documents(ctx, "even", [{"location": f"d{i}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(banking["train"])])
    _train(ctx, "even", "m")
    assert ('id="baseline">(always answering <span dir="auto">any one class (6 tie as the commonest)</span> would score 16.7%'
            in studio.get("/studio/p/even/evaluate").text)
    crafted = {"evaluation": {"customSingleLabelClassificationEvaluation": {"classes": {
        "big": {"truePositiveCount": 9, "falsePositiveCount": 2, "falseNegativeCount": 0},
        "rare": {"truePositiveCount": 0, "falsePositiveCount": 0, "falseNegativeCount": 2},
        "absent": {"truePositiveCount": 0, "falsePositiveCount": 0, "falseNegativeCount": 0}}}}}
    assert model_results.never_predicted(crafted) == ["rare"]  # "absent" has no test documents to miss
    assert model_results.untested(crafted) == ["absent"]


def test_a_model_no_better_than_the_commonest_class_is_called_so_on_every_page(studio):
    # a non-ML user read "Status: succeeded, accuracy 64.8%" with a big Deploy button, while always
    # answering Major scored 71.8%; the tag check then suggested moving the rare tickets into Major
    ctx = studio.ctx
    tagging.create_project(ctx, "prio", SINGLE, "en")
    words = ["disk", "queue", "lock", "token", "retry", "quota", "shard", "cache"]
    docs = [{"location": f"t{i:03d}", "text": f"{words[i % 8]} {words[(i * 3) % 8]} fails on node {i}",
             "labels": ["Major" if i % 5 else "Minor"]} for i in range(60)]  # no word tells the classes apart
    tagging.add_documents(ctx, "prio", docs)
    _train(ctx, "prio", "m1")
    _train(ctx, "prio", "m2")
    verdict = "than always answering Major"
    job = next(j for j in jobs.list_for(ctx, "train", "prio") if j["payload"]["modelLabel"] == "m1")
    page = html.unescape(studio.get(f"/studio/p/prio/train/{job['id']}").text)
    assert re.search(r'id="job-verdict" class="flash error" role="alert">This model is (no better|worse) than always answering Major', page)
    assert studio.get(f"/studio/p/prio/train/{job['id']}.json").json()["verdict"].startswith("This model is")
    assert 'id="baseline-verdict"' in studio.get("/studio/p/prio/evaluate?model=m1").text
    assert '⚠ no better than always <span dir="auto">Major</span>' in studio.get("/studio/p/prio").text
    assert "m1 (" in (deploy_page := studio.get("/studio/p/prio/deployments").text) and "no better than always answering Major" in deploy_page
    # one click put such a model live (the page offered it first) and the warning came after: now it comes before
    assert 'id="deploy-anyway"' in deploy_page and '<option value="m2" selected>' in deploy_page  # all flagged: the newest
    refused = html.unescape(flash(studio.post("/studio/p/prio/deployments", data={"csrf": studio.csrf, "name": "prod", "model": "m1"}).text))
    assert refused.startswith("Nothing was deployed. This model is"), refused
    assert 'To deploy it all the same, tick "Deploy it even so".' in refused and deployments.list_all(ctx, "prio") == []
    deployed = studio.post("/studio/p/prio/deployments", data={"csrf": studio.csrf, "name": "prod", "model": "m1", "anyway": "1"})
    assert "Model m1 is deployed as prod." in html.unescape(flash(deployed.text)) and verdict in html.unescape(flash(deployed.text))
    compared = studio.get("/studio/p/prio/compare?a=m1&b=m2").text
    assert 'data-below-baseline="m1"' in compared and 'id="baseline-row"' in compared

    # the tag check says its suggestions are not to be trusted, and stays on the model that was shown
    checked = check_tags(studio, "prio", "m1")
    assert checked.url.path == "/studio/p/prio/evaluate" and checked.url.query == b"model=m1"
    assert 'id="issues-unreliable"' in checked.text and 'would move those into <span dir="auto">Major</span>' in checked.text
    shown = html.unescape(checked.text)
    assert re.search(r"The folds' models score accuracy \d+\.\d% \(always answering <span dir=\"auto\">Major</span>: \d+\.\d%\) and macro-F1", shown)


def test_the_tag_check_names_a_class_it_could_not_check_and_claims_no_sample(studio, banking):
    # one document of a class of its own read "100 documents (a random sample of the 101 tagged: a check reads at most 100)"
    ctx = studio.ctx
    rows = banking["train"]
    tagging.create_project(ctx, "alone", SINGLE, "en")
    tagging.add_documents(ctx, "alone", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in rows]
                          + [{"location": "lonely.txt", "text": "where is my parcel", "labels": ["lonely_class"]}])
    _train(ctx, "alone", "m")
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", "", re.search(r'id="issues-last">(.*?)</span>\.?', check_tags(studio, "alone", "m").text,
                                                                       re.DOTALL).group(0))).split())
    assert f": {len(rows):,} documents (not the 1 document of lonely_class: a class with one tagged document cannot be checked; " \
           "tag a second)," in said, said
    assert "random sample" not in said


def test_a_flagged_test_document_is_marked_test_and_the_page_says_what_retagging_it_does(studio, banking):
    # 55 of 177 flags were Test documents: "Use suggestion" on them rewrote the test set toward the model, and
    # the next model was called "+10 pts better" with no prediction changed
    ctx = studio.ctx
    rows = banking["train"]
    wrong = next(r["labels"][0] for r in rows if r["labels"] != rows[0]["labels"])
    tagging.create_project(ctx, "flag", SINGLE, "en")
    tagging.add_documents(ctx, "flag", [{"location": r["id"], "text": r["text"], "labels": [wrong] if i == 0 else r["labels"],
                                         "dataset": "Test" if i % 5 == 0 else "Train"} for i, r in enumerate(rows)])
    _train(ctx, "flag", "m")
    checked = check_tags(studio, "flag", "m")
    planted = re.search(rf'<tr id="issue-\d+"[^>]*>.*?{re.escape(rows[0]["id"])}</a>(.*?)</tr>', checked.text, re.DOTALL)
    assert planted and 'class="pill" title="In the Test set: its tag scores the evaluation">Test</span>' in planted.group(1)
    said = html.unescape(re.search(r'id="issues-test">(.*?)</p>', checked.text, re.DOTALL).group(1))
    assert re.match(r"\d+ of the \d+ listed are test documents, of the project's Test set now or of this model's test split "
                    r"\(marked Test\): a tag there is what the next evaluation scores against", said)
    # how sure the folds are of the tag and of the suggestion: cleanlab's label quality read "0%" on every row
    assert re.search(r'data-label="How sure the folds are">tagged class (under 0\.1%|\d+\.\d+%), suggested \d+\.\d+%</td>', planted.group(1))
    assert "Use suggestion" in planted.group(1)
    [doc] = tagging.list_documents(ctx, "flag", DocumentFilter(locations=(rows[0]["id"],))).items
    # used, the row keeps the tag the check saw and can put it back (a multi-label suggestion replaces every tag, a right one too)
    suggested = re.search(r'data-label="Suggested"><span class="chip"><bdi>([^<]+)</bdi></span>', planted.group(1)).group(1)
    fix = {"csrf": studio.csrf, "doc": doc["id"], "location": rows[0]["id"], "seen": json.dumps([wrong]), "then": "back",
           "back": "/studio/p/flag/evaluate?model=m", "tag": html.unescape(suggested)}
    studio.post("/studio/p/flag/tag", data=fix)
    again = studio.get("/studio/p/flag/evaluate", params={"model": "m"}).text
    row = re.search(rf'<tr id="issue-\d+"[^>]*>.*?{re.escape(rows[0]["id"])}</a>(.*?)</tr>', again, re.DOTALL).group(1)
    assert "fixed" in row and f'<span class="small muted" data-was>(was <span class="chip"><bdi>{html.escape(wrong)}</bdi></span>)</span>' in row
    assert re.search(r'data-put-back aria-label="Put back the tags [^"]+ had">Put back</button>', row)
    studio.post("/studio/p/flag/tag", data={**fix, "seen": json.dumps([html.unescape(suggested)]), "tag": wrong})
    assert tagging.get_document(ctx, "flag", doc["id"])[1]["labels"] == [wrong]
    # "Tag is right": the row says so, with an Undo, and the next check does not list it (a flag could not be dismissed, and
    # by a third check right tags took rows from the next surest)
    again = studio.get("/studio/p/flag/evaluate", params={"model": "m"}).text
    row = re.search(rf'<tr id="(issue-\d+)"[^>]*>.*?{re.escape(rows[0]["id"])}</a>(.*?)</tr>', again, re.DOTALL)
    assert 'data-keep aria-label="Tag is right for ' in row.group(2) and "Use suggestion" in row.group(2)
    right = {"csrf": studio.csrf, "doc": doc["id"], "location": rows[0]["id"], "seen": json.dumps([wrong]),
             "back": "/studio/p/flag/evaluate?model=m#issue-1", "row": f"#{row.group(1)}"}
    kept = studio.post("/studio/p/flag/tag/right", data=right)
    assert kept.status_code == 200 and html.unescape(flash(kept.text)) == \
        f"Kept {rows[0]['id']} as '{wrong}': the next check does not list it while it keeps this tag."
    row = re.search(rf'<tr id="issue-\d+"[^>]*>.*?{re.escape(rows[0]["id"])}</a>(.*?)</tr>', kept.text, re.DOTALL).group(1)
    assert "data-kept>tag is right</span>" in row and "data-unkeep" in row and "Use suggestion" not in row
    assert tagging.confirmed_tags(ctx, "flag", [doc["id"]]) == {doc["id"]: [wrong]}
    # the marks can be found again (a mark clicked by mistake left every later check, and no page listed it)
    listed = studio.get("/studio/p/flag/data", params={"status": "kept"}).text
    assert re.search(r'id="result-count">1 document\(s\)\.', listed) and rows[0]["id"] in listed
    stale = studio.post("/studio/p/flag/tag/right", data={**right, "seen": json.dumps(["something else"])})
    assert "Nothing was marked" in flash(stale.text)
    undone = studio.post("/studio/p/flag/tag/right", data={**right, "undo": "1"})
    assert f"{rows[0]['id']} is listed again by the next check." == html.unescape(flash(undone.text))
    assert tagging.confirmed_tags(ctx, "flag", [doc["id"]]) == {}
    # retagged to a third class since the check (on its Tag page): one click here would overwrite that deliberate choice
    third = next(c for c in sorted({r["labels"][0] for r in rows}) if c not in (wrong, rows[0]["labels"][0]))
    tagging.set_labels(ctx, "flag", doc["id"], [third])
    again = studio.get("/studio/p/flag/evaluate", params={"model": "m"}).text
    row = re.search(rf'<tr id="issue-\d+"[^>]*>.*?{re.escape(rows[0]["id"])}</a>(.*?)</tr>', again, re.DOTALL).group(1)
    assert "retagged since" in row and "Use suggestion" not in row
    # the Test marks read each document's set now ("Keep these test documents" after a check left 43 listed Test rows unmarked)
    tagging.set_dataset(ctx, "flag", "Train", ids=[doc["id"]])
    again = studio.get("/studio/p/flag/evaluate", params={"model": "m"}).text
    row = re.search(rf'<tr id="issue-\d+"[^>]*>.*?{re.escape(rows[0]["id"])}</a>(.*?)</tr>', again, re.DOTALL).group(0)
    assert 'class="pill"' not in row
    # marked right, it is not listed by the next check
    tagging.set_labels(ctx, "flag", doc["id"], [wrong])
    studio.post("/studio/p/flag/tag/right", data=right)
    rechecked = html.unescape(check_tags(studio, "flag", "m").text)
    assert not re.search(rf'<tr id="issue-\d+"[^>]*>.*?{re.escape(rows[0]["id"])}</a>', rechecked, re.DOTALL)
    assert '(and <a href="/studio/p/flag/data?status=kept" id="issues-kept">1 whose tag someone marked right</a>, not listed)' in rechecked
    # a mark made by mistake is taken back on the Data page (it was undone only by retagging the document)
    listed = studio.get("/studio/p/flag/data", params={"status": "kept"}).text
    assert 'formaction="/studio/p/flag/data/unmark" name="unmark" value="selected"' in listed
    assert "/data/unmark" not in studio.get("/studio/p/flag/data").text  # only where the marks are listed
    shown = re.search(r'name="shown" value="([^"]*)"', listed).group(1)
    taken = studio.post("/studio/p/flag/data/unmark", data={"csrf": studio.csrf, "status": "kept", "unmark": "all", "shown": shown})
    assert html.unescape(flash(taken.text)) == "1 document(s) no longer marked right: the next tag check may list them again."
    assert tagging.confirmed_tags(ctx, "flag", [doc["id"]]) == {} and tagging.get_document(ctx, "flag", doc["id"])[1]["labels"] == [wrong]
    nothing = studio.post("/studio/p/flag/data/unmark", data={"csrf": studio.csrf, "status": "kept", "unmark": "selected", "ids": doc["id"]})
    assert flash(nothing.text) == "None of them was marked right: nothing changed."


def test_the_tag_checks_english_figures_are_said_to_be_so_in_a_project_of_other_languages(studio, banking):
    # a German, Spanish and French team read "nearly all wrong tags (99% of the 200 ...)", measured on English banking77,
    # while 97 of 142 flagged sentences were flagged in one language and not in their translations
    from tagwise.core import label_issues

    rows = banking["train"]
    for name, language in (("en-only", "en"), ("german", "de")):
        tagging.create_project(studio.ctx, name, SINGLE, language)
        tagging.add_documents(studio.ctx, name, [{"location": r["id"], "text": r["text"],
                                                  "labels": [rows[(i + 7) % len(rows)]["labels"][0]] if i % 4 == 0 else r["labels"]}
                                                 for i, r in enumerate(rows)])
        _train(studio.ctx, name, "m")
        found = label_issues.find_label_issues(studio.ctx, name, limit=1)  # more flagged than listed: the page counts them
        assert found.found > 1
        page = html.unescape(studio.get(f"/studio/p/{name}/evaluate?model=m").text)
        assert 'id="issues-count"' in page and ('id="issues-words"' in page) == (language != "en")
    assert "Those numbers are of English texts; the check's models read words, not meanings" in page


def test_a_percentage_split_models_own_test_documents_are_marked_in_the_tag_check(studio, banking):
    # 17 of a lead's first 54 fixes were the model's test documents, unmarked: Compare then read them as "other tags"
    ctx = studio.ctx
    rows = banking["train"]
    tagging.create_project(ctx, "split", SINGLE, "en")
    tagging.add_documents(ctx, "split", [{"location": r["id"], "text": r["text"],
                                          "labels": [rows[(i + 30) % len(rows)]["labels"][0]] if i % 10 == 0 else r["labels"]}
                                         for i, r in enumerate(rows)])  # no Train/Test set: the training draws its test split
    _train(ctx, "split", "m")
    tested = {r["location"] for r in model_results.evaluation_details(ctx, "split", "m")["model"]["evaluation_results"]}
    checked = check_tags(studio, "split", "m").text
    listed = re.findall(r'<tr id="issue-\d+"[^>]*><td><a [^>]*>([^<]+)</a>(.*?)</td>', checked, re.DOTALL)
    assert listed and any(location in tested for location, _ in listed)
    for location, cell in listed:
        assert ('class="pill"' in cell) == (location in tested), location


def test_a_finished_training_says_how_it_went_and_the_recipes_say_what_they_are(studio, banking):
    # the page said only "succeeded 100%": the scores were a click away, the recipes bare names
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    assert "linear: word and character TF-IDF" in studio.get("/studio/p/bank/train").text
    job = training.start(ctx, "bank", {"modelLabel": "m", "trainingConfigVersion": "linear"})
    training.run(ctx, job["id"], lambda _: None)
    page = studio.get(f"/studio/p/bank/train/{job['id']}").text
    # 5 test documents in each of 6 classes: no class is the commonest
    assert re.search(r'id="job-scores">On 30 test documents: accuracy \d+\.\d% \(always answering any one class \(6 tie as the commonest\): '
                     r'16\.7%\), macro F1 \d+\.\d%\.', page)
    assert studio.get(f"/studio/p/bank/train/{job['id']}.json").json()["scores"].startswith("On 30 test documents")


def test_a_class_never_chosen_has_no_precision_rather_than_zero():
    crafted = {"evaluation": {"customSingleLabelClassificationEvaluation": {"classes": {
        "rare": {"truePositiveCount": 0, "falsePositiveCount": 0, "falseNegativeCount": 2, "precision": 0.0, "recall": 0.0, "f1": 0.0},
        "big": {"truePositiveCount": 9, "falsePositiveCount": 2, "falseNegativeCount": 0, "precision": 0.818, "recall": 1.0, "f1": 0.9}}}}}
    rows = {r["name"]: r for r in views.class_rows(crafted, {})}
    assert rows["rare"]["precision"] is None and rows["rare"]["recall"] == 0.0 and rows["big"]["precision"] == 0.818


def test_the_threshold_card_scores_each_threshold_and_sets_the_projects(studio, banking):
    # an intent router moved its threshold from 50% to 90%: the page kept showing the scores at 50%
    # (85.7%) while its deployment answered at 90% (94.8%), and nothing in the studio showed or set it
    from tagwise.core import model_results, projects

    ctx = studio.ctx
    tagging.create_project(ctx, "router", SINGLE, "en")
    rows = banking["train"]
    tagging.add_documents(ctx, "router", [{"location": r["id"], "text": r["text"], "labels": r["labels"] if i % 5 else ["None"]}
                                          for i, r in enumerate(rows)])  # every fifth one an out-of-scope example
    projects.upsert(ctx, "router", {"settings": {"confidenceThreshold": 0.5}})
    _train(ctx, "router", "m")
    extra = model_results.evaluation_details(ctx, "router")["model"]["evaluation"]["tagwise"]
    table = {r["threshold"]: r for r in extra["thresholds"]}
    assert table[0.5]["accuracy"] == round(extra["accuracy"], 4)  # the row at the trained threshold is the evaluation
    assert {"noneRecall", "otherAccuracy", "abstained"} <= set(table[0.9]) and table[0.9]["abstained"] >= table[0.5]["abstained"]
    page = studio.get("/studio/p/router/evaluate").text
    assert 'id="scored-at">50.0%<' in page and 'id="threshold-table"' in page and "threshold-moved" not in page
    hardest = table[0.9]["hardestHit"]  # a threshold does not fall evenly on the classes: the page names the one it hits most
    assert hardest["share"] > table[0.9]["abstained"] and hardest["documents"] >= 3
    assert f'<span dir="auto">{hardest["class"]}</span>: {100 * hardest["share"]:.1f}% <span class="small muted">of {hardest["documents"]}</span>' in page

    moved = studio.post("/studio/p/router/evaluate/threshold", data={"csrf": studio.csrf, "model": "m", "percent": "90"})
    assert "answers None when its likeliest class is under 90%" in flash(moved.text)
    assert projects.get(ctx, "router")["settings"]["confidenceThreshold"] == 0.9
    assert 'id="threshold-moved"' in moved.text and "90.0% now" in html.unescape(moved.text)
    refused = studio.post("/studio/p/router/evaluate/threshold", data={"csrf": studio.csrf, "model": "m", "percent": "120"})
    assert "from 0 to below 100" in field_error(html.unescape(refused.text), "threshold-percent") and projects.get(ctx, "router")["settings"]["confidenceThreshold"] == 0.9
    # "0.6" (a probability, as the API writes it) set 0.6%, which sends nothing to None
    fraction = studio.post("/studio/p/router/evaluate/threshold", data={"csrf": studio.csrf, "model": "m", "percent": "0.6"})
    assert fraction.status_code == 400 and "the likeliest of 7 classes always scores at least 14.3%. The field takes a percentage: for 60%, type 60." in field_error(html.unescape(fraction.text), "threshold-percent")
    assert projects.get(ctx, "router")["settings"]["confidenceThreshold"] == 0.9
    cleared = studio.post("/studio/p/router/evaluate/threshold", data={"csrf": studio.csrf, "model": "m", "percent": ""})
    assert "No threshold" in flash(cleared.text) and "confidenceThreshold" not in projects.get(ctx, "router")["settings"]
    # Try it says why a text got None: "Predicted: None" sat above a 75% bar with no word
    studio.post("/studio/p/router/evaluate/threshold", data={"csrf": studio.csrf, "model": "m", "percent": "99.9"})
    deployments.deploy(ctx, "router", "prod", {"trainedModelLabel": "m"})
    tried = html.unescape(studio.post("/studio/p/router/try", data={"csrf": studio.csrf, "deployment": "prod", "text": "hello there"}).text)
    assert re.search(r"None: the likeliest class, \S+ at \d+\.\d%, is under the project's confidence threshold of 99\.9%", tried), tried[-3000:]
    # 99.999% came back as "100%" in the flash and the form, which then refused its own value
    nines = studio.post("/studio/p/router/evaluate/threshold", data={"csrf": studio.csrf, "model": "m", "percent": "99.999"})
    assert "under 99.999%" in flash(nines.text) and 'name="percent" inputmode="decimal" size="4" value="99.999"' in nines.text
    # the Tag page suggested "None (0% confident)" above bars of 40% and 37%, with nothing to accept
    [added] = tagging.add_documents(ctx, "router", [{"location": "new.txt", "text": "my card has not arrived yet"}])["added"] and [
        d for d in tagging.list_documents(ctx, "router", DocumentFilter(search="my card has not arrived yet")).items]
    tag_page = html.unescape(studio.get(f"/studio/p/router/tag?doc={added['id']}").text)
    suggested = re.search(r'id="suggestion">(.*?)</p>', tag_page, re.DOTALL).group(1)
    assert "None" not in suggested.split("(")[0] and "under the project's 99.999% threshold, where a deployment answers None" in suggested
    assert 'id="accept"' in tag_page and "accepts the suggestion" in tag_page


def test_the_overviews_accuracy_is_the_accuracy_at_a_confidence_threshold(studio, banking):
    # a lead set a threshold of 60%: the Overview's "Accuracy" showed 59.6%, the micro F1 (which leaves the None
    # answers out), where Evaluate, the CLI and Compare said 52.0%
    from tagwise.core import model_results, projects

    ctx = studio.ctx
    tagging.create_project(ctx, "floor", SINGLE, "en")
    tagging.add_documents(ctx, "floor", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    projects.upsert(ctx, "floor", {"settings": {"confidenceThreshold": 0.95}})
    _train(ctx, "floor", "m")
    evaluation = model_results.evaluation_details(ctx, "floor")["model"]["evaluation"]
    accuracy, micro = evaluation["tagwise"]["accuracy"], evaluation["customSingleLabelClassificationEvaluation"]["microF1"]
    assert f"{100 * micro:.1f}" != f"{100 * accuracy:.1f}"  # some answers were None
    assert re.search(rf'>m</a></td><td class="small">[^<]*</td><td>{100 * accuracy:.1f}% <span class="small muted"[^>]*>at 95.0%</span>',
                     studio.get("/studio/p/floor").text)
    # the job's headline set the score at the threshold (None answers wrong) against a baseline without one:
    # "accuracy 52.2% (always answering Major: 71.0%)", while the verdict beside it said 62.5%
    job = next(j for j in jobs.list_for(ctx, "train", "floor"))
    rows = {r["threshold"]: r for r in evaluation["tagwise"]["thresholds"]}
    headline = html.unescape(studio.get(f"/studio/p/floor/train/{job['id']}").text)
    macro = evaluation["customSingleLabelClassificationEvaluation"]["macroF1"]
    # the macro F1 is the one at the threshold: after "with no threshold 94.7%", it read as the unthresholded one
    assert (f"accuracy {100 * accuracy:.1f}% and macro F1 {100 * macro:.1f}% at the 95% threshold it was trained at, "
            f"{100 * rows[0.95]['abstained']:.1f}% of them answered None; with no threshold accuracy {100 * rows[0]['accuracy']:.1f}% "
            "(always answering ") in headline
    assert headline.count("macro F1") == 1


def test_the_projects_language_can_be_changed_in_the_studio(studio):
    # a training's note told an "en" project of German tickets to set its language or multilingual;
    # only the API could, with a PATCH
    from tagwise.core import projects

    tagging.create_project(studio.ctx, "tickets", SINGLE, "en")
    assert 'id="language-form"' in studio.get("/studio/p/tickets/schema").text
    saved = studio.post("/studio/p/tickets/language", data={"csrf": studio.csrf, "language": "de", "multilingual": "true"})
    assert "the next training uses the multilingual sentence encoder" in flash(saved.text)
    project = projects.get(studio.ctx, "tickets")
    assert (project["language"], project["multilingual"]) == ("de", True)
    refused = studio.post("/studio/p/tickets/language", data={"csrf": studio.csrf, "language": "not a code!"})
    assert "not a language code" in html.unescape(refused.text) and projects.get(studio.ctx, "tickets")["language"] == "de"
    # English, not multilingual, but its tagged documents declare German and Spanish: the training goes multilingual, and
    # the message says so by the same rule (it said "the English sentence encoder", and the training used the other)
    tagging.add_documents(studio.ctx, "tickets", [{"location": f"{i}.txt", "text": f"Ticket {i}", "labels": ["a"],
                                                   "language": "de" if i % 2 else "es"} for i in range(10)])
    saved = studio.post("/studio/p/tickets/language", data={"csrf": studio.csrf, "language": "en"})
    assert "the next training uses the multilingual sentence encoder" in flash(saved.text)
    tagging.add_documents(studio.ctx, "tickets", [{"location": f"en{i}.txt", "text": f"Ticket {i}", "labels": ["a"]} for i in range(50)])
    saved = studio.post("/studio/p/tickets/language", data={"csrf": studio.csrf, "language": "en"})
    assert "the next training uses the English sentence encoder" in flash(saved.text)  # 10 of 60 declare another: under a fifth


def test_the_evaluation_of_a_project_in_several_languages_shows_each_ones_accuracy(studio):
    # a team with German, Spanish and French tickets computed 87.3 / 85.3 / 85.3% from the API by hand
    tagging.create_project(studio.ctx, "eu", SINGLE, "de", multilingual=True)
    words = {"karte": ["Karte verloren", "Meine Karte ist weg", "Karte gestohlen"], "geld": ["Geld senden", "Überweisung bitte", "Geld schicken"]}
    rows = [{"location": f"{lang}-{label}-{i}-{n}.txt", "text": f"{text} {n}", "labels": [label], "language": lang}
            for lang in ("de", "es") for label, texts in words.items() for i, text in enumerate(texts) for n in range(4)]
    tagging.add_documents(studio.ctx, "eu", rows)
    _train(studio.ctx, "eu", "m")
    page = html.unescape(studio.get("/studio/p/eu/evaluate").text)
    table = re.search(r'id="language-table">(.*?)</table>', page, re.DOTALL).group(1)
    assert re.search(r"<th scope=\"row\">de</th><td>\d+</td><td>\d+\.\d%</td>", table) and ">es</th>" in table
    one = {"evaluation_results": [{"location": "a.txt", "language": "de", "customSingleLabelClassificationResult": {"expectedClass": "a", "predictedClass": "a"}}]}
    assert model_results.languages(one) is None  # one language: nothing to compare


def test_a_studio_url_with_no_page_is_the_studios_error_page(studio):
    # /studio/p/x/deploy (the tab says "Deploy", the page is /deployments) answered the API's raw JSON
    tagging.create_project(studio.ctx, "tickets", SINGLE, "en")
    page = studio.get("/studio/p/tickets/deploy")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "The studio has no page /studio/p/tickets/deploy" in html.unescape(page.text)
    assert studio.get("/studio/", follow_redirects=False).headers["location"] == "/studio"
    assert studio.get("/studio/static/studio.css").status_code == 200  # the assets are still served
    # a class name over 50 characters is refused with the rule, not cut short by the form
    assert 'maxlength="50"' not in studio.get("/studio/p/tickets/schema").text
    refused = studio.post("/studio/p/tickets/classes/add", data={"csrf": studio.csrf, "name": "K" * 51})
    assert "use 1 to 50 characters" in html.unescape(refused.text)


def test_a_tiny_projects_evaluation_names_its_untested_classes_and_claims_no_cross_validation(studio):
    # a startup's first tickets: "pin" (1 document) read "F1 0.0%", ranked weakest, and the page spoke of
    # cross-validation scores that auto had not computed
    ctx = studio.ctx
    tagging.create_project(ctx, "tiny", SINGLE, "en")
    docs = ([{"location": f"b{i}", "text": f"I was charged a fee twice, order {i}", "labels": ["billing"]} for i in range(8)]
            + [{"location": f"c{i}", "text": f"my new card has not arrived after {i} days", "labels": ["card"]} for i in range(4)]
            + [{"location": "p0", "text": "my pin is blocked", "labels": ["pin"]}])
    tagging.add_documents(ctx, "tiny", docs)
    _train(ctx, "tiny", "m", recipe="auto")
    page = html.unescape(studio.get("/studio/p/tiny/evaluate").text)
    assert re.search(r'id="untested" role="note">Not tested: pin\. ', page)
    assert "too few to compare recipes by cross-validation." in page and "Those cross-validation scores" not in page
    # 12 test documents say little: the page gives the interval and what one document is worth
    shown = re.search(r'id="accuracy-interval">(.*?)</p>', page).group(1)
    trained = models.get(ctx, "tiny", "m")
    found = model_results.accuracy_interval(trained)
    n = found["documents"]
    assert found["right"] == round(trained["evaluation"]["tagwise"]["accuracy"] * n)
    assert shown.startswith(f"{found['right']} of {n} test documents right: on new text like them, expect accuracy between "
                            f"{100 * found['low']:.1f}% and {100 * found['high']:.1f}% (95% interval).")
    assert f"each one moves it {100 / n:.1f} points" in shown and found["high"] - found["low"] > 0.3


def test_a_model_with_hundreds_of_mistakes_lists_them_a_page_at_a_time(studio, datasets):
    # 410 mistakes made one Evaluate page of 538 KB; every row also looked its document up in the store
    from tests.conftest import read_jsonl

    ctx = studio.ctx
    tagging.create_project(ctx, "noisy", SINGLE, "en")
    names = ["a", "b", "c", "d", "e"]
    rows = read_jsonl(datasets / "banking77" / "train.jsonl")[:1500]
    tagging.add_documents(ctx, "noisy", [{"location": f"d{i}", "text": r["text"], "labels": [names[i % 5]]}  # tags unrelated to the texts
                                         for i, r in enumerate(rows)])
    _train(ctx, "noisy", "m")
    every = model_results.mispredictions(models.get(ctx, "noisy", "m"))
    assert len(every) > 150
    first = studio.get("/studio/p/noisy/evaluate").text
    assert first.count('<tr id="wrong-') == 100 and f"Incorrect predictions <span class=\"small muted\">({len(every):,})</span>" in first
    assert f"Showing 1–100 of {len(every):,}, 100 a page." in html.unescape(first)
    assert 'href="/studio/p/noisy/evaluate?model=m&amp;wrong=2#wrong-title">Next →</a>' in first and 'rel="prev"' not in first
    second = studio.get("/studio/p/noisy/evaluate?model=m&wrong=2").text
    rows = re.findall(r'<tr id="wrong-(\d+)"', second)
    assert rows[0] == "101" and len(rows) == min(100, len(every) - 100)
    assert f'>{every[100]["location"]}</a>' in second and f'>{every[99]["location"]}</a>' not in second
    assert 'rel="prev"' in second and "Page 2 of" in second
    # a fix on page 2 comes back to page 2, at the next row
    assert re.search(r'name="back" value="/studio/p/noisy/evaluate\?model=m&amp;wrong=2#wrong-102"', second)
    # the other view settings ride along: "% of each row" (norm=1; it read norm=True, a 400) and the whole matrix
    viewed = studio.get("/studio/p/noisy/evaluate?model=m&norm=1&matrix=full&wrong=2").text
    assert 'href="/studio/p/noisy/evaluate?model=m&amp;norm=1&amp;matrix=full#wrong-title">← Previous</a>' in viewed
    assert re.search(r'name="back" value="/studio/p/noisy/evaluate\?model=m&amp;norm=1&amp;matrix=full&amp;wrong=2#wrong-102"', viewed)
    assert studio.get("/studio/p/noisy/evaluate?model=m&norm=1&matrix=full&wrong=1").status_code == 200
    past = studio.get("/studio/p/noisy/evaluate?model=m&wrong=99")  # past the end: the last page
    assert past.status_code == 200 and f"of {-(-len(every) // 100)}</span>" in past.text


def test_an_evaluation_of_many_classes_lists_the_commonest_mix_ups(studio, datasets):
    from tests.conftest import read_jsonl, take_per_class

    ctx = studio.ctx
    tagging.create_project(ctx, "wide", SINGLE, "en")
    rows = take_per_class(read_jsonl(datasets / "banking77" / "train.jsonl"), 77, 12)
    tagging.add_documents(ctx, "wide", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in rows])
    _train(ctx, "wide", "m")
    page = studio.get("/studio/p/wide/evaluate").text
    assert 'id="confusions"' in page and 'id="confusion"' not in page
    assert "With 77 classes the matrix would have 5,929 cells" in page
    whole = studio.get("/studio/p/wide/evaluate?model=m&matrix=full").text
    assert 'id="confusion"' in whole and len(whole) > len(page) + 100_000


def test_an_upload_with_a_row_of_extra_fields_adds_nothing_and_a_tsv_is_taken(studio):
    # "Qué miedo y qué tristeza";fear;sadness;es was stored with classes [fear] and language "sadness",
    # and the page refused .tsv files, which tagwise import reads
    tagging.create_project(studio.ctx, "up", MULTI, "es")
    files = [("files", ("ok.tsv", b"text\tlabels\nMe alegro\tjoy\n", "text/tab-separated-values")),
             ("files", ("extra_field.csv", 'text;labels;language\n"Qué miedo y qué tristeza";fear;sadness;es\n'.encode(), "text/csv"))]
    page = studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=files)
    assert "extra_field.csv, row 2: 4 fields, but the header has 3 (text, labels, language)" in html.unescape(flash(page.text))
    assert tagging.list_documents(studio.ctx, "up", DocumentFilter()).total == 0
    page = studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=files[:1])
    assert "Added 1 document(s)." in flash(page.text)
    hint = html.unescape(studio.get("/studio/p/up/data").text)
    assert "separated by <code>|</code> or <code>;</code>" in hint and "<code>language</code>" in hint and ".tsv" in hint
    # documents tagged "no class" are said so on upload, and counted on the Overview like a class
    none = [("files", ("none.jsonl", b'{"text": "nada", "labels": []}\n{"text": "tampoco", "labels": []}\n', "application/jsonl"))]
    page = studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=none)
    assert 'Added 2 document(s). 2 of them are tagged "no class".' in html.unescape(flash(page.text))
    row = studio.get("/studio/p/up").text.split('id="no-class-row"', 1)[1].split("</tr>", 1)[0]
    assert "?status=noclass" in row and "<td>0</td><td>0</td><td>2</td>" in row
    # the same file again (no locations): every document was added a second time, numbered on, without a word
    again = studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=none)
    assert ("Added 2 document(s). 2 of them are tagged \"no class\". 2 of them have the same text as a document the project "
            "already had: was the file uploaded before? Search for a text on this page and delete the copies, or they count "
            "twice.") in html.unescape(flash(again.text))
    # a ticket export: the columns it does not read are named, the untagged counted, new classes quoted
    export = [("files", ("jira.csv", b"Issue key,Summary,text,labels\nH-1,Crash,It crashes,bug|urgent\nH-2,Slow,It is slow,\n", "text/csv"))]
    said = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=export).text))
    assert said.startswith("Added 2 document(s). 1 of them is untagged. New classes from the file: 'bug', 'urgent'. "
                           "Columns not read: 'Issue key', 'Summary' (the upload reads"), said
    # the same export with its text in "Summary" and its class in "Type": named under "Columns" on the form
    named = [("files", ("jira2.csv", b"Issue key,Summary,Type\nH-3,It hangs,bug\n", "text/csv"))]
    said = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf, "text_column": "Summary",
                                                                              "label_column": "type"}, files=named).text))
    assert said.startswith("Added 1 document(s). Columns not read: 'Issue key'"), said
    [hangs] = tagging.list_documents(studio.ctx, "up", DocumentFilter(search="It hangs")).items
    assert hangs["labels"] == ["bug"], hangs
    both = studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf, "text_column": "Summary", "label_column": "summary"},
                       files=named)
    assert "cannot both be read from the column 'Summary'" in html.unescape(flash(both.text))
    # refused without the page's script, the form comes back with the columns still named (they were lost), "Columns" open
    assert re.search(r'<details class="small" id="upload-columns" open>', both.text)
    assert 'id="upload-text-column" name="text_column" size="16" autocomplete="off" value="Summary"' in both.text
    assert 'id="upload-label-column" name="label_column" size="16" autocomplete="off" value="summary"' in both.text
    assert 'id="upload-columns" open' not in studio.get("/studio/p/up/data").text
    # with the name column named, next week's export of the same tickets skips those the project has
    keyed = [("files", ("jira3.csv", b"Issue key,Summary,Type\nH-7,It froze,bug\n", "text/csv"))]
    named_form = {"csrf": studio.csrf, "text_column": "Summary", "label_column": "Type", "name_column": "Issue key"}
    assert html.unescape(flash(studio.post("/studio/p/up/data/upload", data=named_form, files=keyed).text)) == "Added 1 document(s)."
    week2 = [("files", ("jira4.csv", b"Issue key,Summary,Type\nH-7,It froze,bug\nH-8,It crashed,bug\n", "text/csv"))]
    again = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={**named_form, "skip_existing": "1"}, files=week2).text))
    assert again == "Added 1 document(s). Skipped 1 the project already had.", again
    # next week's export repeats this week's tickets: the whole upload was refused, with advice to rename them
    week = [("files", ("week.csv", b"id,text,labels\nT-1,old one,bug\nT-2,new one,urgent\nT-3,another,brandnew\nT-4,untagged,\n",
                       "text/csv"))]
    first = [("files", ("week.csv", b"id,text,labels\nT-1,old one,bug\nT-3,another,bug\nT-4,untagged,\n", "text/csv"))]
    studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=first)
    refused = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=week).text))
    assert 'upload again with "Skip documents the project already has" ticked' in refused
    skipped = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf, "skip_existing": "1"}, files=week).text))
    assert skipped == "Added 1 document(s). Skipped 3 the project already had.", skipped  # the untagged one was skipped: not counted
    assert "brandnew" not in projects.get(studio.ctx, "up")["classes"]  # named only by a skipped row
    # a row it skips is not checked: next week's export had emptied an old ticket's text, and the upload was refused for it
    emptied = [("files", ("week3.csv", b"id,text,labels\nT-1,,bug\nT-5,fresh one,bug\n", "text/csv"))]
    said = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf, "skip_existing": "1"}, files=emptied).text))
    assert said == "Added 1 document(s). Skipped 1 the project already had.", said
    new_blank = [("files", ("week4.csv", b"id,text,labels\nT-6,,bug\n", "text/csv"))]
    said = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf, "skip_existing": "1"}, files=new_blank).text))
    assert "'T-6' has no text" in said and "T-6" not in [d["location"] for d in tagging.list_documents(studio.ctx, "up", DocumentFilter()).items]
    plain = html.unescape(flash(studio.post("/studio/p/up/data/upload", data={"csrf": studio.csrf}, files=emptied).text))
    assert "week3.csv, row 2: its text is empty" in plain  # without the box: the row, as before


def test_multi_label_confidence_threshold_and_no_class_documents_on_evaluate_try_and_tag(studio, emotions, datasets):
    # a probe: confidenceThreshold 0.9 was ignored for multi-label; the 8 "no class" test documents all got a class,
    # and no page said so; the Tag page read "15% confident" for classes at 61/51/15% and "no class" could not be accepted
    from tagwise.core import projects, review_queue
    from tests.conftest import read_jsonl

    ctx = studio.ctx
    keep = {"gratitude", "love", "anger", "amusement"}
    none = [r for r in read_jsonl(datasets / "goemotions" / "train.jsonl") if not set(r["labels"]) & keep][:60]
    tagging.create_project(ctx, "emo", MULTI, "en")
    tagging.add_documents(ctx, "emo", [{"location": f"d{i}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(emotions)]
                          + [{"location": f"n{i}", "text": r["text"], "labels": []} for i, r in enumerate(none)]
                          + [{"location": "new", "text": "Thank you so much, I love it, lol"}])
    _train(ctx, "emo", "m")
    trained = models.get(ctx, "emo", "m")
    counts = model_results.no_class(trained)
    assert counts == trained["evaluation"]["tagwise"]["noClass"] and counts["testDocuments"] >= 10
    page = studio.get("/studio/p/emo/evaluate").text
    said = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'id="no-class">(.*?)</p>', page, re.DOTALL).group(1)))
    # exact match next to answering "no class" for every document (it stood alone: 50% read well against 44.8% for nothing)
    share = counts["testDocuments"] / trained["evaluation"]["tagwise"]["testDocuments"]
    assert re.search(rf'id="baseline">\(answering "no class" for every document would score {re.escape(percents(share, trained["evaluation"]["tagwise"]["accuracy"])[0])}\)', html.unescape(page))
    assert said.startswith(f"Documents with no class: {counts['testDocuments']} in the test set, {counts['answeredNoClass']} answered "
                           f"with none; {counts['wronglyAnsweredNoClass']} document")
    assert "Return a class only at or above" in page and 'id="threshold-floor"' not in page
    checked = html.unescape(check_tags(studio, "emo", "m").text)
    assert re.search(r'id="issues-fold-scores"[^>]*>The folds\' models score macro-F1 \d+\.\d% and exact match \d+\.\d%', checked)

    # "0.6" (a probability, as the API writes it) set a 0.6% floor under every class's own threshold: nothing changed
    fraction = studio.post("/studio/p/emo/evaluate/threshold", data={"csrf": studio.csrf, "percent": "0.6", "model": "m"})
    assert fraction.status_code == 400 and ("0.6% would change nothing: every class's own threshold is higher. The field takes a "
                                            "percentage: for 60%, type 60.") in field_error(html.unescape(fraction.text), "threshold-percent")
    assert not projects.get(ctx, "emo")["settings"].get("confidenceThreshold")
    saved = studio.post("/studio/p/emo/evaluate/threshold", data={"csrf": studio.csrf, "percent": "90", "model": "m"})
    assert "returns a class only when its probability reaches both its own threshold and 90%" in flash(saved.text)
    assert projects.get(ctx, "emo")["settings"]["confidenceThreshold"] == 0.9
    assert 'id="threshold-floor"' in saved.text and 'value="90"' in saved.text
    # every class was scored at its own (tuned) threshold: "measured with no threshold" read wrong
    assert "measured at each class's threshold (tuned), with no confidence threshold, not today's 90.0%" in html.unescape(saved.text)
    assert trained["evaluation"]["tagwise"]["confidenceThreshold"] == 0.0  # what the scores were measured at
    raised = [c for c, t in trained["evaluation"]["tagwise"]["classThresholds"].items() if t < 0.9]
    assert raised and saved.text.count("data-floor") == len(raised)
    deployments.deploy(ctx, "emo", "prod", {"trainedModelLabel": "m"})
    tried = studio.post("/studio/p/emo/try", data={"csrf": studio.csrf, "deployment": "prod", "text": emotions[0]["text"]})
    assert 'id="try-floor"' in tried.text and "needs 90.0%" in tried.text
    chosen = re.findall(r'<li class="chosen"><span class="score-name">[^<]*</span>.*?<span class="small">([\d.]+)%</span>', tried.text)
    assert all(float(score) >= 90 for score in chosen)
    # a file's "tagged" column: tagged "no class" reads as the class column writes it, untagged stays empty (both were empty)
    lines = b'{"id": "n", "text": "meh", "labels": []}\n{"id": "u", "text": "ok then"}\n{"id": "t", "text": "thanks", "labels": ["gratitude"]}\n'
    answered = studio.post("/studio/p/emo/try/file", data={"csrf": studio.csrf, "deployment": "prod"},
                           files={"file": ("three.jsonl", lines, "application/json")})
    table = list(csv.reader(io.StringIO(answered.content.decode("utf-8-sig"))))
    assert [(row[0], row[-1]) for row in table] == [("location", "tagged"), ("n", "no class"), ("u", ""), ("t", "gratitude")]

    # the Tag page: each suggested class with its own score; "no class" is a suggestion to accept like any other
    [new] = tagging.list_documents(ctx, "emo", DocumentFilter(status="untagged")).items
    cleared = studio.post("/studio/p/emo/evaluate/threshold", data={"csrf": studio.csrf, "percent": "", "model": "m"})
    assert flash(cleared.text) == ("No confidence threshold: every deployment of this project returns each class that reaches its own "
                                   "tuned threshold.") and not projects.get(ctx, "emo")["settings"].get("confidenceThreshold")
    suggestion = review_queue.suggest(ctx, projects.get(ctx, "emo"), tagging.get_document(ctx, "emo", new["id"])[1])
    assert len(suggestion.labels) >= 2, suggestion  # several classes, so one headline number would say little
    tag_page = studio.get(f"/studio/p/emo/tag?doc={new['id']}").text
    suggested = re.search(r'id="suggestion">(.*?)</p>', tag_page, re.DOTALL).group(1)
    shown = dict(re.findall(r'<span class="chip suggested"><bdi>([^<]+)</bdi> <span class="small">([\d.]+)%</span></span>', suggested))
    assert shown == {label: f"{100 * dict(suggestion.scores)[label]:.1f}" for label in suggestion.labels}
    assert "confident" not in suggested
    # each listed score with the score its class needs: "approval 15%" suggested under an unsuggested "amusement 22%" looked wrong
    listed = re.findall(r'<span class="score-name" title="([^"]+)">.*?<span class="small">([\d.]+)%</span> '
                        r'<span class="small muted" data-threshold>needs ([\d.]+)%</span>',
                        tag_page.split('id="suggestion"')[1].split("</ul>")[0])
    scores = dict(suggestion.scores)
    assert [(name, score, need) for name, score, need in listed] == [
        (name, *(p.rstrip("%") for p in percents(scores[name], suggestion.needs[name]))) for name, _ in suggestion.scores[:3]]
    assert all((name in suggestion.labels) == (scores[name] >= suggestion.needs[name]) for name, _, _ in listed)  # unrounded
    # a threshold just over the score reads apart from it ("12.9% needs 12.9%" for a class not suggested)
    top, top_score = suggestion.scores[0]
    projects.upsert(ctx, "emo", {"settings": {"classThresholds": {top: round(top_score + 0.0003, 6)}}})
    tag_page = studio.get(f"/studio/p/emo/tag?doc={new['id']}").text
    [(score, need)] = re.findall(rf'title="{re.escape(top)}">.*?<span class="small">([\d.]+)%</span> '
                                 r'<span class="small muted" data-threshold>needs ([\d.]+)%</span>', tag_page)
    assert float(score) < float(need), (score, need)
    projects.upsert(ctx, "emo", {"settings": {"classThresholds": None}})
    projects.upsert(ctx, "emo", {"settings": {"confidenceThreshold": 0.9999}})  # no class reaches it
    tag_page = studio.get(f"/studio/p/emo/tag?doc={new['id']}").text
    assert "no class reached its threshold" in tag_page and "0% confident" not in tag_page and 'id="accept"' in tag_page
    accepted = studio.post("/studio/p/emo/tag", data=form_data(tag_page, "accept-form"))
    assert accepted.status_code == 200 and tagging.get_document(ctx, "emo", new["id"])[1]["labels"] == []


def check_tags(studio, project: str, model: str):
    """Press "Find documents whose tag looks wrong": the check runs in the background (tens of
    seconds, more than a request should wait) and the page polls until it is done; here, the
    store's state is polled, then the page read again."""
    import time

    from tagwise.core import label_issues

    started = studio.post(f"/studio/p/{project}/evaluate/issues", data={"csrf": studio.csrf, "model": model})
    assert started.status_code == 200 and "Checking the tags in the background" in flash(started.text)
    deadline = time.monotonic() + 120
    while (state := studio.get(f"/studio/p/{project}/evaluate/issues.json").json())["running"]:
        assert isinstance(state["seconds"], int) and 0 <= state["seconds"] < 120  # the page says how long it has run
        assert time.monotonic() < deadline, "the check did not end"
        time.sleep(0.2)
    assert state["seconds"] is None
    assert label_issues.check_state(studio.ctx, project)["failed"] is None
    page = studio.get(f"/studio/p/{project}/evaluate", params={"model": model})
    assert 'id="issues-running"' not in page.text and 'id="issues-last"' in page.text
    return page


def test_multi_label_class_threshold_is_set_shown_and_reset_from_the_evaluate_page(studio, emotions):
    # a probe saw neutral added wrongly 205 times against 162 hits, and could raise only every class's threshold at once
    from tagwise.core import projects

    ctx = studio.ctx
    tagging.create_project(ctx, "emo", MULTI, "en")
    tagging.add_documents(ctx, "emo", [{"location": f"d{i}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(emotions)])
    _train(ctx, "emo", "m")
    tuned = models.get(ctx, "emo", "m")["evaluation"]["tagwise"]["classThresholds"]
    page = studio.get("/studio/p/emo/evaluate").text
    assert 'id="class-threshold-form"' in page and '<label for="class-threshold-class">Class</label>' in page
    assert "data-class-set" not in page and 'id="class-thresholds-set"' not in page

    saved = studio.post("/studio/p/emo/evaluate/class-threshold", data={"csrf": studio.csrf, "model": "m", "cls": "love", "percent": "97,5"})
    assert "returns love when its probability reaches 97.5% instead of its tuned threshold" in flash(saved.text)
    assert projects.get(ctx, "emo")["settings"] == {"classThresholds": {"love": 0.975}}
    text = html.unescape(saved.text)
    # the Threshold column: the value set, marked, with the tuned one beside it; the other classes as tuned
    assert re.search(rf'<strong data-class-set [^>]*>97\.5%</strong> <span class="small muted">\(tuned {100 * tuned["love"]:.1f}%\)</span>', text)
    assert saved.text.count("data-class-set") == 1
    assert 'id="class-thresholds-set"' in saved.text and "love</strong>: 97.5%" in text
    assert f"love (tuned {100 * tuned['love']:.1f}%, set 97.5%)" in text
    deployments.deploy(ctx, "emo", "prod", {"trainedModelLabel": "m"})
    tried = studio.post("/studio/p/emo/try", data={"csrf": studio.csrf, "deployment": "prod", "text": emotions[0]["text"]}).text
    assert re.search(r'love</span>.*?needs 97\.5%', tried, re.DOTALL)  # Try it decides as every deployment does
    assert '<span id="try-set">love</span>' in tried  # and says which classes have a threshold set

    # refused: out of range (next to the percentage), not a class (next to the class); what was typed stays
    for cls, percent, field, said in (("love", "100", "class-threshold-percent", "from 0 to below 100"),
                                      ("lvoe", "50", "class-threshold-class", "names 'lvoe', which is not a class of project emo")):
        refused = studio.post("/studio/p/emo/evaluate/class-threshold", data={"csrf": studio.csrf, "model": "m", "cls": cls, "percent": percent})
        assert refused.status_code == 400 and said in html.unescape(field_error(refused.text, field)), refused.text[-2000:]
        assert f'value="{percent}"' in refused.text
    assert projects.get(ctx, "emo")["settings"] == {"classThresholds": {"love": 0.975}}
    # the next training is scored with it, and says so; the page then has nothing to warn of. A class with no
    # documents is not the model's: its threshold is not said to have replaced a tuned one it never had
    from tagwise.core import schema

    schema.add_class(ctx, "emo", "grief")
    projects.upsert(ctx, "emo", {"settings": {"classThresholds": {"love": 0.975, "grief": 0.1}}})
    _train(ctx, "emo", "m2")
    assert models.get(ctx, "emo", "m2")["evaluation"]["tagwise"]["projectClassThresholds"] == {"love": 0.975}
    projects.upsert(ctx, "emo", {"settings": {"classThresholds": {"grief": None}}})
    assert 'id="class-scored-at"' in saved.text and 'id="class-scored-at"' not in studio.get("/studio/p/emo/evaluate?model=m2").text

    reset = studio.post("/studio/p/emo/evaluate/class-threshold", data=form_data(saved.text, "class-threshold-reset-1"))
    assert "love is back to its threshold tuned at training" in flash(reset.text)
    assert projects.get(ctx, "emo")["settings"] == {} and "data-class-set" not in reset.text


def test_the_documents_download_as_a_spreadsheets_csv_and_a_file_is_classified_from_try_it(studio, banking):
    # a lead could get neither the tagged tickets nor this week's export, classified, out of the studio
    import csv
    import io

    from tagwise.studio.uploads import parse_file

    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    rows = [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]]
    rows[0]["text"] = "=HYPERLINK(\"http://evil\",\"card\") my card, please"  # a customer's text a spreadsheet would run
    tagging.add_documents(ctx, "bank", rows + [{"location": "new-1", "text": "Où est ma carte ? « vite »"}])
    french = {"accept-language": "fr-FR,fr;q=0.9"}
    page = studio.get("/studio/p/bank/data", params={"status": "untagged"}).text
    assert 'href="/studio/p/bank/data.csv?status=untagged"' in page and "Download these as CSV" in page
    got = studio.get("/studio/p/bank/data.csv", params={"status": "untagged"}, headers=french)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert 'filename="bank.csv"' in got.headers["content-disposition"]
    assert got.content.startswith(b"\xef\xbb\xbflocation;text;labels;dataset;language\r\n")  # for a French Excel
    # no language given: the cell stays empty, so the file uploads again as a document that follows the project's language
    assert got.content.decode("utf-8-sig").splitlines()[1] == "new-1;Où est ma carte ? « vite »;;;"

    whole = studio.get("/studio/p/bank/data.csv").content  # no filter: every document, "," for an English browser
    table = list(csv.DictReader(io.StringIO(whole.decode("utf-8-sig"))))
    assert len(table) == len(rows) + 1 and table[0]["text"].startswith("'=HYPERLINK(")  # shown as text, never run
    assert table[1]["labels"] == rows[1]["labels"][0]
    again, _ = parse_file("bank.csv", whole)  # it uploads again as it is, the formula-safe ' taken off
    assert [(d["location"], d["text"], d["labels"]) for d in again] == \
        [(r["location"], r["text"], r["labels"]) for r in rows] + [("new-1", "Où est ma carte ? « vite »", None)]
    assert studio.get("/studio/p/nope/data.csv").status_code == 404
    # a multi-label class whose name has a comma: its own download was refused ("the labels hold a comma")
    tagging.create_project(ctx, "commas", MULTI, "en")
    tagging.add_documents(ctx, "commas", [{"location": "t1", "text": "refund my card now", "labels": ["billing, refunds", "urgent"]},
                                          {"location": "t2", "text": "card, please", "labels": ["billing, refunds"]}])
    saved = studio.get("/studio/p/commas/data.csv").content
    assert b'"billing, refunds|urgent"' in saved
    again = studio.post("/studio/p/commas/data/upload", data={"csrf": studio.csrf}, files={"files": ("commas.csv", saved, "text/csv")})
    assert "hold a comma" not in again.text and "error" not in flash(again.text), flash(again.text)
    assert [d["labels"] for d in parse_file("c.csv", saved, True, classes=["urgent", "billing, refunds"])[0]] == \
        [["billing, refunds", "urgent"], ["billing, refunds"]]
    with pytest.raises(InvalidArgument, match="hold a comma"):  # a class the project lacks: still two classes meant, most likely
        parse_file("c.csv", saved, True, classes=["urgent"])

    _train(ctx, "bank", "one")
    deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "one"})
    try_page = studio.get("/studio/p/bank/try").text
    assert 'action="/studio/p/bank/try/file"' in try_page
    tickets = "id;text;label\r\nt1;" + banking["test"][0]["text"] + ";" + banking["test"][0]["labels"][0] + "\r\nt2;where is my card?;\r\n"
    answered = studio.post("/studio/p/bank/try/file", data={"csrf": studio.csrf, "deployment": "prod"},
                           files={"file": ("tickets.csv", tickets.encode("utf-8-sig"), "text/csv")}, headers=french)
    assert answered.status_code == 200, answered.text[:500]
    assert 'filename="tickets-classified.csv"' in answered.headers["content-disposition"]
    out = list(csv.DictReader(io.StringIO(answered.content.decode("utf-8-sig")), delimiter=";"))
    assert [(r["location"], r["tagged"]) for r in out] == [("t1", banking["test"][0]["labels"][0]), ("t2", "")]
    assert all(r["class"] and 0 < float(r["confidence"].replace(",", ".")) <= 1 and not r["error"] for r in out)
    assert len(tagging.list_documents(ctx, "bank", DocumentFilter()).items) == 50  # nothing was added (a page of the list)
    assert tagging.list_documents(ctx, "bank", DocumentFilter()).total == len(rows) + 1
    # a .txt file is one document, as the Data page uploads it (it was a 500); the ; file's confidences have a decimal comma
    one = studio.post("/studio/p/bank/try/file", data={"csrf": studio.csrf, "deployment": "prod"},
                      files={"file": ("note.txt", b"my card has not arrived yet", "text/plain")})
    assert one.status_code == 200 and [r["location"] for r in csv.DictReader(io.StringIO(one.content.decode("utf-8-sig")))] == ["note.txt"]
    assert "," in out[0]["confidence"] and "." not in out[0]["confidence"]
    # a ticket export whose text is in "Summary": named under "Columns", as on the Data page
    export = "Key,Summary,Team\nK-1,my card has not arrived yet,card_arrival\n"
    named = studio.post("/studio/p/bank/try/file", data={"csrf": studio.csrf, "deployment": "prod", "text_column": "Summary",
                                                         "label_column": "Team"}, files={"file": ("export.csv", export.encode(), "text/csv")})
    [row] = csv.DictReader(io.StringIO(named.content.decode("utf-8-sig")))
    assert (row["text"], row["tagged"]) == ("my card has not arrived yet", "card_arrival") and row["class"]
    assert 'name="text_column"' in studio.get("/studio/p/bank/try").text
    # a refusal keeps the columns named, "Columns" open
    kept = studio.post("/studio/p/bank/try/file", data={"csrf": studio.csrf, "deployment": "prod", "text_column": "Body",
                                                        "label_column": "Team"}, files={"file": ("export.csv", export.encode(), "text/csv")})
    assert kept.status_code == 400 and "no column 'Body' for the text" in html.unescape(kept.text)
    assert 'id="try-file-columns" open' in kept.text and 'value="Body"' in kept.text and 'value="Team"' in kept.text
    # a file that cannot be read is refused on the page, with why, as an upload is
    refused = studio.post("/studio/p/bank/try/file", data={"csrf": studio.csrf, "deployment": "prod"},
                          files={"file": ("tickets.xlsx", b"PK\x03\x04", "application/octet-stream")})
    assert refused.status_code == 400 and "is an Excel workbook" in field_error(refused.text, "try-file")
    # the upload's "nothing was added" misread what Try it does
    empty = studio.post("/studio/p/bank/try/file", data={"csrf": studio.csrf, "deployment": "prod"},
                        files={"file": ("t.csv", "text\nfine\n\u200b\n".encode(), "text/csv")})
    said = field_error(empty.text, "try-file")
    assert empty.status_code == 400 and "othing was classified" in said and "added" not in said


def test_a_training_waiting_on_a_server_that_runs_no_jobs_says_why(studio, banking):
    ctx = studio.ctx
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", [{"location": r["id"], "text": r["text"], "labels": r["labels"]} for r in banking["train"]])
    job = training.start(ctx, "bank", {"modelLabel": "m", "trainingConfigVersion": "linear"})
    ctx.settings.run_jobs = False
    try:
        page = html.unescape(studio.get(f"/studio/p/bank/train/{job['id']}").text)
    finally:
        ctx.settings.run_jobs = True
    assert "Waiting for a job runner: this server runs no jobs itself (TAGWISE_RUN_JOBS=false)" in page


def test_an_upload_past_its_document_limit_is_refused_as_it_is_read(studio, monkeypatch):
    # 3 million one-letter rows were read whole (88 s, the server at 4 GB) and added
    from tagwise.studio.routes import data

    monkeypatch.setattr(data, "MAX_UPLOAD_DOCUMENTS", 5)
    tagging.create_project(studio.ctx, "big", SINGLE, "en")
    refused = studio.post("/studio/p/big/data/upload", data={"csrf": studio.csrf}, headers={"accept": "application/json"},
                          files=[("files", ("rows.csv", b"text\n" + b"x\n" * 3_000_000, "text/csv"))])
    assert refused.status_code == 400 and refused.json()["message"].startswith("rows.csv has more than 5 documents; the studio adds up to")
    assert tagging.list_documents(studio.ctx, "big", DocumentFilter()).total == 0
