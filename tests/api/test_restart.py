"""Everything stored survives a restart: projects, models (folders on disk), deployments."""

from __future__ import annotations

import time

from tests.api.conftest import SINGLE, A, V, create_and_import, deploy, train
from tests.conftest import open_client

CLASSIFY = "/language/tagwise/projects/bank/deployments/prod:classify"


def test_a_deployed_model_serves_after_a_restart(settings, banking):
    docs = {"documents": [{"id": str(i), "text": r["text"]} for i, r in enumerate(banking["test"][:20])]}
    with open_client(settings) as client:
        create_and_import(client, "bank", SINGLE, banking["train"])
        train(client, "bank")
        deploy(client, "bank", "prod", "m1")
        before = client.post(CLASSIFY, json=docs).json()
    with open_client(settings) as client:
        assert client.get(f"{A}/bank/models/m1", params=V).status_code == 200
        assert client.post(CLASSIFY, json=docs).json() == before
    artifact = next((settings.data_dir / "models" / "bank").iterdir())
    assert (artifact / "manifest.json").is_file()
    assert not list(artifact.rglob("*.pkl")) and not list(artifact.rglob("*.joblib"))


def _loaded(client, model_id: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if model_id in client.app.state.ctx.predictors:
            return True
        time.sleep(0.1)
    return False


def test_deployed_models_are_loaded_before_the_first_request(settings, banking):
    # on deploy and again on a restart, the served model is loaded in the background, so the
    # first classification does not wait for it
    with open_client(settings) as client:
        create_and_import(client, "bank", SINGLE, banking["train"][:300])
        train(client, "bank")
        model_id = client.get(f"{A}/bank/models/m1", params=V).json()["modelId"]
        assert model_id not in client.app.state.ctx.predictors
        deploy(client, "bank", "prod", "m1")
        assert _loaded(client, model_id)
    with open_client(settings) as client:
        assert _loaded(client, model_id)
