"""The document-level services run on both backends: here ``ctx`` is a Context on SQLite and on a real PostgreSQL.

The JSON queries of ``tagwise.storage.document_records`` differ between the two.
"""

from __future__ import annotations

import pytest

from tagwise.core import tagging
from tests.storage import pg

SINGLE = "CustomSingleLabelClassification"


@pytest.fixture(params=["sqlite", "postgresql"])
def ctx(request, tmp_path):
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    url = None
    if request.param == "postgresql":
        server = pg.server()
        url = server.create_database()
    context = Context.open(Settings(data_dir=tmp_path / "data", api_key="k", database_url=url))
    yield context
    context.close()
    if url:
        server.drop_database(url)


@pytest.fixture
def project(ctx):
    tagging.create_project(ctx, "p", SINGLE, "en", "a test project")
    tagging.add_documents(ctx, "p", [
        {"location": "a.txt", "text": "my card never arrived", "labels": ["card"], "dataset": "Train"},
        {"location": "b.txt", "text": "what is the exchange rate", "labels": ["fx"], "dataset": "test"},
        {"location": "c.txt", "text": "card stolen yesterday", "labels": "card"},
        {"location": "d.txt", "text": "100% sure the_rate is wrong"},
        {"text": "generated location"},
    ])
    return "p"
