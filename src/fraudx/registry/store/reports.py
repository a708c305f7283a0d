"""Writing and reading reports by id: bulk inserts, re-reports, status, history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Update, bindparam, insert, select, update
from sqlalchemy.orm import Session

from fraudx.registry.model import HistoryEntry, Indicator, RevokeReason, Status
from fraudx.registry.rows import INSERT_COLUMNS
from fraudx.registry.rows import Row as NewRow
from fraudx.registry.store.tables import indicator_history, indicator_of, indicators, row_of


def bulk_insert(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    marks: Sequence[str] | None = None,
) -> None:
    """COPY on PostgreSQL, executemany on SQLite; table and column names are constants
    of this module and every value is bound, so nothing can be injected. ``marks`` (SQLite
    only) are the columns' placeholders where not one ``?`` each: numbered ones (``?3``)
    let a value a row holds for several columns be bound once."""
    connection = session.connection()
    names = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        values = ", ".join(marks or ["?"] * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({values})", rows)  # noqa: S608
        return
    assert marks is None, "placeholders are SQLite's"
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


def update_of(columns: Sequence[str]) -> Update:
    """An UPDATE of these columns of one report, each bound by its name (and the report's
    id as ``b_id``), that counts its version up: run with ``row_values`` of each report."""
    return (
        update(indicators)
        .where(indicators.c.id == bindparam("b_id"))
        .values({name: bindparam(name) for name in columns} | {"version": indicators.c.version + 1})
    )


def row_values(report: Indicator, columns: Sequence[str]) -> dict[str, Any]:
    """``update_of``'s values for one report."""
    row = row_of(report)
    return {"b_id": report.id, **{name: row[name] for name in columns}}


#: What a re-report by the same agency changes.
_REREPORTED = (
    "confidence",
    "tlp",
    "valid_until",
    "last_seen",
    "updated_at",
    "case_ref",
    "description",
    "tags",
)
_REPORT_UPDATE = update_of(_REREPORTED)


def update_reports(session: Session, rows: Sequence[Indicator]) -> None:
    """Write re-reported fields of existing reports (corroboration by the same agency)."""
    if rows:
        session.execute(_REPORT_UPDATE, [row_values(r, _REREPORTED) for r in rows])


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


def _index_select(sqlite: bool) -> str:
    """Active reports as the look-up index packs them, times in Unix seconds. Seconds come
    from the database: parsing a million timestamps in Python would take longer than the
    rest of the build."""

    def epoch(column: str) -> str:
        if sqlite:
            return f"CAST(strftime('%s', {column}) AS INTEGER)"
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"

    return (
        "SELECT id, kind, value, agency_code, country, category, confidence, tlp, "  # noqa: S608
        f"{epoch('first_seen')}, {epoch('last_seen')}, {epoch('valid_until')} "
        "FROM indicators WHERE status = 'active'"
    )


def active_for_index(session: Session, batch: int = 50_000) -> Iterator[list[Row[Any]]]:
    """Every active report as the look-up index packs it, streamed in batches."""
    sql = _index_select(session.get_bind().dialect.name == "sqlite")
    connection = session.connection().execution_options(stream_results=True, yield_per=batch)
    result = connection.exec_driver_sql(sql)
    while rows := result.fetchmany(batch):
        yield list(rows)


def active_of(session: Session, kind: str, values: Sequence[str]) -> list[Row[Any]]:
    """The active reports of these identifiers of one kind, as ``active_for_index`` reads
    them: one look-up without the index, through the value index."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = f"{_index_select(sqlite)} AND value IN ({', '.join([mark] * len(values))})"
    rows = session.connection().exec_driver_sql(sql + f" AND kind = {mark}", (*values, kind))
    return list(rows)
