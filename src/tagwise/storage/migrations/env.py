"""Alembic environment: runs on the connection tagwise hands it (see storage/db.py)."""

from alembic import context

from tagwise.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
