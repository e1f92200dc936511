"""Every studio page of a 10,000-document project loads in under a second (HTTP GET on a live server)."""

from __future__ import annotations

import json
import re
import time

import httpx
import pytest

from tests.conftest import missing_component
from tests.studio.conftest import DATASETS_DIR, train_on_manual_split

PROJECT = "perf-10k"
N_DOCS = 10_000
CLASSES = ["card_arrival", "exchange_rate", "lost_or_stolen_card", "top_up_failed", "change_pin",
           "atm_support", "age_limit", "apple_pay_or_google_pay", "terminate_account", "activate_my_card"]


pytestmark = pytest.mark.serial  # pages timed against a budget: make test runs it alone
BUDGET_S = 1.0
FIRST_MODEL_USE = {"/tag"}


def _items() -> list[dict]:
    rows = []
    for split in ("train", "test"):
        path = DATASETS_DIR / "banking77" / f"{split}.jsonl"
        if not path.exists():
            missing_component(f"shared datasets not found at {DATASETS_DIR}")
        rows += [json.loads(line) for line in path.open(encoding="utf-8")]
    rows = rows[:N_DOCS]
    counts: dict[str, int] = {}
    items = []
    for row in rows:
        label = row["labels"][0]
        item = {"location": row["id"], "text": row["text"]}
        n = counts[label] = counts.get(label, 0) + 1
        if label in CLASSES and n <= 70:  # 700 tagged (20 per class in Test), 9,300 untagged
            item.update(labels=[label], dataset="Test" if n <= 20 else "Train")
        items.append(item)
    return items


@pytest.fixture(scope="module")
def big_project(server):
    """The project, filled and trained through the services on the live server's store."""
    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=server.data_dir, api_key=server.key), migrate=False)
    try:
        tagging.create_project(ctx, PROJECT, "CustomSingleLabelClassification", "en")
        assert tagging.add_documents(ctx, PROJECT, _items())["added"] == N_DOCS
        train_on_manual_split(ctx, PROJECT, "m", timeout_s=240)
        yield ctx
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as client:
        page = client.get("/studio")
        token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
        assert "Projects" in client.post("/studio/login", data={"key": server.key, "token": token}).text
        yield client


PAGES = ["", "/schema", "/data", "/data?q=card", "/data?status=untagged&page=150", "/data?label=exchange_rate&dataset=Test",
         "/data?mismatch=1", "/tag", "/tag?doc=5000&status=untagged", "/train", "/evaluate", "/evaluate?norm=1", "/deployments", "/try"]


@pytest.mark.timeout(400)
def test_pages_load_in_under_a_second(big_project, http):
    timings = {}
    for path in PAGES:
        url = f"/studio/p/{PROJECT}{path}"
        first = _timed(http, url)  # the first /tag scores a pool of untagged documents with the model
        timings[path or "/"] = (first, min(_timed(http, url) for _ in range(3)))
    report = "\n".join(f"  {p:45s} first {a * 1000:6.0f} ms   then {b * 1000:6.0f} ms" for p, (a, b) in timings.items())
    print(f"\nstudio pages, {N_DOCS:,} documents:\n{report}")
    # The first page that needs the model after a server start also imports the ML libraries and
    # loads the model (1-3 s once per process, see docs/studio.md); every other load must be quick.
    slow = [p for p, (first, then) in timings.items() if then >= BUDGET_S or (first >= BUDGET_S and p not in FIRST_MODEL_USE)]
    assert not slow, f"pages slower than {BUDGET_S} s: {slow}\n{report}"


def _timed(http: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = http.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    assert "Sign in" not in response.text
    return elapsed
