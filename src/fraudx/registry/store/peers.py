"""Reports imported from peer nodes: found by origin, updated and inserted in bulk."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from fraudx.platform.agencies import store as agency_store
from fraudx.registry.model import Indicator, Status
from fraudx.registry.origin import PeerReport
from fraudx.registry.rows import INSERT_COLUMNS, row_times, tags_column, time_of
from fraudx.registry.store.reports import bulk_insert, row_values, update_of


def known_agencies(session: Session, codes: Sequence[str]) -> set[str]:
    """Which of these agency codes the node knows already."""
    table = agency_store.agencies
    return set(session.execute(select(table.c.code).where(table.c.code.in_(codes))).scalars())


class Held(NamedTuple):
    """What an import needs of a report already held: its local id and its times."""

    id: str
    created_at: datetime
    updated_at: datetime


def held(session: Session, origins: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Held]:
    """The reports held for these (origin node, id there) pairs. Through the driver, for
    the same reason as ``insert_held``: every page of a pull asks for thousands."""
    found: dict[tuple[str, str], Held] = {}
    by_node: dict[str, list[str]] = {}
    for node, id_ in origins:
        by_node.setdefault(node, []).append(id_)
    connection = session.connection()
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    when = functools.cache(_time_held)  # a page's reports share a few instants
    for node, ids in by_node.items():
        for start in range(0, len(ids), _HELD_CHUNK):
            chunk = ids[start : start + _HELD_CHUNK]
            marks = ", ".join([mark] * len(chunk))  # only placeholders: every value is bound
            sql = f"{_HELD_SELECT} WHERE origin_node = {mark} AND origin_id IN ({marks})"
            for origin_id, id_, created, updated in connection.exec_driver_sql(sql, (node, *chunk)):
                found[(node, origin_id)] = Held(id_, when(created), when(updated))
    return found


_HELD_SELECT = "SELECT origin_id, id, created_at, updated_at FROM indicators"
_HELD_CHUNK = 2000


def _time_held(value: str | datetime) -> datetime:
    """A time as the driver reads it: text on SQLite, a datetime on PostgreSQL."""
    return time_of(value) if isinstance(value, str) else value.astimezone(UTC)


#: What a newer version of a peer's report may change.
_UPDATED = (
    "category",
    "confidence",
    "tlp",
    "status",
    "valid_from",
    "valid_until",
    "last_seen",
    "updated_at",
    "description",
    "tags",
    "revoked_reason",
    "revoked_at",
)
_UPDATE = update_of(_UPDATED)


def update_held(session: Session, reports: Sequence[Indicator]) -> None:
    """Write newer versions of held reports (``id`` is the local one)."""
    if reports:
        session.execute(_UPDATE, [row_values(r, _UPDATED) for r in reports])


#: A held report's columns: a new report's but ``case_ref`` (not exchanged: left NULL),
#: then what only peers' reports carry; a revoked report's two last only where a report
#: of the batch is revoked. SQLite's driver binds a NULL slower than SQLite writes a row's
#: text, and new reports are almost all active.
_COLUMNS = (*(c for c in INSERT_COLUMNS if c != "case_ref"), "origin_node", "origin_id")
_REVOKED_COLUMNS = (*_COLUMNS, "revoked_reason", "revoked_at")


def insert_held(session: Session, reports: Sequence[tuple[str, PeerReport]]) -> None:
    """Insert (local id, report) pairs through the driver (``bulk_insert``): a pull of
    100,000 reports would spend more in SQLAlchemy's per-value processing than in SQL.
    Times go as ``row_times`` text, as a bulk import's do; enums by ``str`` (a StrEnum's
    value, without the cost of ``.value``)."""
    if not reports:
        return
    when = row_times(session.get_bind().dialect.name == "sqlite")
    revoked = any(r.status is Status.REVOKED for _, r in reports)

    def revocation(r: PeerReport) -> tuple[str | None, ...]:
        if not revoked:
            return ()  # the batch leaves the two columns out
        if r.revoked_at is None:
            return (None, None)
        return (str(r.revoked_reason), when(r.revoked_at))

    rows = [
        (
            local_id,
            str(r.kind),
            r.value,
            r.agency_code,
            r.country,
            r.category,
            r.confidence,
            str(r.tlp),
            str(r.status),
            when(r.valid_from),
            when(r.valid_until),
            when(r.first_seen),
            when(r.last_seen),
            when(r.created_at),
            when(r.updated_at),
            r.region,
            r.description,
            tags_column(r.tags),
            r.origin_node,
            r.origin_id,
            *revocation(r),
        )
        for local_id, r in reports
    ]
    bulk_insert(session, "indicators", _REVOKED_COLUMNS if revoked else _COLUMNS, rows)
