"""Everything stored survives a restart: projects, models (folders on disk), deployments."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tagwise.server import create_app
from tests.api.conftest import SINGLE, A, V, create_and_import, deploy, train
from tests.conftest import KEY

CLASSIFY = "/language/tagwise/projects/bank/deployments/prod:classify"


def open_client(settings) -> TestClient:
    client = TestClient(create_app(settings), base_url="http://testserver")
    client.headers["Ocp-Apim-Subscription-Key"] = KEY
    return client


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
