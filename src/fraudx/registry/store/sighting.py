"""Sightings: look-ups that hit a listed identifier, as the record of who asked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from fraudx.registry.rows import time_texts
from fraudx.registry.store.reports import bulk_insert
from fraudx.registry.store.tables import indicators, sightings

_SIGHTING_COLUMNS = (
    "id",
    "kind",
    "value",
    "observed_at",
    "recorded_at",
    "agency_code",
    "role",
    "actor",
    "source",
    "note",
    "times",
    "last_observed_at",
)


def add_sightings(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Sightings as tuples in ``_SIGHTING_COLUMNS`` order (times as datetimes)."""
    if not rows:
        return
    when = time_texts(session.get_bind().dialect.name == "sqlite")
    bulk_insert(
        session,
        "sightings",
        _SIGHTING_COLUMNS,
        [(r[0], r[1], r[2], when(r[3]), when(r[4]), *r[5:10], r[10], when(r[11])) for r in rows],
    )


def add_to_sightings(session: Session, changes: Sequence[tuple[str, int, datetime]]) -> None:
    """More look-ups folded into rows written before: (id, how many more, the last's time).
    Through the driver, as ``add_sightings``: a busy node adds to thousands a second."""
    if not changes:
        return
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    when, mark = time_texts(sqlite), "?" if sqlite else "%s"
    connection.exec_driver_sql(
        f"UPDATE sightings SET times = times + {mark}, last_observed_at = {mark} "  # noqa: S608
        f"WHERE id = {mark}",
        [(n, when(last), id_) for id_, n, last in changes],
    )


def list_sightings(
    session: Session,
    *,
    viewer_agency: str | None,
    everything: bool,
    kind: str | None,
    value: str | None,
    since: datetime | None,
    before_id: str | None,
    limit: int,
) -> list[Row[Any]]:
    """Newest first. Without ``everything`` an agency sees its own sightings and the
    sightings of identifiers it reported itself."""
    s = sightings.c
    query = select(sightings)
    if not everything:
        reported_by_viewer = (
            select(indicators.c.id)
            .where(
                indicators.c.value == s.value,
                indicators.c.kind == s.kind,
                indicators.c.agency_code == viewer_agency,
            )
            .exists()
        )
        query = query.where(or_(s.agency_code == viewer_agency, reported_by_viewer))
    if kind:
        query = query.where(s.kind == kind)
    if value:
        query = query.where(s.value == value)
    if since:
        query = query.where(func.coalesce(s.last_observed_at, s.observed_at) >= since)
    if before_id:
        query = query.where(s.id < before_id)
    return list(session.execute(query.order_by(s.id.desc()).limit(limit)).all())
