"""Schema versions: bring a database to the current schema, or tell how far behind it is."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from fraudx.platform.db import Database, metadata

#: Modules that define tables; each capability adds its store here when it gains tables.
TABLE_MODULES = [
    "fraudx.platform.agencies.store",
    "fraudx.platform.audit.store",
    "fraudx.platform.outbox",
    "fraudx.registry.store",
    "fraudx.alerts.store",
    "fraudx.exchange.store",
]


def load_all_tables() -> MetaData:
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return metadata


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def empty(self) -> bool:
        return self.current is None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def state(db: Database) -> SchemaState:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    with db.writer.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(current, head)


def upgrade(db: Database, revision: str = "head") -> SchemaState:
    """Apply every migration up to ``revision`` in one transaction per migration run."""
    config = _config()
    with db.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return state(db)
