"""The storage contract runs on both backends: every test taking ``store`` runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.storage import pg


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request, tmp_path):
    """A fresh, empty database of each backend (``None`` for SQLite = the file in the data dir)."""
    if request.param == "sqlite":
        yield None
        return
    server = pg.server()
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def store(backend_url, tmp_path):
    """A migrated Context on the backend: ``store.db`` is the Database under test."""
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    context = Context.open(Settings(data_dir=tmp_path / "data", api_key="k", database_url=backend_url))
    yield context
    context.close()
