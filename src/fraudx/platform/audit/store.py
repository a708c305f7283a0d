"""Tables and queries for the audit log and its head."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, insert, select, update
from sqlalchemy.orm import Session

from fraudx.platform.audit.model import GENESIS, AuditEntry, AuditEvent
from fraudx.platform.db import JSONDoc, UTCDateTime, metadata

audit_log = Table(
    "audit_log",
    metadata,
    # seq is assigned by the writer under the head lock, never by a database sequence:
    # a sequence leaves gaps on rollback, and gaps are how deletions show.
    Column(
        "seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("id", String(36), nullable=False, unique=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("action", String(80), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("agency_code", String(40)),
    Column("token_id", String(36)),
    Column("address", String(64)),
    Column("target", String(300)),
    Column("detail", JSONDoc, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_agency_code_at", "agency_code", "at"),
    Index("ix_audit_log_action_at", "action", "at"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("hash", String(64), nullable=False),
)


#: The head this transaction last wrote, in its session: a group commit appends once per
#: write, and the lock is already held, so later appends need not read the head again.
_HEAD_WRITTEN = "fraudx.audit_head"


def lock_head(session: Session) -> tuple[int, str]:
    """Take the chain's write lock and return the last (seq, hash)."""
    written = session.info.get(_HEAD_WRITTEN)
    if written is not None and written[0] is session.get_transaction():
        return int(written[1]), str(written[2])
    query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).first()
    if row is None:
        session.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return int(row.seq), str(row.hash)


def append(session: Session, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        return
    session.execute(
        insert(audit_log),
        [
            {
                "seq": e.seq,
                "id": e.id,
                "at": e.at,
                "action": e.event.action,
                "actor": e.event.actor,
                "role": e.event.role,
                "agency_code": e.event.agency_code,
                "token_id": e.event.token_id,
                "address": e.event.address,
                "target": e.event.target,
                "detail": e.event.detail,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in entries
        ],
    )
    last = entries[-1]
    session.execute(
        update(audit_head).where(audit_head.c.id == 1).values(seq=last.seq, hash=last.hash)
    )
    session.info[_HEAD_WRITTEN] = (session.get_transaction(), last.seq, last.hash)


def _entry(m: Any) -> AuditEntry:
    event = AuditEvent(
        action=m["action"],
        actor=m["actor"],
        role=m["role"],
        agency_code=m["agency_code"],
        token_id=m["token_id"],
        address=m["address"],
        target=m["target"],
        detail=m["detail"],
    )
    return AuditEntry(int(m["seq"]), m["id"], m["at"], event, m["prev_hash"], m["hash"])


def head(session: Session) -> tuple[int, str]:
    row = session.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
    return (int(row.seq), str(row.hash)) if row else (0, GENESIS)


def iter_all(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    """Every entry in physical seq order, in batches so memory stays flat."""
    after = 0
    while True:
        rows = session.execute(
            select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield _entry(row._mapping)
        after = int(rows[-1].seq)


def search(
    session: Session,
    *,
    agency_code: str | None,
    action: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    before_seq: int | None,
    limit: int,
) -> list[AuditEntry]:
    """Newest first; ``before_seq`` continues from a previous page."""
    query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if agency_code:
        query = query.where(audit_log.c.agency_code == agency_code)
    if action:
        # "indicator." matches every indicator action: a prefix filter, not a pattern.
        query = query.where(
            audit_log.c.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else audit_log.c.action == action
        )
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if since:
        query = query.where(audit_log.c.at >= since)
    if until:
        query = query.where(audit_log.c.at < until)
    if before_seq:
        query = query.where(audit_log.c.seq < before_seq)
    return [_entry(r._mapping) for r in session.execute(query)]
