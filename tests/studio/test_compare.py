"""The Compare page: two trained models of a project side by side (real store, real linear models).

One project is trained three times and shared by the in-process tests: ``v1`` on 3 training documents
per class, ``v2`` on 20 per class, both tested on the same 5 per class (each document's Train/Test
set), and ``pct`` with an automatic percentage split, so its test set is another one.
"""

from __future__ import annotations

import html
import re
import time

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from tagwise.core import comparison, models, tagging, training
from tagwise.core.percentfmt import percents, points
from tests.conftest import KEY
from tests.studio.conftest import NARROW, fits_width, screenshot, sign_in

SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"


def _documents(rows: list[dict], train_per_class: int) -> list[dict]:
    """The first 5 documents of each class in Test, the next ``train_per_class`` in Train."""
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        n = seen[row["labels"][0]] = seen.get(row["labels"][0], 0) + 1
        if n <= 5 + train_per_class:
            out.append({"location": row["id"], "text": row["text"], "labels": row["labels"], "dataset": "Test" if n <= 5 else "Train"})
    return out


def _train(ctx, project: str, label: str, split: str = "manual") -> None:
    options = {"kind": "manual"} if split == "manual" else {
        "kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20}
    job = training.start(ctx, project, {"modelLabel": label, "trainingConfigVersion": "linear", "evaluationOptions": options})
    training.run(ctx, job["id"], lambda _: None)


def _text(page: str, element_id: str) -> str:
    """The text of the element with that id (its tags dropped, spaces folded), for assertions on what a person reads."""
    start = page.index(f'id="{element_id}"')
    tag = page.rfind("<", 0, start)
    name = re.match(r"<(\w+)", page[tag:]).group(1)
    end = page.index(f"</{name}>", start)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page[tag:end])).split())


def _row(table: str, name: str) -> str:
    found = re.search(rf"{re.escape(name)}( \(lower is better\))? ([^A-Z]+?)(?= [A-Z]|$)", table)
    assert found, f"no row {name} in: {table}"
    return found.group(2)


def _shown(change: comparison.Change) -> str:
    """A change as the page writes it: arrow, points (the difference of the two numbers as shown), and a word."""
    shown = points(change.a, change.b)  # "2.7%" beside "3.6%" read "+0.8 pts" (the exact difference) before
    if change.verdict == "same":  # the real change, under about one test document's worth ("0.0 pts" over +0.8 before)
        return f"= {shown} pts same"
    arrow = "▲" if change.delta > 0 else "▼"
    return f"{arrow} {shown} pts {change.verdict}" + (" could be chance" if change.could_be_chance else "")


@pytest.fixture(scope="module")
def bank(tmp_path_factory, banking):
    """A signed-in client on a store whose project ``bank`` has the models v1, v2 and pct."""
    from tagwise.server import create_app
    from tagwise.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("compare") / "data", api_key=KEY)
    with TestClient(create_app(settings, run_jobs=False), base_url="http://127.0.0.1") as client:
        token = re.search(r'name="token" value="([^"]+)"', client.get("/studio").text).group(1)
        client.post("/studio/login", data={"key": KEY, "token": token})
        ctx = client.ctx = client.app.state.ctx
        tagging.create_project(ctx, "bank", SINGLE, "en")
        few = _documents(banking["train"], 3)
        tagging.add_documents(ctx, "bank", few)
        _train(ctx, "bank", "v1")
        known = {d["location"] for d in few}
        tagging.add_documents(ctx, "bank", [d for d in _documents(banking["train"], 20) if d["location"] not in known])
        _train(ctx, "bank", "v2")
        _train(ctx, "bank", "pct", split="percentage")
        yield client


def _stored(client, a: str, b: str) -> comparison.Comparison:
    """What the page should show, from the stored models."""
    return comparison.compare(models.get(client.ctx, "bank", a), models.get(client.ctx, "bank", b))


def test_headline_shows_both_models_and_the_change_with_a_word_not_only_a_colour(bank):
    page = bank.get("/studio/p/bank/compare?a=v1&b=v2")
    assert page.status_code == 200
    headline = _text(page.text, "headline")
    v1, v2 = (models.get(bank.ctx, "bank", label)["evaluation"]["tagwise"] for label in ("v1", "v2"))
    changes = dict(_stored(bank, "v1", "v2").headline)
    assert "A: v1 B: v2 Change (B − A)" in headline
    assert _row(headline, "Train documents") == "18 120 +102" and _row(headline, "Test documents") == "30 30"
    assert _row(headline, "Recipe") == "linear linear"
    assert v2["accuracy"] > v1["accuracy"], "20 training documents per class beat 3"
    assert _row(headline, "Accuracy") == f"{100 * v1['accuracy']:.1f}% {100 * v2['accuracy']:.1f}% {_shown(changes['Accuracy'])}"
    assert _shown(changes["Accuracy"]).startswith("▲ +") and changes["Accuracy"].verdict == "better"
    ece = changes["Calibration error (ECE)"]
    assert (ece.a, ece.b) == (v1["expectedCalibrationError"], v2["expectedCalibrationError"])
    assert _row(headline, "Calibration error (ECE)").endswith(_shown(ece))
    assert ece.verdict == ("better" if ece.b < ece.a else "worse")  # lower is better
    assert "Both were evaluated on the same 30 test documents." in page.text and 'id="split-warning"' not in page.text
    print(f"\nv1 → v2: {headline}")


def test_a_gain_of_a_few_documents_is_called_possibly_chance(bank):
    diff = _stored(bank, "v1", "v2")
    fixed, broken = len(diff.fixed), len(diff.broken)
    assert fixed > broken and fixed + broken < 8, "v2 gains a few of 30 test documents"
    page = bank.get("/studio/p/bank/compare?a=v1&b=v2").text
    assert _row(_text(page, "headline"), "Accuracy").endswith("better could be chance")
    said = _text(page, "chance")
    assert said.startswith("This could be chance.")
    assert f"a split at least as uneven as {fixed} to {broken} would come {100 * diff.overlap.p_value:.0f}% of the time" in said
    assert "more test documents would tell" in said


def test_per_class_rows_start_with_the_biggest_change_and_can_be_sorted_by_name(bank):
    expected = _stored(bank, "v1", "v2").classes
    page = bank.get("/studio/p/bank/compare?a=v1&b=v2").text
    shown = re.findall(r'<tr data-class="([^"]+)">', page)
    assert shown == [r.name for r in expected] and len(shown) == 6
    top = expected[0]
    assert abs(top.f1.delta) > 0 and _shown(top.f1) in _text(page, "class-compare")
    # the two F1 numbers are shown with the decimals their change has ("91.2% · 91.2% · = −0.03 pts" before)
    row = re.search(rf'<tr data-class="{re.escape(top.name)}">(.*?)</tr>', page, re.DOTALL).group(1)
    assert [html.unescape(c) for c in re.findall(r"<td>([^<]*%)</td>", row)[2::3]] == percents(top.f1.a, top.f1.b)
    by_name = bank.get("/studio/p/bank/compare?a=v1&b=v2&sort=name").text
    assert re.findall(r'<tr data-class="([^"]+)">', by_name) == sorted(shown, key=str.casefold) and "Sort by biggest change" in by_name


def test_documents_whose_prediction_changed_are_listed_with_a_link_to_them(bank):
    diff = _stored(bank, "v1", "v2")
    assert diff.fixed, "v2, trained on far more documents, fixes some of v1's mistakes"
    page = bank.get("/studio/p/bank/compare?a=v1&b=v2").text
    assert f"Fixed by v2 ({len(diff.fixed)})" in _text(page, "fixed-title")
    assert f"Broken by v2 ({len(diff.broken)})" in _text(page, "broken-title")
    fixed = _text(page, "fixed")
    doc = tagging.list_documents(bank.ctx, "bank", tagging.DocumentFilter(search=diff.fixed[0].location)).items[0]
    assert f"{diff.fixed[0].location} {doc['snippet'][:30]}" in fixed  # the location, then the start of the text
    assert f'href="/studio/p/bank/tag?doc={doc["id"]}&amp;back=%2Fstudio%2Fp%2Fbank%2Fcompare%3Fa%3Dv1%26b%3Dv2"' in page
    opened = bank.get(f"/studio/p/bank/tag?doc={doc['id']}")
    assert opened.status_code == 200 and diff.fixed[0].location in opened.text


def test_models_tested_on_different_documents_are_flagged_and_compared_on_the_shared_ones(bank):
    diff = _stored(bank, "v2", "pct")
    assert not diff.overlap.same_documents and 0 < diff.overlap.shared < 30
    page = bank.get("/studio/p/bank/compare?a=v2&b=pct").text
    warning = _text(page, "split-warning")
    assert warning.startswith("Not the same test documents. v2 was evaluated on 30 test documents and pct on 30;")
    assert f"they share {diff.overlap.shared}." in warning
    shared = _text(page, "shared-scores")
    accuracy = dict(diff.overlap.scores)["Accuracy"]
    assert _row(shared, "Accuracy").startswith(f"{100 * accuracy.a:.1f}% {100 * accuracy.b:.1f}%")
    assert f"On the {diff.overlap.shared} shared test documents" in page


def test_without_a_and_b_the_newest_two_are_compared(bank):
    page = bank.get("/studio/p/bank/compare").text
    assert re.search(r'<select id="pick-a" name="a">.*?<option value="v2" selected>', page)
    assert re.search(r'<select id="pick-b" name="b">.*?<option value="pct" selected>', page)
    assert 'href="/studio/p/bank/compare?a=pct&amp;b=v2" id="swap"' in page


def test_the_evaluate_page_offers_the_other_models_to_compare_with(bank):
    page = bank.get("/studio/p/bank/evaluate?model=v2").text
    form = re.search(r'<form method="get" action="/studio/p/bank/compare" class="row" id="compare-with">.*?</form>',
                     page, re.DOTALL).group(0)
    assert '<input type="hidden" name="b" value="v2">' in form and "Compare with…" in form
    assert re.findall(r'<option value="([^"]+)"( selected)?', form) == [("pct", ""), ("v1", " selected")]  # the one before v2 first chosen


def test_unknown_models_and_projects_are_pages_saying_what_to_do(bank):
    for path, message in (("/studio/p/bank/compare?a=v9",
                           "The trained model v9 could not be found in project bank. Its trained models: v1, v2, pct."),
                          ("/studio/p/bank/compare?a=v1&b=gone", "The trained model gone could not be found"),
                          ("/studio/p/nope/compare", "The project nope could not be found.")):
        page = bank.get(path)
        assert page.status_code == 404 and "Something is not right" in page.text, path
        assert message in _text(page.text, "main"), path
    signed_out = TestClient(bank.app, base_url="http://127.0.0.1").get("/studio/p/bank/compare?a=v1&b=v2", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/studio?next=")


def test_a_project_with_fewer_than_two_models_says_so(bank, banking):
    tagging.create_project(bank.ctx, "one", SINGLE, "en")
    page = bank.get("/studio/p/one/compare").text
    assert "This project has 0 trained models: comparing needs two. Train one" in _text(page, "too-few")
    tagging.add_documents(bank.ctx, "one", _documents(banking["train"], 3))
    _train(bank.ctx, "one", "only")
    page = bank.get("/studio/p/one/compare").text
    assert "This project has 1 trained model: comparing needs two. Train another" in _text(page, "too-few")
    assert 'id="compare-with"' not in bank.get("/studio/p/one/evaluate").text


def test_multi_label_models_compare_micro_f1_and_count_documents_not_tags(bank, emotions):
    tagging.create_project(bank.ctx, "emo", MULTI, "en")
    rows = [{"location": f"d{i:03d}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(emotions)]
    tagging.add_documents(bank.ctx, "emo", rows[:120])
    _train(bank.ctx, "emo", "m1", split="percentage")
    tagging.add_documents(bank.ctx, "emo", rows[120:])
    _train(bank.ctx, "emo", "m2", split="percentage")
    headline = _text(bank.get("/studio/p/emo/compare").text, "headline")
    assert "Micro F1" in headline and "Accuracy" not in headline
    train, test = (_row(headline, name).split() for name in ("Train documents", "Test documents"))
    # documents, however many tags each has: train and test add up to the tagged documents at each training
    assert (int(train[0]) + int(test[0]), int(train[1]) + int(test[1])) == (120, 240)
    # retrained with one class's threshold set by the project: the page says the thresholds differ, in
    # multi-label words (a floor and class thresholds, not "answering None")
    from tagwise.core import projects

    label = min(c for r in rows for c in r["labels"])
    projects.upsert(bank.ctx, "emo", {"settings": {"classThresholds": {label: 0.6}}})
    _train(bank.ctx, "emo", "m3", split="percentage")
    page = bank.get("/studio/p/emo/compare?a=m2&b=m3").text
    warning = _text(page, "threshold-warning")
    # "the project's class thresholds none" read as if m2 had no thresholds
    assert warning.startswith("Not scored at the same thresholds. m2 was scored with a confidence floor of none and each class "
                              f"at its tuned threshold; m3 with a floor of none and the class thresholds set for {label} 60.0% (each "
                              "other class at its tuned one)")
    assert "None below" not in warning
    # only the class whose threshold moved reads "other thresholds" (every class did), and both can be re-scored
    rows = re.findall(r'<tr data-class="([^"]+)">(.*?)</tr>', page, re.DOTALL)
    assert len(rows) >= 3 and [name for name, row in rows if "other thresholds" in row] == [html.escape(label)]
    assert 'id="rescore" href="/studio/p/emo/compare?a=m2&amp;b=m3&amp;now=1"' in page
    rescored = bank.get("/studio/p/emo/compare?a=m2&b=m3&now=1").text
    assert "other thresholds" not in rescored and 'id="threshold-warning"' not in rescored
    assert f"Both models re-scored with the project's thresholds now (a confidence floor of none, and the class thresholds set for {label} 60.0%" in _text(rescored, "rescored")
    # re-scored with what it was scored with, a model scores as it did; m2 with the 60% loses or keeps documents of that class only
    m2, m3 = models.get(bank.ctx, "emo", "m2"), models.get(bank.ctx, "emo", "m3")
    settings = projects.get(bank.ctx, "emo")["settings"]
    same = comparison.at_project_thresholds(m3, settings)
    assert same["evaluation"]["customMultiLabelClassificationEvaluation"] == m3["evaluation"]["customMultiLabelClassificationEvaluation"]
    raised = comparison.at_project_thresholds(m2, settings)
    for before, after in zip(m2["evaluation_results"], raised["evaluation_results"], strict=True):
        was, now = (set(r["customMultiLabelClassificationResult"]["predictedClasses"]) for r in (before, after))
        assert was - {label} == now - {label} and (label in now) == (before["tagwise"]["scores"].get(label, 0) >= 0.6)
    # a bar lowered under what a result recorded cannot be decided: said, not guessed
    projects.upsert(bank.ctx, "emo", {"settings": {"classThresholds": {label: 0.0001}}})
    unknown = any(label not in r["tagwise"]["scores"] for r in m2["evaluation_results"])
    assert unknown  # 4 classes, the 3 likeliest recorded: some result lacks it
    lowered = bank.get("/studio/p/emo/compare?a=m2&b=m3&now=1").text
    assert ('id="not-rescored"' in lowered) == unknown and ('id="rescored"' in lowered) == (not unknown)


SERVER_PROJECT = "compare-ui"


@pytest.fixture(scope="module")
def two_models_on_the_server(server, banking):
    """The project on the live server, trained twice by its job runner: v1 on few documents, v2 on more."""
    from tagwise.core import jobs
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=server.data_dir, api_key=server.key), migrate=False)
    try:
        tagging.create_project(ctx, SERVER_PROJECT, SINGLE, "en")
        few = _documents(banking["train"], 3)
        tagging.add_documents(ctx, SERVER_PROJECT, few)
        for label in ("v1", "v2"):
            if label == "v2":
                known = {d["location"] for d in few}
                tagging.add_documents(ctx, SERVER_PROJECT, [d for d in _documents(banking["train"], 20) if d["location"] not in known])
            job = training.start(ctx, SERVER_PROJECT, {"modelLabel": label, "trainingConfigVersion": "linear",
                                                       "evaluationOptions": {"kind": "manual"}})
            deadline = time.monotonic() + 120
            while jobs.get(ctx, job["id"], "train")["status"] not in jobs.TERMINAL:
                assert time.monotonic() < deadline, "training did not finish"
                time.sleep(0.2)
            assert jobs.get(ctx, job["id"], "train")["status"] == "succeeded"
        yield comparison.compare(models.get(ctx, SERVER_PROJECT, "v1"), models.get(ctx, SERVER_PROJECT, "v2"))
    finally:
        ctx.close()


@pytest.mark.timeout(300)
def test_compare_from_the_evaluate_page_by_keyboard(page, server, two_models_on_the_server):
    diff = two_models_on_the_server
    sign_in(page, server)
    page.goto(f"/studio/p/{SERVER_PROJECT}/evaluate")
    expect(page.get_by_label("Compare with…")).to_have_value("v1")
    page.get_by_label("Compare with…").focus()
    page.keyboard.press("Tab")  # to the form's Compare button
    expect(page.locator("#compare-with button")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Compare models")).to_be_visible()
    expect(page.locator("#pick-a")).to_have_value("v1")
    expect(page.locator("#pick-b")).to_have_value("v2")
    accuracy = dict(diff.headline)["Accuracy"]
    expect(page.locator('#headline tr[data-metric="Accuracy"]')).to_contain_text(_shown(accuracy))
    expect(page.locator("#split-same")).to_contain_text("same 30 test documents")
    expect(page.locator("#fixed tbody tr")).to_have_count(len(diff.fixed))
    screenshot(page, "compare")
    page.set_viewport_size(NARROW)
    assert fits_width(page), "the Compare page scrolls sideways on a narrow screen"
    screenshot(page, "narrow-compare")
    # a fixed document opens on the Tag page, which leads back here
    page.locator("#fixed tbody tr").first.get_by_role("link").click()
    expect(page.locator("#doc-title")).to_contain_text(diff.fixed[0].location)


def test_models_scored_at_different_thresholds_are_flagged(bank, banking):
    # retrained after the threshold moved from 50% to 90%, a model identical to the first was called "+9.0 pts better"
    from tagwise.core import projects

    ctx = bank.ctx
    tagging.create_project(ctx, "router", SINGLE, "en")
    tagging.add_documents(ctx, "router", _documents(banking["train"], 6))
    projects.upsert(ctx, "router", {"settings": {"confidenceThreshold": 0.5}})
    _train(ctx, "router", "t50")
    projects.upsert(ctx, "router", {"settings": {"confidenceThreshold": 0.9}})
    _train(ctx, "router", "t90")
    warning = _text(bank.get("/studio/p/router/compare?a=t50&b=t90").text, "threshold-warning")
    assert warning.startswith("Not scored at the same confidence threshold. t50 was scored answering None below 50.0%, t90 below 90.0%")
    assert "threshold-warning" not in bank.get("/studio/p/bank/compare?a=v1&b=v2").text
    # and the documents the threshold sent to None are not read as the other model being better "not by luck"
    chance = _text(bank.get("/studio/p/router/compare?a=t50&b=t90").text, "chance")
    assert "scored at different thresholds: the threshold alone moves documents to None and back" in chance and "not by luck" not in chance
    assert "other thresholds" in _row(_text(bank.get("/studio/p/router/compare?a=t50&b=t90").text, "headline"), "Accuracy")
    # a dead end: nothing could compare the two at one threshold. Re-scored from their recorded answers, they can be
    page = bank.get("/studio/p/router/compare?a=t50&b=t90").text
    assert 'href="/studio/p/router/compare?a=t50&amp;b=t90&amp;at=0.9"' in page
    rescored = bank.get("/studio/p/router/compare?a=t50&b=t90&at=0.9").text
    assert 'id="rescored"' in rescored and "threshold-warning" not in rescored and "other thresholds" not in rescored
    from tagwise.core.comparison import at_threshold
    t90 = models.get(ctx, "router", "t90")
    again = at_threshold(t90, 0.9)  # a model re-scored at its own threshold keeps its scores
    assert again["evaluation"]["tagwise"]["accuracy"] == pytest.approx(t90["evaluation"]["tagwise"]["accuracy"], abs=1e-9)
    body, before = again["evaluation"]["customSingleLabelClassificationEvaluation"], t90["evaluation"]["customSingleLabelClassificationEvaluation"]
    assert body["macroF1"] == pytest.approx(before["macroF1"], abs=1e-9)
    assert 'id="rescored"' in bank.get("/studio/p/router/compare?a=t50&b=t90&at=0").text  # no threshold is a threshold too
    refused = bank.get("/studio/p/router/compare?a=t50&b=t90&at=nan")  # it said "Input should be less than 1"
    assert refused.status_code == 400 and "finite number" in refused.text


def test_test_documents_retagged_to_the_predictions_give_no_verdict(bank, banking):
    # a lead clicked "Tag as predicted" on wrong test documents and retrained on the same training data: no
    # prediction changed, and the headline said "+10 pts better"
    from tagwise.storage import document_records, records

    ctx = bank.ctx
    tagging.create_project(ctx, "retag", SINGLE, "en")
    tagging.add_documents(ctx, "retag", _documents(banking["train"], 4))
    _train(ctx, "retag", "before")
    wrong = [w for w in models.get(ctx, "retag", "before")["evaluation_results"]
             if w["customSingleLabelClassificationResult"]["expectedClass"] != w["customSingleLabelClassificationResult"]["predictedClass"]]
    assert len(wrong) >= 2
    with ctx.db.read() as conn:
        found = document_records.by_locations(conn, records.get_project(conn, "retag")["id"], [w["location"] for w in wrong], with_text=False)
    for w in wrong:
        tagging.set_labels(ctx, "retag", found[w["location"]]["id"], [w["customSingleLabelClassificationResult"]["predictedClass"]])
    _train(ctx, "retag", "after")
    page = bank.get("/studio/p/retag/compare?a=before&b=after").text
    headline = _text(page, "headline")
    assert "pts better" not in headline and "other tags" in _row(headline, "Accuracy")
    assert _text(page, "headline-retagged").startswith(f"Scored against different tags. {len(wrong)} of the test documents were retagged")
    assert "same" in _row(_text(page, "shared-scores"), "Accuracy")  # on one set of tags, nothing changed


def test_the_sentence_encoder_of_each_model_is_shown_and_a_change_named(bank):
    # a +15-point change came from the encoder alone (an English project's texts were German), and the page did not say
    assert "encoder-row" not in bank.get("/studio/p/bank/compare?a=v1&b=v2").text  # linear models embed nothing
    job = training.start(bank.ctx, "bank", {"modelLabel": "emb", "trainingConfigVersion": "embedding", "evaluationOptions": {"kind": "manual"}})
    training.run(bank.ctx, job["id"], lambda _: None)
    row = _text(bank.get("/studio/p/bank/compare?a=v2&b=emb").text, "encoder-row")
    assert row == "Sentence encoder none all-MiniLM-L6-v2 changed", row


def test_a_threshold_set_for_a_class_only_one_model_knows_does_not_keep_them_apart(bank, emotions):
    # a review: a class added with a set threshold made two multi-label models "not scored at the same thresholds" with no
    # class row marked, and "Compare both with the project's thresholds now" came back with the same warning and link
    from tagwise.core import projects

    tagging.create_project(bank.ctx, "emo2", MULTI, "en")
    rows = [{"location": f"d{i:03d}", "text": r["text"], "labels": r["labels"]} for i, r in enumerate(emotions)]
    tagging.add_documents(bank.ctx, "emo2", rows[:200])
    _train(bank.ctx, "emo2", "m1", split="percentage")
    tagging.add_documents(bank.ctx, "emo2", [dict(r, location="n" + r["location"], labels=[*r["labels"], "newc"]) for r in rows[200:240]])
    projects.upsert(bank.ctx, "emo2", {"settings": {"classThresholds": {"newc": 0.5}}})
    _train(bank.ctx, "emo2", "m2", split="percentage")
    page = bank.get("/studio/p/emo2/compare?a=m1&b=m2").text
    assert 'id="threshold-warning"' not in page and "other thresholds" not in page
