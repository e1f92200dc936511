"""Values a person would not type, on both stores: PostgreSQL's text holds no NUL, so what SQLite took
quietly was a 500 there (a description, the Data page's class and tagger filters, and their CSV
download, which answered 200 with its header alone before the server dropped the connection)."""

from __future__ import annotations

import csv
import io

import pytest

from tagwise.core import tagging
from tests.conftest import KEY
from tests.storage import pg

MULTI = "CustomMultiLabelClassification"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    from tagwise.settings import Settings

    if request.param == "sqlite":
        yield Settings(data_dir=tmp_path / "data", api_key=KEY)
        return
    server = pg.server()
    url = server.create_database()
    yield Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=url)
    server.drop_database(url)


def test_a_description_with_a_nul_is_refused_by_the_api_and_the_studio(studio):
    body = {"projectKind": MULTI, "language": "en", "storageInputContainerName": "p", "description": "before\u0000after"}
    refused = studio.patch("/language/authoring/analyze-text/projects/p", params={"api-version": "2023-04-01"}, json=body,
                           headers={"Ocp-Apim-Subscription-Key": KEY, "Content-Type": "application/merge-patch+json"})
    assert refused.status_code == 400 and refused.json()["error"]["target"] == "description", refused.text
    page = studio.post("/studio/projects", data={"name": "p", "kind": MULTI, "language": "en", "description": "a\u0000b",
                                                 "csrf": studio.csrf})
    assert page.status_code == 400 and "U+0000" in page.text and "text/html" in page.headers["content-type"]
    assert tagging.create_project(studio.ctx, "p", MULTI, "en", "a clean one")["description"] == "a clean one"


def test_filters_holding_control_characters_find_nothing_on_the_page_and_in_the_download(studio):
    tagging.create_project(studio.ctx, "p", MULTI, "en")
    tagging.add_documents(studio.ctx, "p", [{"location": "a", "text": "my card", "labels": ["cards"]}])
    for params in ({"label": "cards\u0000"}, {"by": "a\u0000b"}, {"label": "\u001b[2K"}):
        page = studio.get("/studio/p/p/data", params=params)
        assert page.status_code == 200 and "No documents match" in page.text, params
        download = studio.get("/studio/p/p/data.csv", params=params)
        assert download.status_code == 200
        assert list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")))) == [["location", "text", "labels", "dataset", "language"]]
    whole = studio.get("/studio/p/p/data.csv", params={"label": "cards"})
    assert [row[0] for row in csv.reader(io.StringIO(whole.content.decode("utf-8-sig")))] == ["location", "a"]


def test_a_name_with_a_nul_finds_nothing_on_either_store(studio):
    # psycopg refuses to send a NUL: 79 look-ups by such a name (paths, bodies, forms) were 500s on PostgreSQL, 404s on SQLite
    api = {"Ocp-Apim-Subscription-Key": KEY}
    v = {"api-version": "2023-04-01"}
    tagging.create_project(studio.ctx, "p", MULTI, "en")
    tagging.add_documents(studio.ctx, "p", [{"location": "a", "text": "my card", "labels": ["cards"]}])
    base = "/language/authoring/analyze-text/projects"
    for path in (f"{base}/p%00x", f"{base}/p/models/v%001", f"{base}/p/deployments/d%00", f"{base}/p/train/jobs/j%00"):
        assert studio.get(path, params=v, headers=api).status_code == 404, path
    deploy = studio.put(f"{base}/p/deployments/prod", params=v, headers=api, json={"trainedModelLabel": "v\u00001"})
    assert deploy.status_code == 404 and deploy.json()["error"]["code"] in ("NotFound", "ModelNotFound"), deploy.text
    gone = studio.post("/language/tagwise/projects/p/documents:delete", headers=api, json={"locations": ["a\u0000"]})
    assert gone.status_code == 404, gone.text
    assert studio.get("/studio/p/p%00x").status_code == 404
