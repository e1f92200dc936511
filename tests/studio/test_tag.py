"""The tagging page in process (real store): what its forms post is what gets saved, and where it goes next.

The forms are read from the rendered page and posted as a browser would (``form_data``).
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from tagwise.core import model_results, schema, tagging, training
from tests.conftest import KEY as KEY_FOR_API
from tests.studio.conftest import flash, form_data

SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"


def _project(ctx, name: str, kind: str, classes: list[str], labels: list[list[str] | None]) -> None:
    tagging.create_project(ctx, name, kind, "en")
    for c in classes:
        schema.add_class(ctx, name, c)
    tagging.add_documents(ctx, name, [{"location": f"{i}.txt", "text": f"text {i}", "labels": ls} for i, ls in enumerate(labels, 1)])


def _labels(ctx, project: str, doc_id: int) -> list[str] | None:
    return tagging.get_document(ctx, project, doc_id)[1]["labels"]


def _submit(studio, project: str, data: dict[str, list[str]]):
    """Post a form of the tagging page; the redirect's target (path and query) and its parsed query."""
    response = studio.post(f"/studio/p/{project}/tag", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    location = response.headers["location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _queue(n: int) -> list[int]:
    """The ids 1..n of a new project's untagged documents in the order the queue offers them before a model
    (spread over the project: ``spread_untagged_ids``)."""
    from tagwise.storage.document_records import ID_MIX, ID_MOD

    return sorted(range(1, n + 1), key=lambda i: (i * ID_MIX % ID_MOD, i))


def _title(page_html: str) -> str:
    return re.search(r'id="doc-title"[^>]*>\s*([^<\s]+)', page_html).group(1)


def _link(page_html: str, element_id: str) -> str | None:
    found = re.search(rf'id="{element_id}"[^>]*href="([^"]+)"', page_html)
    return html.unescape(found.group(1)) if found else None


def test_multi_label_in_a_list_filtered_by_class_saves_what_is_ticked(studio):
    _project(studio.ctx, "emo", MULTI, ["joy", "neutral", "anger"], [["joy"], ["joy"], ["anger"], ["joy"]])
    page = studio.get("/studio/p/emo/tag?doc=1&label=joy")
    _, following = _submit(studio, "emo", form_data(page.text, "tag-form", tick=("neutral",), untick=("joy",)))
    assert _labels(studio.ctx, "emo", 1) == ["neutral"]
    assert following["doc"] == "2" and following["label"] == "joy"  # still the joy list


def test_single_label_pick_in_a_list_filtered_by_class(studio):
    _project(studio.ctx, "s", SINGLE, ["a", "b"], [["a"], ["a"], ["b"], ["a"]])
    page = studio.get("/studio/p/s/tag?doc=1&label=a")
    location, following = _submit(studio, "s", form_data(page.text, "tag-form", press="b"))
    assert _labels(studio.ctx, "s", 1) == ["b"]
    assert following["doc"] == "2" and following["label"] == "a"
    assert "single-label" not in flash(studio.get(location).text)


def test_picking_a_class_goes_on_to_the_next_document_of_the_list(studio):
    _project(studio.ctx, "u", SINGLE, ["a", "b", "c"], [None] * 5)
    page = studio.get("/studio/p/u/tag?doc=1")
    _, following = _submit(studio, "u", form_data(page.text, "tag-form", press="b"))
    assert _labels(studio.ctx, "u", 1) == ["b"] and following["doc"] == "2" and "label" not in following
    # in the list of untagged documents
    page = studio.get("/studio/p/u/tag?doc=2&status=untagged")
    _, following = _submit(studio, "u", form_data(page.text, "tag-form", press="a"))
    assert following["doc"] == "3" and following["status"] == "untagged"


def test_browsing_the_mispredicted_documents_walks_only_those(studio, banking):
    ctx = studio.ctx
    rows = banking["train"]
    classes = sorted({r["labels"][0] for r in rows})
    # every fourth document tagged with another class: the model will disagree with some of those
    items = [{"location": r["id"], "text": r["text"],
              "labels": [classes[(classes.index(r["labels"][0]) + 1) % len(classes)]] if i % 4 == 0 else r["labels"]}
             for i, r in enumerate(rows)]
    tagging.create_project(ctx, "bank", SINGLE, "en")
    tagging.add_documents(ctx, "bank", items)
    job = training.start(ctx, "bank", {"modelLabel": "m", "trainingConfigVersion": "linear"})
    training.run(ctx, job["id"], lambda _: None)
    wrong = sorted(w["doc"]["id"] for w in model_results.evaluation_details(ctx, "bank")["wrong"])
    assert len(wrong) >= 3, "the test needs a model with a few mispredictions"

    listed = studio.get("/studio/p/bank/data?mismatch=1").text
    one_by_one = html.unescape(re.search(r'href="([^"]+)">Tag these one by one', listed).group(1))
    page = studio.get(one_by_one).text
    assert parse_qs(urlsplit(_link(page, "next")).query)["doc"] == [str(wrong[1])]
    _, following = _submit(studio, "bank", form_data(page, "tag-form", press=classes[2]))
    assert following["doc"] == str(wrong[1]) and following["mismatch"] == "1"
    page = studio.get(f"/studio/p/bank/tag?doc={wrong[2]}&mismatch=1").text
    assert parse_qs(urlsplit(_link(page, "prev")).query)["doc"] == [str(wrong[1])]


def test_undo_and_going_back_in_the_queue_stay_in_the_queue(studio):
    _project(studio.ctx, "q", SINGLE, ["a", "b"], [None] * 4)
    first, second, third = _queue(4)[:3]
    page = studio.get("/studio/p/q/tag").text
    assert _title(page) == f"{first}.txt" and "Queue" in page
    queue, _ = _submit(studio, "q", form_data(page, "tag-form", press="a"))
    page = studio.get(queue).text
    assert _title(page) == f"{second}.txt"

    # Backspace (Undo) brings back the document, still in the queue
    restored, _ = _submit(studio, "q", form_data(page, "undo-form"))
    page = studio.get(restored).text
    assert _labels(studio.ctx, "q", first) is None and _title(page) == f"{first}.txt"
    assert f"Restored {first}.txt: untagged" in flash(page) and "Browsing" not in page
    queue, following = _submit(studio, "q", form_data(page, "tag-form", press="b"))
    assert "doc" not in following and _title(studio.get(queue).text) == f"{second}.txt"

    # ← after tagging: the last tagged document, in the queue
    page = studio.get(_link(studio.get(queue).text, "prev")).text
    assert _title(page) == f"{first}.txt" and "Browsing" not in page
    # → skips, ← goes back to the skipped document
    page = studio.get("/studio/p/q/tag").text
    skipped = studio.get(_link(page, "next")).text
    assert _title(skipped) == f"{third}.txt"
    back = studio.get(_link(skipped, "prev")).text
    assert _title(back) == f"{second}.txt" and "Browsing" not in back
    queue, _ = _submit(studio, "q", form_data(back, "tag-form", press="a"))
    assert _title(studio.get(queue).text) == f"{third}.txt"


def test_an_undo_bar_is_shown_only_for_this_sessions_own_save(studio):
    # a link anyone could write (?undo=&was=&now=) showed "Saved ..." for a save nobody made, and one Backspace retagged the
    # document, saved as the person who pressed it
    _project(studio.ctx, "u", SINGLE, ["a", "b"], ["a", None])
    page = studio.get("/studio/p/u/tag").text
    queue, _ = _submit(studio, "u", form_data(page, "tag-form", press="b"))
    saved = parse_qs(urlsplit(queue).query)
    assert "undo-form" in studio.get(queue).text and saved["sig"]
    forged = {k: v[0] for k, v in saved.items() if k != "sig"}
    assert 'id="undo-form"' not in studio.get("/studio/p/u/tag", params=forged).text
    assert 'id="undo-form"' not in studio.get("/studio/p/u/tag", params={**forged, "sig": "0" * 32}).text


def test_after_an_undo_in_the_queue_left_arrow_goes_to_the_document_tagged_before(studio):
    # a lead saved A, saved B, pressed Backspace (B restored), then ← to fix A: ← did nothing, and the next tag went to B
    _project(studio.ctx, "u2", SINGLE, ["a", "b"], [None] * 4)
    first, second, third = _queue(4)[:3]
    queue, _ = _submit(studio, "u2", form_data(studio.get("/studio/p/u2/tag").text, "tag-form", press="a"))
    queue, _ = _submit(studio, "u2", form_data(studio.get(queue).text, "tag-form", press="b"))
    page = studio.get(queue).text
    assert _title(page) == f"{third}.txt" and _link(page, "prev").startswith(f"/studio/p/u2/tag?doc={second}&")
    restored, _ = _submit(studio, "u2", form_data(page, "undo-form"))
    page = studio.get(restored).text
    assert _title(page) == f"{second}.txt" and _labels(studio.ctx, "u2", second) is None
    back = studio.get(_link(page, "prev")).text
    assert _title(back) == f"{first}.txt" and _labels(studio.ctx, "u2", first) == ["a"] and "Browsing" not in back
    # tagging the restored document again keeps ← on the one before it
    queue, _ = _submit(studio, "u2", form_data(page, "tag-form", press="a"))
    page = studio.get(queue).text
    assert _title(page) == f"{third}.txt" and _link(page, "prev").startswith(f"/studio/p/u2/tag?doc={second}&")
    restored, _ = _submit(studio, "u2", form_data(page, "undo-form"))
    assert _link(studio.get(restored).text, "prev").startswith(f"/studio/p/u2/tag?doc={first}&")
    # the one before deleted since: no ← to a page that is not there
    from tagwise.core import documents

    documents.delete_documents(studio.ctx, "u2", ids=[first])
    assert _link(studio.get(restored).text, "prev") is None
    # ... nor to the one just saved, deleted since (the Undo bar went; its ← stayed)
    queue, _ = _submit(studio, "u2", form_data(studio.get(restored).text, "tag-form", press="a"))
    documents.delete_documents(studio.ctx, "u2", ids=[second])
    page = studio.get(queue).text
    assert 'id="undo-form"' not in page and _link(page, "prev") is None


def test_mark_untagged_says_so(studio):
    _project(studio.ctx, "m", SINGLE, ["a"], [["a"]])
    page = studio.post("/studio/p/m/tag", data={"csrf": studio.csrf, "doc": "1", "action": "untag", "then": "stay",
                                                "location": "1.txt", "seen": '["a"]'})
    assert flash(page.text) == "Marked 1.txt untagged." and _labels(studio.ctx, "m", 1) is None


def test_a_form_that_does_not_say_what_it_showed_saves_nothing(studio):
    # a Tag page opened before the upgrade that added these fields (its session carries over) tagged the document that
    # took a deleted one's id, and overwrote a colleague's newer tag, unchecked
    _project(studio.ctx, "old", SINGLE, ["a", "b"], [["a"]])
    for missing in ("location", "seen"):
        data = {"csrf": studio.csrf, "doc": "1", "tag": "b", "then": "stay", "location": "1.txt", "seen": '["a"]'}
        del data[missing]
        page = studio.post("/studio/p/old/tag", data=data)
        assert "does not say which document and tags it showed" in flash(page.text) and _labels(studio.ctx, "old", 1) == ["a"]
        assert _title(page.text) == "1.txt"  # shown again as it is now


def test_tagging_from_the_evaluation_page_returns_to_the_same_section(studio):
    _project(studio.ctx, "e", SINGLE, ["a", "b"], [["a"]])
    back = "/studio/p/e/evaluate?model=m#wrong-title"
    location, _ = _submit(studio, "e", {"csrf": [studio.csrf], "doc": ["1"], "tag": ["b"], "then": ["back"], "back": [back],
                                        "location": ["1.txt"], "seen": ['["a"]']})
    assert location == back and _labels(studio.ctx, "e", 1) == ["b"]


def test_a_tag_someone_saved_since_the_page_opened_is_not_overwritten_unseen(studio):
    # a team probe: two people on one document; the second save replaced the first's tag and both read "Saved"
    _project(studio.ctx, "team", SINGLE, ["Major", "Minor", "Blocker"], [None, None])
    first = _queue(2)[0]
    mine = studio.get("/studio/p/team/tag").text
    assert _title(mine) == f"{first}.txt"
    tagging.set_labels(studio.ctx, "team", first, ["Blocker"])  # a colleague, meanwhile
    target, query = _submit(studio, "team", form_data(mine, "tag-form", press="Minor"))
    assert _labels(studio.ctx, "team", first) == ["Blocker"]  # theirs is kept
    again = studio.get(target)
    assert query["doc"] == str(first) and _title(again.text) == f"{first}.txt"  # the same document, as it is now
    said = html.unescape(flash(again.text))
    assert said.startswith(f"{first}.txt was tagged 'Blocker' since this page showed it untagged") and "Nothing was saved" in said
    # the second save is a choice made seeing theirs
    _submit(studio, "team", form_data(again.text, "tag-form", press="Minor"))
    assert _labels(studio.ctx, "team", first) == ["Minor"]
    # Undo restores only what this person replaced: a colleague's newer tag is not erased by it, even when
    # the page with the Undo bar is loaded after the colleague's change
    second = _queue(2)[1]
    _, doc2 = _project_doc(studio, "team")
    after, _ = _submit(studio, "team", form_data(doc2, "tag-form", press="Major"))
    tagging.set_labels(studio.ctx, "team", second, ["Blocker"])
    bar = studio.get(after).text
    assert f"Saved {second}.txt: Major." in bar
    _submit(studio, "team", form_data(bar, "undo-form"))
    assert _labels(studio.ctx, "team", second) == ["Blocker"]


def _project_doc(studio, project: str) -> tuple[str, str]:
    """The queue's next document of ``project``: (its location, the page)."""
    page = studio.get(f"/studio/p/{project}/tag").text
    return _title(page), page


def test_two_people_adding_a_class_to_one_multi_label_document_keep_both(studio):
    _project(studio.ctx, "emo", MULTI, ["joy", "anger", "love"], [None])
    first, second = studio.get("/studio/p/emo/tag?doc=1").text, studio.get("/studio/p/emo/tag?doc=1").text
    _submit(studio, "emo", form_data(first, "tag-form", tick=("joy",)))
    target, _ = _submit(studio, "emo", form_data(second, "tag-form", tick=("anger",)))
    assert _labels(studio.ctx, "emo", 1) == ["joy"]  # anger replaced joy, and both were told "Tagged"
    shown = studio.get(target).text
    assert "was tagged 'joy' by the first key since" in html.unescape(flash(shown))
    _submit(studio, "emo", form_data(shown, "tag-form", tick=("anger",)))  # joy stays ticked: it is the tag now
    assert sorted(_labels(studio.ctx, "emo", 1)) == ["anger", "joy"]


def test_a_page_open_on_a_deleted_document_tags_nothing_and_names_it(studio):
    # SQLite gives a deleted document's id to the next one: a page open on emo-299 tagged new-one.txt
    from tagwise.core import documents

    _project(studio.ctx, "gone", SINGLE, ["a", "b"], [None, None])
    page = studio.get("/studio/p/gone/tag?doc=2").text
    documents.delete_documents(studio.ctx, "gone", locations=["2.txt"])
    tagging.add_documents(studio.ctx, "gone", [{"location": "new-one.txt", "text": "another text", "labels": None}])
    target, _ = _submit(studio, "gone", form_data(page, "tag-form", press="a"))
    assert all(d["labels"] is None for d in tagging.list_documents(studio.ctx, "gone", tagging.DocumentFilter()).items)
    said = html.unescape(flash(studio.get(target).text))
    assert said.startswith("2.txt could not be found in project gone: deleted since this page was opened"), said
    # a class renamed since: nothing saved, the same document shown with the classes as they are now
    page = studio.get("/studio/p/gone/tag?doc=1").text
    schema.rename_class(studio.ctx, "gone", "a", "alpha")
    target, query = _submit(studio, "gone", form_data(page, "tag-form", press="a"))
    assert query["doc"] == "1" and _labels(studio.ctx, "gone", 1) is None
    said = html.unescape(flash(studio.get(target).text))
    assert "'a' is not a class of gone: renamed, merged or deleted since this page was opened?" in said


def _signed_in(studio, key: str | None = None):
    """A second person's session on the same server (with ``key``, else the server's first key)."""
    from fastapi.testclient import TestClient

    from tests.conftest import KEY

    other = TestClient(studio.app, base_url="http://127.0.0.1")
    token = re.search(r'name="token" value="([^"]+)"', other.get("/studio").text).group(1)
    page = other.post("/studio/login", data={"key": key or KEY, "token": token})
    other.csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return other


def test_people_tagging_one_project_at_once_are_each_given_another_document(studio):
    # a team probe: four people were all shown the same "next document", 60 saves covered 20 documents
    _project(studio.ctx, "team", SINGLE, ["a", "b"], [None, None, None])
    first, second, third = _queue(3)
    colleague = _signed_in(studio)
    mine, theirs = studio.get("/studio/p/team/tag").text, colleague.get("/studio/p/team/tag").text
    assert (_title(mine), _title(theirs)) == (f"{first}.txt", f"{second}.txt")
    assert "1 other Tag page is tagging this project (other people, or your other tabs)" in studio.get("/studio/p/team/tag").text  # and a reload keeps mine
    assert _title(studio.get("/studio/p/team/tag").text) == f"{first}.txt"
    target, _ = _submit(studio, "team", form_data(mine, "tag-form", press="a"))
    assert _title(studio.get(target).text) == f"{third}.txt"  # the second is open on the colleague's page
    # a document asked for by name is shown, with a word that someone else has it open
    assert 'id="open-elsewhere"' in studio.get(f"/studio/p/team/tag?doc={second}").text
    assert 'id="open-elsewhere"' not in colleague.get(f"/studio/p/team/tag?doc={second}").text
    # the last untagged ones open elsewhere: "every document is tagged" would not be true
    _submit(studio, "team", form_data(studio.get(f"/studio/p/team/tag?doc={third}").text, "tag-form", press="b"))
    done = html.unescape(studio.get("/studio/p/team/tag").text)
    assert "Every document of this project is tagged, but for 1 open on other people's Tag pages" in done
    colleague.post("/studio/logout", data={"csrf": colleague.csrf})  # signing out gives their document back at once
    back = studio.get("/studio/p/team/tag").text
    assert _title(back) == f"{second}.txt" and 'id="others-tagging"' not in back
    _submit(studio, "team", form_data(back, "tag-form", press="b"))
    assert "Every document of this project is tagged." in html.unescape(studio.get("/studio/p/team/tag").text)


def test_tagging_in_a_project_deleted_since_says_so_once(studio):
    from tagwise.core import projects

    _project(studio.ctx, "gone", SINGLE, ["a"], [None])
    page = studio.get("/studio/p/gone/tag").text
    projects.delete(studio.ctx, "gone")
    answer = studio.post("/studio/p/gone/tag", data=form_data(page, "tag-form", press="a"),
                         headers={"referer": "http://127.0.0.1/studio/p/gone/tag"})
    assert answer.status_code == 404 and answer.text.count("The project gone could not be found.") == 1


def test_who_tagged_each_document_is_kept_shown_and_filtered_on(studio):
    # a team probe: the store kept no "tagged by", so a lead could not review a new annotator's tags
    from tagwise.core import keys

    _project(studio.ctx, "team", SINGLE, ["Major", "Minor"], [None, None, None])
    alice = _signed_in(studio, keys.create(studio.ctx, "alice", "authoring")[1])
    bob = _signed_in(studio, keys.create(studio.ctx, "bob", "authoring")[1])
    _submit(alice, "team", form_data(alice.get("/studio/p/team/tag?doc=1").text, "tag-form", press="Major"))
    stale = bob.get("/studio/p/team/tag?doc=1").text
    _submit(bob, "team", form_data(bob.get("/studio/p/team/tag?doc=2").text, "tag-form", press="Minor"))
    page = html.unescape(studio.get("/studio/p/team/tag?doc=1").text)
    assert re.search(r'id="tagged-by">tagged by alice, 20\d\d-\d\d-\d\d \d\d:\d\d UTC<', page)
    # bob's page from before alice's change: refused, naming her
    _submit(alice, "team", form_data(alice.get("/studio/p/team/tag?doc=1").text, "tag-form", press="Minor"))
    target, _ = _submit(bob, "team", form_data(stale, "tag-form", press="Major"))
    assert "1.txt was tagged 'Minor' by alice since this page showed it 'Major'" in html.unescape(flash(bob.get(target).text))
    # the Data page lists who tagged each, and filters on one person's tags; so does the API's list
    data = studio.get("/studio/p/team/data").text
    assert '<option value="alice">tagged by alice</option>' in data and '<option value="bob">tagged by bob</option>' in data
    only = studio.get("/studio/p/team/data", params={"by": "alice"}).text
    assert 'id="result-count">1 document(s)' in only and "1.txt" in only and "2.txt" not in only and ">by alice<" in only
    listed = {d["location"]: d for d in studio.get("/language/tagwise/projects/team/documents",
                                                     headers={"Ocp-Apim-Subscription-Key": KEY_FOR_API}).json()["value"]}
    assert listed["2.txt"]["taggedBy"] == "bob" and listed["2.txt"]["taggedAt"].endswith("Z") and "taggedBy" not in listed["3.txt"]
    # untagging, or deleting the class a document had, leaves nobody's tag
    schema.delete_class(studio.ctx, "team", "Minor")
    assert 'tagged by alice' not in studio.get("/studio/p/team/data").text


def test_no_undo_bar_for_a_document_deleted_since_it_was_saved(studio):
    # its form could say nothing of the document it had saved, and the Undo was refused with "opened before an upgrade?"
    from tagwise.core.documents import delete_documents

    _project(studio.ctx, "del", SINGLE, ["a", "b"], [None, None])
    first = _queue(2)[0]
    after, _ = _submit(studio, "del", form_data(studio.get("/studio/p/del/tag").text, "tag-form", press="a"))
    assert 'id="undo-form"' in studio.get(after).text
    delete_documents(studio.ctx, "del", locations=[f"{first}.txt"])
    assert 'id="undo-form"' not in studio.get(after).text


def test_a_fix_refused_on_the_evaluate_page_comes_back_to_its_own_row(studio):
    # a save goes on to the next row; a refused one (tagged by someone else since) landed there too, the refused row
    # out of sight behind the message that said it is "shown again as it is now"
    _project(studio.ctx, "rows", SINGLE, ["Major", "Minor"], [["Major"], ["Major"]])
    back = "/studio/p/rows/evaluate?model=m#issue-3"
    fix = {"csrf": studio.csrf, "doc": "1", "tag": "Minor", "then": "back", "back": back, "row": "#issue-2", "location": "1.txt"}
    saved, _ = _submit(studio, "rows", {**fix, "seen": '["Major"]'})
    assert saved.endswith("#issue-3")
    refused, _ = _submit(studio, "rows", {**fix, "doc": "2", "location": "2.txt", "seen": '["Minor"]'})  # the page showed another tag
    assert refused.endswith("/studio/p/rows/evaluate?model=m#issue-2") and _labels(studio.ctx, "rows", 2) == ["Major"]
