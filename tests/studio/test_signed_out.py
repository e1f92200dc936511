"""What the page's script says once the session is gone (signed out in another tab, expired, key revoked).

Real Chromium on the live server: the upload names a stale security token and a lost session, and the
training progress page stops asking for progress when it is signed out.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.studio.conftest import sign_in

PROJECT = "signed-out"


def _project_with_a_running_job(server) -> str:
    """The project and a training job the page shows as running (nothing runs it; the runner leaves it be for job_lease_s)."""
    from tagwise.core import jobs, tagging
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=server.data_dir, api_key=server.key), migrate=False)
    try:
        tagging.create_project(ctx, PROJECT, "CustomSingleLabelClassification", "en")
        payload = {"modelLabel": "m", "trainingConfigVersion": "linear", "evaluationOptions": {"kind": "manual"}}
        with ctx.db.write() as conn:
            return jobs.create(conn, "train", PROJECT, payload, status="running")["id"]
    finally:
        ctx.close()


def test_the_script_says_when_the_session_is_gone(page, server, tmp_path):
    job_id = _project_with_a_running_job(server)
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, server)
    page.goto(f"/studio/p/{PROJECT}/data")
    assert not console_errors, console_errors  # e.g. no /favicon.ico 404

    # signed out and in again in another tab: this page's security token is stale
    other = page.context.new_page()
    other.goto("/studio")
    other.get_by_role("button", name="Sign out").click()
    sign_in(other, server)
    other.close()
    text = tmp_path / "a.txt"
    text.write_text("hello", encoding="utf-8")
    page.locator("#files").set_input_files(str(text))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-status")).to_contain_text("security token is missing or stale; reload the page")

    # signed out: the upload says so and links to the sign-in page
    page.context.clear_cookies()
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-status")).to_contain_text("Signed out: sign in again")
    expect(page.locator("#upload-status a")).to_have_attribute("href", re.compile(r"^/studio\?next="))

    # the training progress page stops polling once signed out
    sign_in(page, server)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.url.endswith(".json") else None)
    page.goto(f"/studio/p/{PROJECT}/train/{job_id}")
    expect(page.locator("#job-status")).to_have_text("running")
    with page.expect_response(lambda r: r.url.endswith(f"{job_id}.json")):
        pass
    page.context.clear_cookies()
    expect(page.locator("#job-errors")).to_contain_text("Signed out: sign in again")
    seen = len(polls)
    page.wait_for_timeout(2_000)
    assert len(polls) == seen, "the page went on polling after it was signed out"
