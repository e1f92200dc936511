"""Settings: read from TAGWISE_* variables, documented in docs/settings.md, key generated once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tagwise.settings import Settings, settings_table
from tests.conftest import ROOT


def test_docs_list_every_setting():
    docs = (ROOT / "docs" / "settings.md").read_text()
    block = docs.split("<!-- settings-table -->\n")[1].split("<!-- /settings-table -->")[0]
    assert block == settings_table(), "docs/settings.md is stale: regenerate it with `python -m tagwise.settings`"


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("TAGWISE_PORT", "9999")
    monkeypatch.setenv("TAGWISE_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.port == 9999 and settings.data_dir == tmp_path
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'tagwise.db'}"
    assert Settings(database_url="postgresql://u@h/db").resolved_database_url == "postgresql+psycopg://u@h/db"


def test_an_empty_variable_is_unset(monkeypatch):
    # TAGWISE_DATA_DIR= (a shell's or a compose file's empty value) put tagwise.db and models/ in the working directory
    for name in ("TAGWISE_DATA_DIR", "TAGWISE_PUBLIC_URL", "TAGWISE_PORT", "TAGWISE_API_KEY"):
        monkeypatch.setenv(name, "")
    settings = Settings()
    assert (settings.data_dir, settings.public_url, settings.port, settings.api_key) == (Settings.model_fields["data_dir"].default, None, 8080, None)


def test_api_key_is_generated_once_and_kept(tmp_path):
    first, generated = Settings(data_dir=tmp_path).ensure_api_key()
    again, generated_again = Settings(data_dir=tmp_path).ensure_api_key()
    assert generated and not generated_again and first == again and len(first) >= 32
    assert (tmp_path / "api-key").stat().st_mode & 0o077 == 0


def test_encoder_backend_choices_are_the_encoders():
    # settings must not import the ml layer, so it spells the backends out: keep the twins equal
    from typing import get_args

    from tagwise.ml.encoder import BACKENDS, DEFAULT_BACKEND

    assert get_args(Settings.model_fields["encoder_backend"].annotation) == (DEFAULT_BACKEND, *BACKENDS)


def test_a_child_process_gets_the_same_settings(monkeypatch, tmp_path):
    # a training job runs in its own process, configured from these variables
    given = Settings(data_dir=tmp_path, api_key="secret", auto_time_budget_s=0, encoder_backend="onnx", port=9000)
    env = given.environment()
    assert "TAGWISE_API_KEY" not in env
    for name in Settings.model_fields:
        monkeypatch.delenv(f"TAGWISE_{name.upper()}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    child = Settings()
    assert child.auto_time_budget_s == 0 and child.encoder_backend == "onnx" and child.port == 9000
    assert child.resolved_database_url == given.resolved_database_url and child.models_dir == given.models_dir


def test_a_value_that_cannot_work_is_refused_at_start(tmp_path):
    # each of these started a server that then failed every request or job, or listened elsewhere
    for bad in ({"port": 70_000}, {"max_body_bytes": 0}, {"max_documents_per_request": -5}, {"max_sync_documents": 0},
                {"training_timeout_s": 0}, {"rate_limit_per_minute": -1}, {"job_heartbeat_s": 0}, {"max_page_size": 0},
                {"job_lease_s": 5, "job_heartbeat_s": 5}, {"log_level": "verbose"}, {"public_url": "notaurl"},
                # these three ended in a 120-170 line traceback at the first use of the store
                {"database_url": "postgresql://u:pw@h:notaport/db"}, {"database_url": "sqlite:///"},
                {"database_url": "sqlite:///:memory:"}):
        with pytest.raises(ValidationError):
            Settings(data_dir=tmp_path, **bad)
    assert Settings(data_dir=tmp_path, log_level="WARNING").log_level == "warning"


def test_postgres_urls_in_libpq_spelling_are_accepted():
    settings = Settings(database_url="postgres://tagwise:secret@db:5432/tagwise")
    assert settings.resolved_database_url == "postgresql+psycopg://tagwise:secret@db:5432/tagwise"


def test_the_model_store_is_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert Settings(data_dir="tagwise-data").models_dir == tmp_path / "tagwise-data" / "models"


def test_the_store_is_named_without_its_password(tmp_path):
    assert Settings(database_url="postgresql://tagwise:s3cret@db.internal:55433/tagwise").store_name == "PostgreSQL tagwise@db.internal:55433/tagwise"
    assert Settings(data_dir=tmp_path).store_name == f"SQLite {(tmp_path / 'tagwise.db').resolve()}"


def test_the_model_cache_holds_as_many_models_as_set(tmp_path):
    # a fleet of many small deployments had 16 models in memory and no way to keep more
    from tagwise.core.context import Context

    ctx = Context(Settings(data_dir=tmp_path, model_cache_size=40))
    assert ctx.predictors.capacity == 40
