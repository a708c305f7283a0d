"""Migrations and the tables the code declares must agree on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from fraudx.node import Node
from fraudx.platform import schema
from fraudx.platform.errors import ConfigurationError
from fraudx.platform.runtime import Platform
from fraudx.platform.settings import Settings


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


def test_an_outdated_database_is_refused_unless_asked_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fraudx.sqlite3'}"
    platform = Platform.open(Settings(home=tmp_path, database_url=url))
    try:
        schema.upgrade(platform.db, "0005")
        with pytest.raises(ConfigurationError, match="run `fraudx db upgrade` first"):
            platform.ensure_schema()
        assert platform.ensure_schema(upgrade_outdated=True).up_to_date
    finally:
        platform.close()
