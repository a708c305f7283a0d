"""Searching reports under the sharing rules, and counting them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from fraudx.registry.model import Indicator
from fraudx.registry.store.tables import indicator_of, indicators


@dataclass(frozen=True, slots=True)
class Visibility:
    """The sharing rules as a filter: markings anyone may see, plus the agency's own."""

    tlps: tuple[str, ...]
    own_agency: str | None


@dataclass(frozen=True, slots=True)
class SearchFilter:
    kind: str | None = None
    value: str | None = None
    category: str | None = None
    country: str | None = None
    agency: str | None = None
    status: str | None = None
    tag: str | None = None
    since: datetime | None = None
    text: str | None = None


def _visible(visibility: Visibility) -> ColumnElement[bool]:
    shared = indicators.c.tlp.in_(visibility.tlps) if visibility.tlps else false()
    if visibility.own_agency is None:
        return shared
    return or_(shared, indicators.c.agency_code == visibility.own_agency)


def _search_query(filters: SearchFilter, visibility: Visibility) -> Select[Any]:
    c = indicators.c
    conditions: list[ColumnElement[bool]] = [_visible(visibility)]
    conditions += [
        column == wanted
        for column, wanted in (
            (c.kind, filters.kind),
            (c.value, filters.value),
            (c.category, filters.category),
            (c.country, filters.country),
            (c.agency_code, filters.agency),
            (c.status, filters.status),
        )
        if wanted
    ]
    if filters.tag:
        conditions.append(c.tags.like(f"%;{_escape(filters.tag)};%", escape="\\"))
    if filters.since:
        conditions.append(c.created_at >= filters.since)
    if filters.text:
        conditions.append(c.description.ilike(f"%{_escape(filters.text)}%", escape="\\"))
    return select(indicators).where(and_(*conditions))


def _escape(text_: str) -> str:
    return text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    session: Session,
    filters: SearchFilter,
    visibility: Visibility,
    *,
    before_id: str | None,
    limit: int,
) -> list[Indicator]:
    """Newest first (ids are time-ordered); ``before_id`` is the cursor."""
    query = _search_query(filters, visibility)
    if before_id:
        query = query.where(indicators.c.id < before_id)
    query = query.order_by(indicators.c.id.desc()).limit(limit)
    return [indicator_of(r) for r in session.execute(query)]


def iter_search(
    session: Session, filters: SearchFilter, visibility: Visibility, *, batch: int = 5000
) -> Iterator[Indicator]:
    """Every match, oldest first, read in keyset pages so memory stays flat."""
    after: str | None = None
    while True:
        query = _search_query(filters, visibility)
        if after:
            query = query.where(indicators.c.id > after)
        rows = session.execute(query.order_by(indicators.c.id).limit(batch)).all()
        for row in rows:
            yield indicator_of(row)
        if len(rows) < batch:
            return
        after = rows[-1].id


def count(session: Session, filters: SearchFilter, visibility: Visibility) -> int:
    query = select(func.count()).select_from(_search_query(filters, visibility).subquery())
    return int(session.execute(query).scalar_one())


def stats(session: Session, visibility: Visibility) -> list[tuple[str, str, str, str, int]]:
    """Counts by country, kind, category and status: what observers may see."""
    c = indicators.c
    query = (
        select(c.country, c.kind, c.category, c.status, func.count())
        .where(_visible(visibility))
        .group_by(c.country, c.kind, c.category, c.status)
        .order_by(c.country, c.kind, c.category, c.status)
    )
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in session.execute(query)]
