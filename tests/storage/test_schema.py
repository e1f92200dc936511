"""The migrations build the schema ``tables.py`` declares, on both backends (``store`` is parametrized),
and the document lists use the indexes of migration 0005."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from tagwise.storage.tables import metadata


def test_the_migrations_build_the_declared_schema(store):
    with store.db.read() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert differences == []


def test_documents_are_listed_by_project_and_by_dataset_in_id_order(store):
    with store.db.read() as conn:
        indexes = {i["name"]: i["column_names"] for i in inspect(conn).get_indexes("documents")}
    assert indexes["ix_documents_project"] == ["project_id", "id"]
    assert indexes["ix_documents_dataset"] == ["project_id", "dataset", "id"]


def test_sqlite_pages_and_counts_from_the_index_without_sorting_every_row(ctx):
    # a later page of 300,000 documents took 4 s: each row (text included) was read in location order and sorted by id
    snippet = "id, substr(text, 1, 240)"
    plans = {
        "page": f"SELECT {snippet} FROM documents WHERE project_id = 1 ORDER BY id LIMIT 50 OFFSET 99950",
        "dataset page": f"SELECT {snippet} FROM documents WHERE project_id = 1 AND dataset = 'Test' ORDER BY id LIMIT 50 OFFSET 950",
        "dataset count": "SELECT count(*) FROM documents WHERE project_id = 1 AND dataset = 'Test'",
    }
    with ctx.db.read() as conn:
        found = {name: " | ".join(row[3] for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql))) for name, sql in plans.items()}
    assert "ix_documents_project" in found["page"] and "TEMP B-TREE" not in found["page"], found
    assert "ix_documents_dataset" in found["dataset page"] and "TEMP B-TREE" not in found["dataset page"], found
    assert "COVERING INDEX ix_documents_dataset" in found["dataset count"], found
