"""Reports imported from peer nodes: stored with their origin, upserted idempotently.

A peer's report is keyed by (origin node, id there): the same report twice is stored
once; a newer version (its ``modified`` later than what is held) updates it, revokes it
or expires it; an older or equal one changes nothing. Imported reports emit the same
``registry.indicators`` changes as local ones, so that the look-up index and alerts see
them; each also names its ``origin`` node, so that the exchange's publisher passes over
them without reading them back (a node never re-publishes what it imported). The
reporting agency is registered here (with its kind and country) if unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Session

from fraudx.platform.agencies import store as agency_store
from fraudx.platform.agencies.model import draft_agency
from fraudx.platform.errors import InvalidInput
from fraudx.registry.events import Change, change_of
from fraudx.registry.model import Indicator, Status
from fraudx.registry.origin import PeerImport, PeerReport
from fraudx.registry.store import (
    bulk_insert,
    indicator_of,
    indicators,
    row_of,
    tags_column,
    time_texts,
)


def ensure_agencies(session: Session, reports: Sequence[PeerReport], now: datetime) -> None:
    wanted = {r.indicator.agency_code: r for r in reports}
    have = set(
        session.execute(
            select(agency_store.agencies.c.code).where(
                agency_store.agencies.c.code.in_(list(wanted))
            )
        ).scalars()
    )
    for code, report in wanted.items():
        if code in have:
            continue
        try:
            draft = draft_agency(
                code, report.agency_name or code, report.indicator.country, report.agency_kind
            )
        except InvalidInput:  # an unknown kind: keep the report, register it as an observer
            draft = draft_agency(code, code, report.indicator.country, "observer")
        agency_store.insert_agency(session, draft, now)


def held(session: Session, origins: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Indicator]:
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


_UPDATE = (
    update(indicators)
    .where(indicators.c.id == bindparam("b_id"))
    .values(
        {
            name: bindparam(name)
            for name in (
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
        }
        | {"version": indicators.c.version + 1}
    )
)


def import_reports(
    session: Session, reports: Sequence[PeerReport], new_ids: list[str], now: datetime
) -> tuple[PeerImport, list[dict[str, Any]]]:
    """Upsert ``reports`` in ``session``; returns the counts and the outbox changes.
    ``new_ids`` gives the local ids of reports not held yet (one per report at most)."""
    outcome = PeerImport()
    latest: dict[tuple[str, str], PeerReport] = {}
    for r in reports:  # the same report twice in one batch: the newest version stands
        seen = latest.get(r.origin)
        if seen is None or r.indicator.updated_at > seen.indicator.updated_at:
            latest[r.origin] = r
    if not latest:
        return outcome, []
    ensure_agencies(session, list(latest.values()), now)
    existing = held(session, list(latest))
    fresh = iter(new_ids)
    inserts: list[tuple[str, Indicator]] = []
    updates: list[Indicator] = []
    changes: list[dict[str, Any]] = []
    for key, report in latest.items():
        incoming = report.indicator
        previous = existing.get(key)
        if previous is None:
            local_id = next(fresh)
            inserts.append((local_id, incoming))
            snapshot = change_of(incoming, _change(None, incoming))
            snapshot["id"] = local_id  # the snapshot names the local report
            snapshot["origin"] = key[0]
            changes.append(snapshot)
            outcome.created += 1
        elif incoming.updated_at <= previous.updated_at:
            outcome.unchanged += 1
        else:
            local = replace(incoming, id=previous.id, created_at=previous.created_at)
            updates.append(local)
            change = _change(previous, local)
            snapshot = change_of(local, change)
            snapshot["origin"] = key[0]
            changes.append(snapshot)
            if change == Change.REVOKED:
                outcome.revoked += 1
            else:
                outcome.updated += 1
    # Updates first: a revoked report must leave the one-active-report index before
    # the origin's replacement for it arrives in the same batch.
    if updates:
        session.execute(_UPDATE, [_update_row(r) for r in updates])
    if inserts:
        _insert(session, inserts)
    return outcome, changes


_COLUMNS = (
    "id",
    "kind",
    "value",
    "agency_code",
    "country",
    "category",
    "confidence",
    "tlp",
    "status",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
    "region",
    "description",
    "tags",
    "revoked_reason",
    "revoked_at",
    "origin_node",
    "origin_id",
)


def _insert(session: Session, reports: Sequence[tuple[str, Indicator]]) -> None:
    """Insert through the driver (``store.bulk_insert``): a pull of 100,000 reports would
    spend more in SQLAlchemy's per-value processing than in SQL."""
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


def _change(previous: Indicator | None, now: Indicator) -> str:
    if now.status is Status.REVOKED:
        return Change.REVOKED
    if now.status is Status.EXPIRED:
        return Change.EXPIRED
    return Change.CREATED if previous is None else Change.UPDATED


def _update_row(r: Indicator) -> dict[str, Any]:
    row = row_of(r)
    return {
        "b_id": r.id,
        **{k: row[k] for k in ("category", "confidence", "tlp", "status", "valid_from")},
        **{k: row[k] for k in ("valid_until", "last_seen", "updated_at", "description", "tags")},
        "revoked_reason": r.revoked_reason.value if r.revoked_reason else None,
        "revoked_at": r.revoked_at,
    }
