"""The services' shared state: settings, database and the in-memory model cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tagwise.settings import Settings
from tagwise.storage.db import Database


@dataclass
class Context:
    """Everything a service function needs. Built by the server, the CLI or a worker."""

    settings: Settings
    db: Database = field(init=False)

    def __post_init__(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.resolved_database_url)
        from tagwise.core.predictors import PredictorCache  # local: keeps ml imports lazy
        from tagwise.ml import encoder

        encoder.configure(self.settings.encoder_threads, self.settings.encoder_backend, self.settings.encoder_model_dir)
        self.predictors = PredictorCache()

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Context:
        ctx = cls(settings)
        if migrate:
            ctx.db.migrate()
        return ctx

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir

    def close(self) -> None:
        self.db.dispose()
