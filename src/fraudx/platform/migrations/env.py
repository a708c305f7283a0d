"""Alembic environment: runs on the connection FraudX hands it (see fraudx.platform.schema)."""

from __future__ import annotations

from alembic import context

from fraudx.platform.schema import load_all_tables

config = context.config
connection = config.attributes["connection"]
target_metadata = load_all_tables()

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
