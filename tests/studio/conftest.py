"""Fixtures of the studio tests: a real tagwise server, real headless Chromium (Debian's), screenshots.

Chromium is driven by Playwright for Python with ``executable_path`` (no ``playwright install``).
Without Chromium the browser tests are skipped locally and FAIL in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import KEY, missing_component

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support.live_server import LiveServer, live_server

DATASETS_DIR = REPO_ROOT.parent / "shared" / "datasets"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "studio"
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    missing_component("Chromium is not installed: apt-get install -y chromium")
    raise AssertionError  # unreachable


@pytest.fixture
def studio(settings):
    """The app in process, signed in: ``client.csrf`` is the session's token, ``client.ctx`` its Context."""
    from fastapi.testclient import TestClient

    from tagwise.server import create_app

    with TestClient(create_app(settings, run_jobs=False), base_url="http://127.0.0.1") as client:
        token = re.search(r'name="token" value="([^"]+)"', client.get("/studio").text).group(1)
        page = client.post("/studio/login", data={"key": KEY, "token": token})
        client.csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        client.ctx = client.app.state.ctx
        yield client


def flash(html: str) -> str:
    """The page's flash message, or ''."""
    found = re.search(r'class="flash [a-z]+(?: sticky)?"[^>]*>([^<]+)<', html)
    return found.group(1) if found else ""


def field_error(html: str, field_id: str) -> str:
    """The reason a refused form gives next to the field ``field_id`` (the page rendered again), or ''."""
    found = re.search(rf'class="field-error" id="error-{re.escape(field_id)}">([^<]+)<', html)
    return found.group(1) if found else ""


class _Form(HTMLParser):
    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.controls = form_id, False, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif self.inside and tag in ("input", "button") and attrs.get("name"):
            self.controls.append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_data(html: str, form_id: str, *, tick: tuple[str, ...] = (), untick: tuple[str, ...] = (),
              press: str | None = None) -> dict[str, list[str]]:
    """What a browser posts for the form ``form_id`` of a page: its hidden fields, the ticked checkboxes
    (after ticking/unticking those with the given values) and the submit button whose value is ``press``."""
    parser = _Form(form_id)
    parser.feed(html)
    assert parser.controls, f"no form #{form_id} on the page"
    out: dict[str, list[str]] = {}
    pressed = False
    for tag, attrs in parser.controls:
        value = attrs.get("value", "")
        if tag == "button" or attrs.get("type") == "submit":
            if press is None or value != press:
                continue
            pressed = True
        elif attrs.get("type") == "checkbox" and not (value in tick or ("checked" in attrs and value not in untick)):
            continue
        out.setdefault(attrs["name"], []).append(value)
    assert press is None or pressed, f"no button {press!r} in #{form_id}"
    return out


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("studio-server")) as live:
        yield live


@pytest.fixture(scope="session")
def browser(chromium_path, tmp_path_factory):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_component("playwright is not installed: pip install playwright")
    home = tmp_path_factory.mktemp("chromium-home")
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"), "HOME": str(home)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True, env=env)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.studio_failed = report.failed


@pytest.fixture
def page(request, browser, server):
    context = browser.new_context(viewport=DESKTOP, base_url=server.url)
    context.set_default_timeout(30_000)  # the machines running CI may be busy
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    if getattr(request.node, "studio_failed", False):
        # What the browser showed and what the server said, for the failure report.
        screenshot(page, f"FAILED-{request.node.name}")
        print(f"--- page {page.url} ---\n{page.content()[:3000]}\n--- server log (tail) ---\n{server.log()[-4000:]}")
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page, server: LiveServer) -> None:
    page.goto("/studio")
    page.get_by_label("API key").fill(server.key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Projects", exact=True).wait_for()


def screenshot(page, name: str) -> Path:
    """Keep a screenshot of the page as a test artifact (test-artifacts/studio/<name>.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def press(page, key: str) -> None:
    """A key for the page's script: after a key or click that loaded a page, the new page's handlers
    are set up at DOMContentLoaded, which an ``expect`` on its parsed HTML can pass before (the key was lost)."""
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.press(key)


def type_keys(page, text: str) -> None:
    """:func:`press` for typed text."""
    page.wait_for_load_state("domcontentloaded")
    page.keyboard.type(text)


def fits_width(page) -> bool:
    """No horizontal scrolling of the whole page (wide tables scroll inside their own box)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def banking_rows(classes: list[str], per_class: int, split: str = "train") -> list[dict]:
    path = DATASETS_DIR / "banking77" / f"{split}.jsonl"
    if not path.exists():
        missing_component(f"shared datasets not found at {DATASETS_DIR}")
    counts = {c: 0 for c in classes}
    out = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            label = row["labels"][0]
            if label in counts and counts[label] < per_class:
                counts[label] += 1
                out.append(row)
    return out


def train_on_manual_split(ctx, project: str, label: str, timeout_s: float = 150) -> None:
    """A ``linear`` training of ``project`` on its manual split, run by the live server's job runner; waits until it succeeds."""
    import time

    from tagwise.core import jobs, training

    job = training.start(ctx, project, {"modelLabel": label, "trainingConfigVersion": "linear", "evaluationOptions": {"kind": "manual"}})
    deadline = time.monotonic() + timeout_s
    while jobs.get(ctx, job["id"], "train")["status"] not in jobs.TERMINAL:
        assert time.monotonic() < deadline, "training did not finish"
        time.sleep(0.2)
    assert jobs.get(ctx, job["id"], "train")["status"] == "succeeded"
