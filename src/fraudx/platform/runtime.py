"""The platform's composition: one object per node holding its database and core services.

No module-level engine or settings: tests build as many platforms (nodes) as they like.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraudx.platform import schema
from fraudx.platform.agencies.service import AgencyService, TokenService
from fraudx.platform.audit.service import AuditLog
from fraudx.platform.clock import Clock, SystemClock
from fraudx.platform.db import Database
from fraudx.platform.errors import ConfigurationError
from fraudx.platform.grouped import GroupCommit
from fraudx.platform.ids import IdFactory
from fraudx.platform.settings import Settings


@dataclass
class Platform:
    settings: Settings
    db: Database
    clock: Clock
    ids: IdFactory
    audit: AuditLog
    agencies: AgencyService
    tokens: TokenService
    #: Small writes of many request threads, committed together (``grouped``).
    groups: GroupCommit

    @classmethod
    def open(
        cls, settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> Platform:
        clock = clock or SystemClock()
        ids = ids or IdFactory(clock)
        db = Database(settings.db_url)
        audit = AuditLog(db, clock, ids)
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            ids=ids,
            audit=audit,
            agencies=AgencyService(db, clock, audit),
            tokens=TokenService(db, clock, ids, audit, cache_seconds=settings.token_cache_seconds),
            groups=GroupCommit(db),
        )

    def ensure_schema(
        self, *, upgrade_empty: bool = True, upgrade_outdated: bool = False
    ) -> schema.SchemaState:
        """Create the schema of an empty database; refuse to run on an outdated one
        unless ``upgrade_outdated`` (a demo's own database follows the code it runs)."""
        state = schema.state(self.db)
        if (state.empty and upgrade_empty) or (upgrade_outdated and not state.up_to_date):
            return schema.upgrade(self.db)
        if not state.up_to_date:
            raise ConfigurationError(
                f"the database schema is at {state.current}, this FraudX needs {state.head}: "
                "run `fraudx db upgrade` first"
            )
        return state

    def close(self) -> None:
        self.db.dispose()
