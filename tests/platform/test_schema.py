"""Migrations and the tables the code declares must agree on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fraudx.node import Node
from fraudx.platform import schema


def test_migrations_match_the_declared_tables(node: Node) -> None:
    metadata = schema.load_all_tables()
    with node.platform.db.writer.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_schema_is_current(node: Node) -> None:
    state = schema.state(node.platform.db)
    assert state.up_to_date
    assert state.current == state.head
