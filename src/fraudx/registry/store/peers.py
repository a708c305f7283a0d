"""Reports imported from peer nodes: found by origin, updated and inserted in bulk."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter, is_, is_not, itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from fraudx.platform.agencies import store as agency_store
from fraudx.platform.memo import memo
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
    when = memo(_time_held)  # a page's reports share a few instants
    for node, ids in by_node.items():
        for sql, params in _held_queries(connection, node, ids):
            for origin_id, id_, created, updated in connection.exec_driver_sql(sql, params):
                found[(node, origin_id)] = Held(id_, when(created), when(updated))
    return found


_HELD_SELECT = "SELECT origin_id, id, created_at, updated_at FROM indicators WHERE origin_node ="
_TOP_HELD = "SELECT max(origin_id) FROM indicators WHERE origin_node = ?"
_HELD_CHUNK = 2000


def _held_queries(
    connection: Connection, node: str, ids: list[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """``held``'s queries (SQL, parameters) for the reports of one node."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        ids = _not_above_held(connection, node, ids)
    mark = "?" if sqlite else "%s"
    return [
        (_held_sql(len(chunk), mark), (node, *chunk))
        for chunk in (ids[i : i + _HELD_CHUNK] for i in range(0, len(ids), _HELD_CHUNK))
    ]


def _held_sql(count: int, mark: str) -> str:
    marks = ", ".join([mark] * count)  # only placeholders: every value is bound
    return f"{_HELD_SELECT} {mark} AND origin_id IN ({marks})"


def _not_above_held(connection: Connection, node: str, ids: list[str]) -> list[str]:
    """Those of ``ids`` not above the greatest id held from ``node`` (SQLite only): the
    others cannot be held: none at all for a node nothing is held from yet (a first pull's
    first page), none of a page above all that is held (a peer's ids grow with time, but
    its pages need not follow them: each page of the benchmark's pull spans them all).
    SQLite compares text by its UTF-8 bytes, which order as Python orders a str;
    PostgreSQL's collation may not."""
    top = connection.exec_driver_sql(_TOP_HELD, (node,)).scalar()
    return [] if top is None else [id_ for id_ in ids if id_ <= top]


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


#: A held report's columns: a new report's but ``case_ref`` (not exchanged: left NULL), and
#: the origin's; then its times (``_times_bound``); then those a peer's report may leave
#: empty (``_OPTIONAL``), each only where a report of the batch has one, and a revoked
#: report's two only where one is revoked. SQLite's driver binds a NULL slower than SQLite
#: writes a row's text (it looks for an adapter, raising and clearing two AttributeErrors),
#: and most batches have no region and no revoked report.
_TIMES = ("valid_from", "valid_until", "first_seen", "last_seen", "created_at", "updated_at")
_OPTIONAL = ("description", "region")
_COLUMNS = (
    *(c for c in INSERT_COLUMNS if c not in {*_TIMES, *_OPTIONAL, "case_ref"}),
    "origin_node",
    "origin_id",
)
_REVOCATION = ("revoked_reason", "revoked_at")
#: Enum members as constants: in Python 3.11 ``Status.REVOKED`` goes through
#: ``EnumType.__getattr__``, several times the cost of a global.
_REVOKED = Status.REVOKED
_REPORT = itemgetter(1)
_STATUS = attrgetter("status")


def insert_held(session: Session, reports: Sequence[tuple[str, PeerReport]]) -> None:
    """Insert (local id, report) pairs through the driver (``bulk_insert``): a pull of
    100,000 reports would spend more in SQLAlchemy's per-value processing than in SQL.
    Times go as ``row_times`` text, as a bulk import's do; enums by ``str`` (a StrEnum's
    value, without the cost of ``.value``)."""
    if not reports:
        return
    sqlite = session.get_bind().dialect.name == "sqlite"
    when = row_times(sqlite)
    # What the batch needs is looked at in C (map, attrgetter, operator.is_not): a Python
    # expression per report would cost as much as what it spares.
    batch = list(map(_REPORT, reports))
    times, twins = _times_bound(batch, sqlite)
    optional = tuple(
        name for name in _OPTIONAL if any(map(is_not, map(attrgetter(name), batch), repeat(None)))
    )
    times_of, tail = _fields_of(times), _fields_of(optional)
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
            tags_column(r.tags),
            r.origin_node,
            r.origin_id,
            *map(when, times_of(r)),
            *tail(r),
        )
        for local_id, r in reports
    ]
    columns = (*_COLUMNS, *times, *optional)
    if any(map(is_, map(_STATUS, batch), repeat(_REVOKED))):
        rows = [row + _revocation(r, when) for row, r in zip(rows, batch, strict=True)]
        columns += _REVOCATION
    marks = None
    if twins:  # each bound value by its number; a twin by its bound one's
        marks = [f"?{n}" for n in range(1, len(columns) + 1)]
        marks += [f"?{columns.index(bound) + 1}" for bound in twins.values()]
        columns += tuple(twins)
    bulk_insert(session, "indicators", columns, rows, marks)


def _times_bound(batch: Sequence[PeerReport], sqlite: bool) -> tuple[list[str], dict[str, str]]:
    """The time fields each row binds, and the others' twins among them. On SQLite a time
    field that, in every report of the batch, is the very object another field is (the
    reader of a page makes one object of an instant, and a new report's five times but
    ``valid_until`` are often one) is not bound again: SQLite copies every text bound,
    at about the cost of writing it."""
    if not sqlite:
        return list(_TIMES), {}  # COPY takes whole rows
    bound: list[str] = []
    twins: dict[str, str] = {}
    for name in _TIMES:
        mine = attrgetter(name)
        twin = next(
            (b for b in bound if all(map(is_, map(mine, batch), map(attrgetter(b), batch)))), None
        )
        if twin is None:
            bound.append(name)
        else:
            twins[name] = twin
    return bound, twins


def _fields_of(names: Sequence[str]) -> Callable[[PeerReport], tuple[Any, ...]]:
    """A report's fields ``names`` as a tuple, got in C (no Python call per report):
    several by an attrgetter, none or one as a slice of the report's tuple."""
    if len(names) > 1:
        return attrgetter(*names)
    at = PeerReport._fields.index(names[0]) if names else 0
    return itemgetter(slice(at, at + len(names)))


def _revocation(r: PeerReport, when: Callable[[datetime], str]) -> tuple[str | None, ...]:
    if r.revoked_at is None:
        return (None, None)
    return (str(r.revoked_reason), when(r.revoked_at))
