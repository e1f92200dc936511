"""Fixtures for the production tests: a real PostgreSQL, prepared stores with trained deployments."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import SINGLE, project_file
from tests.storage import pg

KEY = "production-key-0123456789"


@pytest.fixture(scope="session")
def postgres() -> pg.PostgresServer:
    return pg.server()


def prepare(settings, rows: list[dict], recipe: str = "linear") -> None:
    """Project ``bank`` with models m1 (80/20 split) and m2 (60/40) of ``recipe``, deployed as prod and staging.

    Trained in this process (no job runner): the tests are about what happens after.
    """
    from tagwise.core import deployments, training
    from tagwise.core.context import Context
    from tagwise.core.documents import import_project
    from tagwise.storage import records

    ctx = Context.open(settings)
    try:
        import_project(ctx, "bank", project_file("bank", SINGLE, rows))
        for label, train_pct in (("m1", 80), ("m2", 60)):
            body = {"modelLabel": label, "trainingConfigVersion": recipe,
                    "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": train_pct, "testingSplitPercentage": 100 - train_pct}}
            job = training.start(ctx, "bank", body)
            with ctx.db.write() as conn:
                assert records.claim_jobs(conn, "train", "test", 1) == [job["id"]]
            training.run(ctx, job["id"], lambda _percent: None)
        deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "m1"})
        deployments.deploy(ctx, "bank", "staging", {"trainedModelLabel": "m2"})
    finally:
        ctx.close()


@pytest.fixture
def sqlite_store(tmp_path, banking):
    """Settings of a SQLite data dir holding the prepared project."""
    from tagwise.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY)
    prepare(settings, banking["train"])
    return settings


@pytest.fixture
def postgres_store(tmp_path, banking, postgres):
    from tagwise.settings import Settings

    url = postgres.create_database()
    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=url)
    prepare(settings, banking["train"])
    yield settings
    postgres.drop_database(url)


def data_dir(settings) -> Path:
    return Path(settings.data_dir)
