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


def test_a_migration_that_rebuilds_documents_on_sqlite_keeps_the_rows_that_point_at_them(tmp_path):
    # tag_confirmations cascades from documents: a rebuild (copy, drop, rename, as 0009 did) under SQLite's foreign keys
    # deleted every "Tag is right" mark; the migrations run with foreign-key actions off
    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage.records import utcnow

    ctx = Context.open(Settings(data_dir=tmp_path))
    try:
        with ctx.db.write() as conn:
            conn.execute(text("INSERT INTO projects (name, kind, language, multilingual, storage_container, settings, classes, "
                              "created_at, modified_at) VALUES ('p', 'CustomSingleLabelClassification', 'en', 0, 'c', '{}', "
                              "'[\"a\"]', :now, :now)"), {"now": utcnow()})
            conn.execute(text("INSERT INTO documents (project_id, location, text, labels) VALUES (1, 'd', 'x', '[\"a\"]')"))
            conn.execute(text("INSERT INTO tag_confirmations (document_id, project_id, labels, confirmed_at) VALUES (1, 1, '[\"a\"]', :now)"),
                         {"now": utcnow()})
        with ctx.db.write(foreign_keys=False) as conn:  # what a migration's batch_alter_table does on SQLite
            conn.execute(text("CREATE TABLE documents_copy AS SELECT * FROM documents"))
            conn.execute(text("DROP TABLE documents"))
            conn.execute(text("ALTER TABLE documents_copy RENAME TO documents"))
        with ctx.db.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM tag_confirmations")).scalar_one() == 1
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1  # on again for every other write
    finally:
        ctx.close()
