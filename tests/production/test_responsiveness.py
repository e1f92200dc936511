"""One slow request does not hold up the others: a real server classifying a large batch with the
embedding model still answers a project listing at once (the model used to run on the event loop)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.conftest import DATASETS, read_jsonl
from tests.production.conftest import KEY, prepare
from tests.production.procs import HEADER, environment, start_server

pytestmark = pytest.mark.serial  # request latencies while a training runs: make test runs it alone

PROJECTS = "/language/authoring/analyze-text/projects"


def test_a_large_classification_does_not_hold_up_other_requests(tmp_path, banking):
    from tagwise.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY)
    prepare(settings, banking["train"], recipe="ensemble")
    texts = [r["text"] for r in read_jsonl(DATASETS / "banking77" / "test.jsonl")][:1000]
    body = {"documents": [{"id": str(i), "text": text} for i, text in enumerate(texts)]}
    server = start_server(environment(settings.data_dir, KEY))
    headers = {HEADER: KEY}
    try:
        url = f"{server.url}/language/tagwise/projects/bank/deployments/prod:classify"
        httpx.post(url, json={"documents": [{"id": "1", "text": "warm up"}]}, headers=headers, timeout=60).raise_for_status()
        finished: dict[str, float] = {}

        def classify() -> None:
            response = httpx.post(url, json=body, headers=headers, timeout=120)
            finished["classify"] = time.monotonic()
            assert response.status_code == 200 and len(response.json()["documents"]) == 1000

        worker = threading.Thread(target=classify)
        started = time.monotonic()
        worker.start()
        time.sleep(0.3)  # the batch is being classified now
        listed = httpx.get(f"{server.url}{PROJECTS}", params={"api-version": "2023-04-01"}, headers=headers, timeout=60)
        finished["list"] = time.monotonic()
        worker.join()
    finally:
        server.stop()
    assert listed.status_code == 200
    assert finished["list"] < finished["classify"], "the listing waited for the classification to finish"
    print(f"\nclassify 1,000 documents: {finished['classify'] - started:.2f} s; "
          f"a listing sent 0.3 s in answered after {finished['list'] - started - 0.3:.3f} s")
