"""The whole studio journey in real headless Chromium, keyboard first, with a screenshot of every page.

Sign in, create a project, upload a JSONL slice of banking77, tag documents by keyboard, train
(``linear``), open the evaluation, fix an incorrect prediction, find suspicious tags, deploy, try a text.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.studio.conftest import DESKTOP, NARROW, banking_rows, fits_width, press, screenshot, sign_in, type_keys

CLASSES = ["card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed", "change_pin"]
PROJECT = "bank-journey"
# names the elements wider than the window, for a readable failure
IN_VIEW = "e => { const r = e.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth + 1 && r.height > 0; }"
WIDEST = """[...document.querySelectorAll('body *')].filter(e => {
    if (e.getBoundingClientRect().right <= window.innerWidth + 1) return false;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return false;
    }
    return true;
  }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _upload_file(tmp_path) -> tuple[str, list[str]]:
    """25 documents per class: 18 Train, 5 Test, 2 untagged; 3 deliberately mistagged Test documents."""
    rows = banking_rows(CLASSES, 25)
    lines, mistagged = [], []
    by_class: dict[str, int] = {}
    for row in rows:
        label = row["labels"][0]
        n = by_class[label] = by_class.get(label, 0) + 1
        doc = {"id": row["id"], "text": row["text"]}
        if n <= 18:
            doc.update(labels=[label], dataset="Train")
        elif n <= 23:
            doc.update(labels=[label], dataset="Test")
            if label == "card_arrival" and n <= 21:  # wrong on purpose: the model will disagree
                doc["labels"] = ["exchange_rate"]
                mistagged.append(row["id"])
        lines.append(json.dumps(doc))
    path = tmp_path / "banking-slice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path), mistagged


@pytest.mark.timeout(300)
def test_studio_journey(page, server, tmp_path):
    # -- sign in: nothing but the sign-in page without it
    page.goto(f"/studio/p/{PROJECT}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "01-sign-in")
    page.get_by_label("API key").fill("not-the-key")
    press(page, "Enter")
    expect(page.get_by_label("API key")).to_have_accessible_description(re.compile("not an API key"))
    sign_in(page, server)
    cookie = next(c for c in page.context.cookies() if c["name"] == "tagwise_studio")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # -- create a project
    page.get_by_label("Name").fill(PROJECT)
    page.get_by_label("Description").fill("Banking intents <b>not bold</b>")
    screenshot(page, "02-projects")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name=PROJECT)).to_be_visible()
    expect(page.get_by_text("Banking intents <b>not bold</b>")).to_be_visible()  # escaped, shown as text

    # -- upload a file (with the page's progress script)
    path, mistagged = _upload_file(tmp_path)
    page.get_by_role("link", name="Data", exact=True).click()
    page.locator("#files").set_input_files(path)
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".flash.ok")).to_contain_text("Added 125 document(s)")
    expect(page.locator("#result-count")).to_contain_text("125 document(s)")
    page.get_by_label("Status").select_option("untagged")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#result-count")).to_contain_text("10 document(s)")
    screenshot(page, "03-data")
    page.get_by_label("Select all on this page").check()
    page.get_by_label("Move to").select_option("Train")
    page.get_by_role("button", name="Selected", exact=True).click()
    expect(page.locator(".flash.ok")).to_contain_text("10 document(s) moved to the training set")
    expect(page.get_by_label("Status")).to_have_value("untagged")  # the filters survive the bulk change

    # -- overview with per-class chart and guidance
    page.get_by_role("link", name="Overview").click()
    expect(page.locator(".stats")).to_contain_text("115")
    expect(page.locator(".chart tbody tr")).to_have_count(5)
    screenshot(page, "04-overview")

    # -- tag by keyboard: number keys, type-to-filter + Enter, undo
    page.get_by_role("link", name="Tag", exact=True).click()
    expect(page.locator("#tag-progress")).to_contain_text("115 of 125 tagged")
    screenshot(page, "05-tag")
    first = page.locator("#doc-title").inner_text()
    press(page, "1")  # first class: card_arrival
    expect(page.locator("#tag-progress")).to_contain_text("116 of 125 tagged")
    assert page.locator("#doc-title").inner_text() != first
    press(page, "Backspace")  # undo brings the document back, untagged, still in the queue
    expect(page.locator("#tag-progress")).to_contain_text("115 of 125 tagged")
    expect(page.locator("#doc-title")).to_contain_text(first.split()[0])
    expect(page.locator(".tag-head .pill")).to_contain_text("Queue")
    for key in ("2", "3"):
        before = page.locator("#tag-progress").inner_text()
        press(page, key)
        expect(page.locator("#tag-progress")).not_to_have_text(before)
    type_keys(page, "stolen")  # type-to-filter: focus jumps to the filter box
    expect(page.locator("#class-filter")).to_have_value("stolen")
    expect(page.locator("#class-list li:not([hidden])")).to_have_count(1)
    press(page, "Enter")
    expect(page.locator("#tag-progress")).to_contain_text("118 of 125 tagged")

    # -- train (manual split: the Train/Test sets of the file), live progress
    page.get_by_role("link", name="Train", exact=True).click()
    page.get_by_label("Model name").fill("first")
    page.get_by_label("Recipe (training config version)").select_option("linear")
    page.get_by_label("Use each document's Train/Test set (Data page)").check()
    screenshot(page, "06-train")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("heading", name="Training first")).to_be_visible()
    screenshot(page, "07-training")
    expect(page.locator("#open-evaluation")).to_be_visible(timeout=150_000)
    expect(page.locator("#job-status")).to_have_text("succeeded")
    page.locator("#open-evaluation").click()

    # -- evaluation: scores, per-class table, confusion matrix, incorrect predictions
    expect(page.get_by_role("heading", name="Evaluation")).to_be_visible()
    expect(page.locator("#class-table tbody tr")).to_have_count(5)
    expect(page.locator("#confusion")).to_be_visible()
    rows = page.locator("#incorrect tbody tr")
    assert rows.count() >= 3
    expect(rows.first.locator('td[data-label="Predicted"] .score')).to_have_text(re.compile(r"^\d+(\.\d)?%$"))  # how sure it was
    screenshot(page, "08-evaluation")
    page.get_by_role("link", name="Show % of each row").click()
    expect(page.locator("#confusion")).to_contain_text("%")

    # fix one: open it for re-tagging (one click), pick the predicted class by keyboard, come back
    wrong = page.locator("#incorrect tbody tr", has_text=mistagged[0])
    wrong.get_by_role("link", name=f"Re-tag {mistagged[0]}…").click()
    expect(page.locator("#doc-title")).to_contain_text(mistagged[0])
    screenshot(page, "09-retag")
    press(page, "1")  # card_arrival, what the model predicted
    expect(page.get_by_role("heading", name="Evaluation")).to_be_visible()
    expect(page.locator("#incorrect tbody tr", has_text=mistagged[0])).to_contain_text("fixed")
    # and one with the one-click button
    page.locator("#incorrect tbody tr", has_text=mistagged[1]).get_by_role("button", name="Tag as predicted").click()
    expect(page.locator("#incorrect tbody tr", has_text=mistagged[1])).to_contain_text("fixed")
    expect(page.locator("#flash")).to_be_in_viewport()  # the page opens at the table: the message must not be off-screen

    # documents whose tag looks wrong (out-of-fold + cleanlab)
    page.get_by_role("button", name="Find documents whose tag looks wrong").click()
    expect(page.locator(".flash.ok")).to_contain_text("in the background")  # it trains 5 models: the page polls, then reloads
    expect(page.locator("#issues-last")).to_contain_text("flagged", timeout=120_000)
    issues = page.locator("#issue-table tbody tr")
    assert issues.count() >= 1
    screenshot(page, "10-label-issues")
    first_issue = issues.first.locator("td a").first.inner_text()  # the location (the cell also holds a snippet)
    issues.first.get_by_role("button", name="Use suggestion").click()
    expect(page.locator("#issue-table tbody tr", has_text=first_issue)).to_contain_text("fixed")
    # a flag whose tag is right is marked so, and the row says it (the next check leaves it out)
    right = page.locator("#issue-table tbody tr").filter(has=page.get_by_role("button", name="Tag is right")).first
    right_issue = right.locator("td a").first.inner_text()
    right.get_by_role("button", name="Tag is right").click()
    expect(page.locator("#issue-table tbody tr", has_text=right_issue)).to_contain_text("tag is right")
    expect(page.locator(".flash.ok")).to_contain_text("the next check does not list it")
    page.set_viewport_size(NARROW)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]  # the row's two buttons fit a phone
    page.set_viewport_size(DESKTOP)

    # -- deploy
    page.get_by_role("link", name="Deploy", exact=True).click()
    page.get_by_label("Deployment name").fill("production")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.locator(".flash.ok")).to_contain_text("deployed as production")
    screenshot(page, "11-deployments")

    # -- try a text
    page.get_by_role("link", name="Try it", exact=True).first.click()
    page.get_by_label("Text", exact=True).fill("I ordered a new card two weeks ago and it still has not arrived")
    press(page, "Control+Enter")
    expect(page.locator("[data-predicted]")).to_have_text("card_arrival")
    expect(page.locator("#try-scores li")).to_have_count(5)
    screenshot(page, "12-try")
    page.set_viewport_size(NARROW)  # the bars were squeezed to 0 px on a phone, next to "needs 28.5%"
    widths = page.eval_on_selector_all("#try-scores .bar", "bars => bars.map(b => b.getBoundingClientRect().width)")
    assert min(widths) >= 40, widths
    page.set_viewport_size(DESKTOP)

    # -- the same pages on a narrow screen
    page.set_viewport_size(NARROW)
    for name, path in (("overview", ""), ("data", "/data"), ("tag", "/tag"), ("evaluate", "/evaluate"), ("try", "/try")):
        page.goto(f"/studio/p/{PROJECT}{path}")
        screenshot(page, f"narrow-{name}")
        assert fits_width(page), f"the {name} page scrolls sideways at {NARROW['width']} px: {page.evaluate(WIDEST)}"
        tabs = page.locator("nav.tabs a")
        assert all(tabs.nth(i).evaluate(IN_VIEW) for i in range(tabs.count())), f"a tab of the {name} page is out of sight"
    page.set_viewport_size({"width": 320, "height": 700})  # the scores table, at 100.0%, widened the page to 370 px at 360
    page.goto(f"/studio/p/{PROJECT}/evaluate")
    assert fits_width(page), page.evaluate(WIDEST)
    page.set_viewport_size(NARROW)
    assert re.search(r"\d+ of 125 tagged", page.goto(f"/studio/p/{PROJECT}/tag").text())
