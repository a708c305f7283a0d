"""Recording and checking the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.audit import store
from fraudx.platform.audit.model import AuditEntry, AuditEvent, ChainBreak, chain, verify
from fraudx.platform.clock import Clock, as_utc
from fraudx.platform.db import Database
from fraudx.platform.errors import InvalidInput
from fraudx.platform.ids import IdFactory


def event_for(
    actor: Principal, action: str, target: str | None = None, detail: dict[str, Any] | None = None
) -> AuditEvent:
    return AuditEvent(
        action=action,
        actor=actor.actor,
        role=actor.role.value,
        agency_code=actor.agency_code,
        token_id=actor.token_id,
        address=actor.address,
        target=target,
        detail=detail or {},
    )


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    head_seq: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


class AuditLog:
    """Who did what, when, from where: appended in the same transaction as the act."""

    def __init__(self, db: Database, clock: Clock, ids: IdFactory) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids

    def record(
        self,
        session: Session,
        actor: Principal,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one entry inside the caller's write transaction."""
        self.record_events(session, [event_for(actor, action, target, detail)])

    def record_events(self, session: Session, events: Sequence[AuditEvent]) -> None:
        seq, last_hash = store.lock_head(session)
        now = self._clock.now()
        store.append(session, chain(((self._ids.new(), now, e) for e in events), seq, last_hash))

    def search(
        self,
        actor: Principal,
        *,
        agency_code: str | None = None,
        action: str | None = None,
        actor_name: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> AuditPage:
        """Newest entries first. Only the node's administrators read the audit log."""
        actor.require(Role.ADMIN)
        since = as_utc(since) if since else None
        until = as_utc(until) if until else None
        before = None
        if cursor:
            if not cursor.isdigit():
                raise InvalidInput("cursor", "not a cursor this node handed out")
            before = int(cursor)
        filters = {
            k: v
            for k, v in {
                "agency": agency_code,
                "action": action,
                "actor": actor_name,
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
            }.items()
            if v
        }
        with self._db.write() as session:
            entries = store.search(
                session,
                agency_code=agency_code,
                action=action,
                actor=actor_name,
                since=since,
                until=until,
                before_seq=before,
                limit=limit,
            )
            self.record(session, actor, "audit.search", None, filters)
        next_cursor = str(entries[-1].seq) if len(entries) == limit else None
        return AuditPage(entries, next_cursor)

    def verify(self) -> VerifyReport:
        """Recompute the whole chain. Streams the log, so memory stays flat."""
        with self._db.read() as session:
            head_seq, head_hash = store.head(session)
            checked, first_break = verify(store.iter_all(session), head_seq, head_hash)
        return VerifyReport(checked, head_seq, first_break)
