"""Reports imported from peer nodes: found by origin, updated and inserted in bulk."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from fraudx.platform.agencies import store as agency_store
from fraudx.registry.model import Indicator
from fraudx.registry.rows import INSERT_COLUMNS, tags_column, time_texts
from fraudx.registry.store.reports import bulk_insert, row_values, update_of
from fraudx.registry.store.tables import indicator_of, indicators


def known_agencies(session: Session, codes: Sequence[str]) -> set[str]:
    """Which of these agency codes the node knows already."""
    table = agency_store.agencies
    return set(session.execute(select(table.c.code).where(table.c.code.in_(codes))).scalars())


def held(session: Session, origins: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Indicator]:
    """The reports held for these (origin node, id there) pairs."""
    found: dict[tuple[str, str], Indicator] = {}
    by_node: dict[str, list[str]] = {}
    for node, id_ in origins:
        by_node.setdefault(node, []).append(id_)
    for node, ids in by_node.items():
        for start in range(0, len(ids), 2000):
            query = select(indicators).where(
                and_(
                    indicators.c.origin_node == node,
                    indicators.c.origin_id.in_(ids[start : start + 2000]),
                )
            )
            for row in session.execute(query):
                report = indicator_of(row)
                assert report.origin_id is not None
                found[(node, report.origin_id)] = report
    return found


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


#: A held report's columns: a new report's, then what only peers' reports carry.
_COLUMNS = (*INSERT_COLUMNS, "revoked_reason", "revoked_at", "origin_node", "origin_id")


def insert_held(session: Session, reports: Sequence[tuple[str, Indicator]]) -> None:
    """Insert (local id, report) pairs through the driver (``bulk_insert``): a pull of
    100,000 reports would spend more in SQLAlchemy's per-value processing than in SQL."""
    if not reports:
        return
    when = time_texts(session.get_bind().dialect.name == "sqlite")
    rows = [
        (
            local_id,
            r.identifier.kind.value,
            r.identifier.value,
            r.agency_code,
            r.country,
            r.category,
            r.confidence,
            r.tlp.value,
            r.status.value,
            when(r.valid_from),
            when(r.valid_until),
            when(r.first_seen),
            when(r.last_seen),
            when(r.created_at),
            when(r.updated_at),
            r.region,
            r.case_ref,
            r.description,
            tags_column(r.tags),
            r.revoked_reason.value if r.revoked_reason else None,
            when(r.revoked_at),
            r.origin_node,
            r.origin_id,
        )
        for local_id, r in reports
    ]
    bulk_insert(session, "indicators", _COLUMNS, rows)
