"""The one place errors become HTTP: a bug that escapes every handler still gets the envelope."""

from __future__ import annotations

import logging

from fastapi.testclient import TestClient

from tagwise.server import create_app
from tests.conftest import KEY


def test_an_unexpected_exception_is_a_500_envelope_logged_once(settings, caplog):
    app = create_app(settings)

    @app.get("/language/tagwise/test-crash")
    async def crash() -> None:
        raise RuntimeError("a bug")

    # TestClient re-raises whatever escapes the app, as uvicorn would log it and drop the connection
    with TestClient(app) as client, caplog.at_level(logging.ERROR):
        response = client.get("/language/tagwise/test-crash", headers={"Ocp-Apim-Subscription-Key": KEY})
        assert client.get("/language/authoring/analyze-text/projects", params={"api-version": "2023-04-01"},
                          headers={"Ocp-Apim-Subscription-Key": KEY}).status_code == 200
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "InternalServerError" and "(RuntimeError)" in error["message"] and "a bug" not in error["message"]
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert len(logged) == 1 and logged[0].name == "tagwise.api"
