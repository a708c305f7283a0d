"""Tables and queries of the indicator registry: reports, their history, sightings."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Row,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from fraudx.identifiers import Identifier, IdentifierKind
from fraudx.platform.db import JSONDoc, UTCDateTime, metadata
from fraudx.registry.model import HistoryEntry, Indicator, RevokeReason, Status, Tlp
from fraudx.registry.rows import INSERT_COLUMNS, _tags, tags_column, time_texts
from fraudx.registry.rows import Row as NewRow

indicators = Table(
    "indicators",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(2100), nullable=False),
    Column("agency_code", String(40), ForeignKey("agencies.code"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("category", String(40), nullable=False),
    Column("confidence", SmallInteger, nullable=False),
    Column("tlp", String(12), nullable=False),
    Column("status", String(10), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_until", UTCDateTime(), nullable=False),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("region", String(2)),
    Column("case_ref", String(200)),
    Column("description", Text),
    # Tags as ";a;b;" so that "has tag t" is LIKE '%;t;%' on every backend.
    Column("tags", String(1400), nullable=False, server_default=""),
    Column("revoked_reason", String(20)),
    Column("revoked_at", UTCDateTime()),
    Column("revoked_by", String(200)),
    Column("revoked_note", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    # Reports imported from a peer node (fraudx.exchange): where they come from.
    Column("origin_node", String(64)),
    Column("origin_id", String(36)),
    Index("uq_indicators_origin", "origin_node", "origin_id", unique=True),
    Index("ix_indicators_value_kind", "value", "kind"),
    Index("ix_indicators_status_valid_until", "status", "valid_until"),
    # One active report per agency, identifier and category: re-reporting updates it.
    Index(
        "uq_indicators_active_report",
        "kind",
        "value",
        "agency_code",
        "category",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

indicator_history = Table(
    "indicator_history",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("indicator_id", String(36), ForeignKey("indicators.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("action", String(40), nullable=False),
    Column("agency_code", String(40)),
    Column("actor", String(200), nullable=False),
    Column("detail", JSONDoc, nullable=False),
    Index("ix_indicator_history_indicator_id", "indicator_id"),
)

sightings = Table(
    "sightings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(2100), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("agency_code", String(40)),
    Column("role", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(40), nullable=False),
    Column("note", Text),
    Index("ix_sightings_value_kind", "value", "kind"),
    Index("ix_sightings_agency_code", "agency_code"),
)


def indicator_of(row: Row[Any] | Any) -> Indicator:
    m = row._mapping
    return Indicator(
        id=m["id"],
        identifier=Identifier(IdentifierKind(m["kind"]), m["value"]),
        category=m["category"],
        confidence=int(m["confidence"]),
        tlp=Tlp(m["tlp"]),
        status=Status(m["status"]),
        agency_code=m["agency_code"],
        country=m["country"],
        valid_from=m["valid_from"],
        valid_until=m["valid_until"],
        first_seen=m["first_seen"],
        last_seen=m["last_seen"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        case_ref=m["case_ref"],
        description=m["description"],
        tags=_tags(m["tags"] or ""),
        region=m["region"],
        revoked_reason=RevokeReason(m["revoked_reason"]) if m["revoked_reason"] else None,
        revoked_at=m["revoked_at"],
        revoked_note=m["revoked_note"],
        origin_node=m.get("origin_node"),
        origin_id=m.get("origin_id"),
    )


def row_of(indicator: Indicator) -> dict[str, Any]:
    return {
        "id": indicator.id,
        "kind": indicator.identifier.kind.value,
        "value": indicator.identifier.value,
        "agency_code": indicator.agency_code,
        "country": indicator.country,
        "category": indicator.category,
        "confidence": indicator.confidence,
        "tlp": indicator.tlp.value,
        "status": indicator.status.value,
        "valid_from": indicator.valid_from,
        "valid_until": indicator.valid_until,
        "first_seen": indicator.first_seen,
        "last_seen": indicator.last_seen,
        "created_at": indicator.created_at,
        "updated_at": indicator.updated_at,
        "region": indicator.region,
        "case_ref": indicator.case_ref,
        "description": indicator.description,
        "tags": tags_column(indicator.tags),
    }


def bulk_insert(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """COPY on PostgreSQL, executemany on SQLite; table and column names are constants
    of this module and every value is bound, so nothing can be injected."""
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        marks = ", ".join(["?"] * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(session: Session, rows: Sequence[NewRow]) -> None:
    """Insert new reports as ``rows.new_row`` made them, through the driver: for bulk
    imports SQLAlchemy's per-value type processing would cost more than the database's
    own work."""
    if rows:
        bulk_insert(session, "indicators", INSERT_COLUMNS, rows)


_REPORT_UPDATE = (
    update(indicators)
    .where(indicators.c.id == bindparam("b_id"))
    .values(
        confidence=bindparam("confidence"),
        tlp=bindparam("tlp"),
        valid_until=bindparam("valid_until"),
        last_seen=bindparam("last_seen"),
        updated_at=bindparam("updated_at"),
        case_ref=bindparam("case_ref"),
        description=bindparam("description"),
        tags=bindparam("tags"),
        version=indicators.c.version + 1,
    )
)


def update_reports(session: Session, rows: Sequence[Indicator]) -> None:
    """Write re-reported fields of existing reports (corroboration by the same agency)."""
    if not rows:
        return
    session.execute(
        _REPORT_UPDATE,
        [
            {
                "b_id": r.id,
                "confidence": r.confidence,
                "tlp": r.tlp.value,
                "valid_until": r.valid_until,
                "last_seen": r.last_seen,
                "updated_at": r.updated_at,
                "case_ref": r.case_ref,
                "description": r.description,
                "tags": tags_column(r.tags),
            }
            for r in rows
        ],
    )


def active_reports_of(
    session: Session, agency_code: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str, str], Indicator]:
    """The agency's active reports on these (kind, value) pairs, by (kind, value, category).

    Most rows of an import are new: a light query on the driver finds which are not, and
    only those are read whole."""
    wanted = set(keys)
    values = sorted({value for _, value in wanted})
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    found_ids: list[str] = []
    params: tuple[Any, ...]
    for start in range(0, len(values), 2000):
        part = values[start : start + 2000]
        # By value alone, so that the planner takes the value index whatever the agency;
        # on PostgreSQL as one array parameter rather than thousands.
        select_ = "SELECT id, kind, value, agency_code, status FROM indicators WHERE value"
        if sqlite:
            sql, params = f"{select_} IN ({', '.join(['?'] * len(part))})", tuple(part)
        else:
            sql, params = f"{select_} = ANY(%s)", (part,)
        if not sqlite:
            # During a bulk import the table grows faster than its statistics: the planner
            # would believe it small and scan it whole for every chunk.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        for id_, kind, value, agency, status in connection.exec_driver_sql(sql, params):
            if agency == agency_code and status == "active" and (kind, value) in wanted:
                found_ids.append(id_)
        if not sqlite:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = on")
    found: dict[tuple[str, str, str], Indicator] = {}
    for report in get_many(session, found_ids).values():
        found[(report.identifier.kind.value, report.identifier.value, report.category)] = report
    return found


def get(session: Session, indicator_id: str, *, for_update: bool = False) -> Indicator | None:
    query = select(indicators).where(indicators.c.id == indicator_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).first()
    return indicator_of(row) if row else None


def get_many(session: Session, ids: Sequence[str]) -> dict[str, Indicator]:
    if not ids:
        return {}
    rows = session.execute(select(indicators).where(indicators.c.id.in_(list(ids))))
    return {r.id: indicator_of(r) for r in rows}


def set_status(
    session: Session,
    indicator_id: str,
    status: Status,
    when: datetime,
    *,
    reason: RevokeReason | None = None,
    by: str | None = None,
    note: str | None = None,
) -> None:
    session.execute(
        update(indicators)
        .where(indicators.c.id == indicator_id)
        .values(
            status=status.value,
            updated_at=when,
            revoked_reason=reason.value if reason else None,
            revoked_at=when if status is Status.REVOKED else None,
            revoked_by=by,
            revoked_note=note,
            version=indicators.c.version + 1,
        )
    )


def due_for_expiry(session: Session, now: datetime, limit: int) -> list[Indicator]:
    query = (
        select(indicators)
        .where(
            indicators.c.status == Status.ACTIVE.value,
            indicators.c.valid_until <= now,
        )
        .order_by(indicators.c.valid_until)
        .limit(limit)
    )
    return [indicator_of(r) for r in session.execute(query)]


def expire(session: Session, ids: Sequence[str], now: datetime) -> None:
    session.execute(
        update(indicators)
        .where(indicators.c.id.in_(list(ids)), indicators.c.status == Status.ACTIVE.value)
        .values(status=Status.EXPIRED.value, updated_at=now, version=indicators.c.version + 1)
    )


def add_history(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    if entries:
        session.execute(insert(indicator_history), list(entries))


def history(session: Session, indicator_id: str) -> list[HistoryEntry]:
    query = (
        select(indicator_history)
        .where(indicator_history.c.indicator_id == indicator_id)
        .order_by(indicator_history.c.at, indicator_history.c.id)
    )
    return [
        HistoryEntry(r.at, r.action, r.agency_code, r.actor, dict(r.detail or {}))
        for r in session.execute(query)
    ]


# --- search ---------------------------------------------------------------------------


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
    conditions: list[ColumnElement[bool]] = [_visible(visibility)]
    c = indicators.c
    if filters.kind:
        conditions.append(c.kind == filters.kind)
    if filters.value:
        conditions.append(c.value == filters.value)
    if filters.category:
        conditions.append(c.category == filters.category)
    if filters.country:
        conditions.append(c.country == filters.country)
    if filters.agency:
        conditions.append(c.agency_code == filters.agency)
    if filters.status:
        conditions.append(c.status == filters.status)
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


def active_for_index(session: Session, batch: int = 50_000) -> Iterator[list[Row[Any]]]:
    """Every active report as the look-up index packs it, times in Unix seconds, streamed
    in batches. Seconds come from the database: parsing a million timestamps in Python
    would take longer than the rest of the build."""
    sqlite = session.get_bind().dialect.name == "sqlite"

    def epoch(column: str) -> str:
        if sqlite:
            return f"CAST(strftime('%s', {column}) AS INTEGER)"
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"

    sql = (
        "SELECT id, kind, value, agency_code, country, category, confidence, tlp, "  # noqa: S608
        f"{epoch('first_seen')}, {epoch('last_seen')}, {epoch('valid_until')} "
        "FROM indicators WHERE status = 'active'"
    )
    connection = session.connection().execution_options(stream_results=True, yield_per=batch)
    result = connection.exec_driver_sql(sql)
    while rows := result.fetchmany(batch):
        yield list(rows)


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


# --- sightings ------------------------------------------------------------------------


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
        [(r[0], r[1], r[2], when(r[3]), when(r[4]), *r[5:]) for r in rows],
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
        query = query.where(s.observed_at >= since)
    if before_id:
        query = query.where(s.id < before_id)
    return list(session.execute(query.order_by(s.id.desc()).limit(limit)).all())
