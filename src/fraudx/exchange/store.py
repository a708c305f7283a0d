"""Tables and queries of the exchange: published STIX objects, peers, cursors, approvals."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Boolean,
    Column,
    Index,
    String,
    Table,
    Text,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fraudx.exchange import stix
from fraudx.exchange.model import PageText
from fraudx.platform.agencies.store import agencies
from fraudx.platform.clock import sqlite_time_text
from fraudx.platform.db import JSONDoc, UTCDateTime, metadata
from fraudx.platform.memo import memo
from fraudx.registry.store import indicators

#: The node's own reports as STIX, one row per object (its latest version), in the
#: order they were (re)published: ``date_added`` is strictly increasing, so that it is
#: both the TAXII ``added_after`` filter and the cursor of paging.
exchange_objects = Table(
    "exchange_objects",
    metadata,
    Column("stix_id", String(80), primary_key=True),
    Column("indicator_id", String(36), nullable=False),
    Column("sharing_group", String(40), nullable=False),
    Column("tlp", String(12), nullable=False),
    Column("category", String(40), nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("modified", UTCDateTime(), nullable=False),
    Column("date_added", UTCDateTime(), nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_exchange_objects_sharing_group_date_added", "sharing_group", "date_added"),
)

exchange_peers = Table(
    "exchange_peers",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("url", String(500), nullable=False),
    Column("token", Text, nullable=False),  # encrypted with a key derived from the node key
    Column("public_key", String(100), nullable=False),
    Column("groups", String(400)),
    Column("node_id", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_sync_at", UTCDateTime()),
    Column("last_error", Text),
)

exchange_cursors = Table(
    "exchange_cursors",
    metadata,
    Column("peer", String(64), primary_key=True),
    Column("collection", String(64), primary_key=True),
    Column("added_after", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

exchange_approvals = Table(
    "exchange_approvals",
    metadata,
    Column("indicator_id", String(36), primary_key=True),
    Column("approved_by", String(200), nullable=False),
    Column("approved_at", UTCDateTime(), nullable=False),
)

exchange_statuses = Table(
    "exchange_statuses",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("body", JSONDoc, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    url: str
    token: str  # as stored (encrypted)
    public_key: str
    groups: tuple[str, ...] | None
    node_id: str | None
    created_at: datetime
    last_sync_at: datetime | None
    last_error: str | None


class Published(NamedTuple):
    """A report as STIX, to be stored (a tuple: made 100,000 times a bulk publish)."""

    stix_id: str
    indicator_id: str
    sharing_group: str
    tlp: str
    category: str
    approved: bool
    modified: datetime
    body: str


@dataclass(frozen=True, slots=True)
class ObjectQuery:
    """A TAXII objects or manifest request, with the policy's grant folded in."""

    group: str
    tlps: tuple[str, ...]
    categories: tuple[str, ...] | None
    approved_only: bool
    added_after: datetime | None = None
    ids: tuple[str, ...] | None = None
    versions: tuple[datetime, ...] | None = None  # ``modified`` times wanted
    limit: int = 1000


def _upsert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def last_added(session: Session) -> datetime | None:
    """The latest ``date_added``: the latest of each sharing group's, the groups (a few)
    walked one by one through their index, which has no other index to keep up to date."""
    value: datetime | None = session.execute(_LAST_ADDED).scalar()
    return value


# A loose index scan: each group is the least one after the one before.
_LAST_ADDED = sql_text(
    "WITH RECURSIVE g(name) AS ("
    " SELECT min(sharing_group) FROM exchange_objects"
    " UNION ALL SELECT (SELECT min(sharing_group) FROM exchange_objects"
    " WHERE sharing_group > g.name) FROM g WHERE g.name IS NOT NULL)"
    " SELECT max((SELECT max(date_added) FROM exchange_objects"
    " WHERE sharing_group = g.name)) AS last FROM g WHERE g.name IS NOT NULL"
).columns(column("last", UTCDateTime()))


def publish(session: Session, objects: Sequence[Published], now: datetime) -> None:
    """Insert or replace objects, each with a ``date_added`` later than any before."""
    if not objects:
        return
    last = last_added(session)
    stamp = now if last is None or now > last else last + TICK
    if session.get_bind().dialect.name == "sqlite":
        _publish_sqlite(session, objects, stamp)
        return
    rows = [
        {
            "stix_id": obj.stix_id,
            "indicator_id": obj.indicator_id,
            "sharing_group": obj.sharing_group,
            "tlp": obj.tlp,
            "category": obj.category,
            "approved": obj.approved,
            "modified": obj.modified,
            "date_added": stamp + i * TICK,
            "body": obj.body,
        }
        for i, obj in enumerate(objects)
    ]
    statement = _upsert(session, exchange_objects)
    statement = statement.on_conflict_do_update(
        index_elements=["stix_id"],
        set_={c: statement.excluded[c] for c in _COLUMNS[1:]},
    )
    session.execute(statement, rows)


_COLUMNS: tuple[str, ...] = ("stix_id", "indicator_id", "sharing_group", "tlp", "category")
_COLUMNS += ("approved", "modified", "date_added", "body")
# Column names are constants and every value is bound: nothing to inject.
_SQLITE_UPSERT = (
    f"INSERT INTO exchange_objects ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) ON CONFLICT (stix_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
)


def _publish_sqlite(session: Session, objects: Sequence[Published], stamp: datetime) -> None:
    """Through the driver: SQLAlchemy's per-value processing would cost more than SQLite.
    Times are written as the text SQLAlchemy's SQLite DateTime writes (naive UTC)."""
    text = memo(sqlite_time_text)  # a batch's reports share a few instants
    session.connection().exec_driver_sql(
        _SQLITE_UPSERT,
        [
            (
                obj.stix_id,
                obj.indicator_id,
                obj.sharing_group,
                obj.tlp,
                obj.category,
                1 if obj.approved else 0,
                text(obj.modified),
                added,
                obj.body,
            )
            for obj, added in zip(objects, _ticks_text(stamp, len(objects)), strict=True)
        ],
    )


def _ticks_text(first: datetime, count: int) -> list[str]:
    """``sqlite_time_text`` of ``count`` instants a ``TICK`` apart from ``first``: each
    second written once and its microseconds after it (a datetime and its text for each
    instant were a tenth of storing an object)."""
    texts: list[str] = []
    second = first.astimezone(UTC).replace(tzinfo=None)
    micro = second.microsecond
    second = second.replace(microsecond=0)
    while len(texts) < count:
        prefix = second.isoformat(" ", "seconds") + "."
        end = min(1_000_000, micro + count - len(texts))
        texts += [f"{prefix}{us:06d}" for us in range(micro, end)]
        second, micro = second + timedelta(seconds=1), 0
    return texts


#: The registry columns a published indicator is made of (``stix.REPORT_FIELDS``, then
#: its agency's kind and name).
PUBLISHED_COLUMNS = stix.REPORT_FIELDS[:-2]
# The ids come as one JSON array: binding 5,000 parameters cost more than reading it.
# Joined rather than ``id IN``, which would first copy them into an index of its own; so
# the reports come in the array's order.
_REPORTS_SQL = (
    f"SELECT {', '.join(f'r.{c}' for c in PUBLISHED_COLUMNS)} "  # noqa: S608
    "FROM json_each(?) AS j CROSS JOIN indicators AS r ON r.id = j.value"
)


def reports_to_publish(session: Session, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """The registry rows of ``ids`` with their agency's kind and name, as rows of
    ``stix.REPORT_FIELDS`` (tuples: a dict of each cost more than making its object). On
    SQLite through the driver itself, times as its text (``stix.timestamp_of_sqlite``
    writes them): SQLAlchemy's rows and six time conversions a row were a fifth of
    publishing. The agencies, a few, are read once rather than joined to every row."""
    if session.get_bind().dialect.name == "sqlite":
        driver = session.connection().connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        # In the order of their ids, each once, as ``IN`` gave them (publishing numbers
        # them in this order).
        ordered = orjson.dumps(sorted(set(ids))).decode()
        rows = driver.execute(_REPORTS_SQL, (ordered,)).fetchall()
        codes = list({row[3] for row in rows})  # agency_code
        of_agency = {
            code: (kind, name)
            for code, kind, name in driver.execute(
                f"SELECT code, kind, name FROM agencies WHERE code IN ({_marks(codes)})",  # noqa: S608
                codes,
            )
        }
        return [row + of_agency[row[3]] for row in rows]
    c = indicators.c
    query = (
        select(
            *(c[name] for name in PUBLISHED_COLUMNS),
            agencies.c.kind.label("agency_kind"),
            agencies.c.name.label("agency_name"),
        )
        .join(agencies, agencies.c.code == c.agency_code)
        .where(c.id.in_(list(ids)))
    )
    return [tuple(row) for row in session.execute(query)]


def approved_ids(session: Session, indicator_ids: Sequence[str]) -> set[str]:
    if not indicator_ids:
        return set()
    query = select(exchange_approvals.c.indicator_id).where(
        exchange_approvals.c.indicator_id.in_(list(indicator_ids))
    )
    return set(session.execute(query).scalars())


def approve(session: Session, indicator_id: str, stix_id: str, by: str, now: datetime) -> None:
    """Record the approval, and re-publish the report's object (``stix_id``, its STIX id:
    objects are looked up by that key, the only index publishing writes at random)."""
    session.execute(
        _upsert(session, exchange_approvals)
        .values(indicator_id=indicator_id, approved_by=by, approved_at=now)
        .on_conflict_do_nothing()
    )
    last = last_added(session)
    stamp = now if last is None or now > last else last + TICK
    # Re-published: peers that pull after their cursor find it now.
    session.execute(
        update(exchange_objects)
        .where(exchange_objects.c.stix_id == stix_id)
        .values(approved=True, date_added=stamp)
    )


def select_objects(
    session: Session, query: ObjectQuery
) -> list[tuple[str, str, datetime, datetime]]:
    """(stix id, body, date_added, modified) of matching objects in ``date_added`` order; one more
    than ``limit`` so that the caller knows whether there are more."""
    if session.get_bind().dialect.name == "sqlite":
        where, params = _where_sqlite(query)
        cursor = session.connection().exec_driver_sql(
            "SELECT stix_id, body, date_added, modified FROM exchange_objects "  # noqa: S608
            f"WHERE {where} ORDER BY date_added LIMIT ?",
            (*params, query.limit + 1),
        )
        # Through the driver: SQLAlchemy's rows and its two time conversions a row took
        # half the time of serving a page of 5,000.
        modified_of = memo(_utc)  # a page's reports share a few instants
        return [(r[0], r[1], _utc(r[2]), modified_of(r[3])) for r in cursor]
    c = exchange_objects.c
    statement = select(c.stix_id, c.body, c.date_added, c.modified).where(*_where(query))
    statement = statement.order_by(c.date_added).limit(query.limit + 1)
    return [(r[0], r[1], r[2], r[3]) for r in session.execute(statement)]


def select_text(session: Session, query: ObjectQuery) -> PageText:
    """``select_objects``'s page with its bodies joined by the database: a page of 5,000
    objects is 6 MB of text, and 5,000 rows made in Python cost twice as much."""
    if session.get_bind().dialect.name == "sqlite":
        where, params = _where_sqlite(query)
        # A subquery with LIMIT is not flattened: group_concat reads it in its order. As
        # a BLOB: the UTF-8 bytes as they are, which the driver would decode into a str
        # for the response to encode again (a fifth of serving a page).
        text, count, first, last = (
            session.connection()
            .exec_driver_sql(
                "SELECT CAST(group_concat(body, ',') AS BLOB), count(*), min(date_added), "  # noqa: S608
                "max(date_added) FROM (SELECT body, date_added FROM exchange_objects "
                f"WHERE {where} ORDER BY date_added LIMIT ?)",
                (*params, query.limit),
            )
            .one()
        )
        if not count:
            return PageText(b"", 0, None, None, False)
        more = (
            session.connection()
            .exec_driver_sql(
                f"SELECT 1 FROM exchange_objects WHERE {where} AND date_added > ? LIMIT 1",  # noqa: S608
                (*params, last),
            )
            .first()
        )
        return PageText(text, count, _utc(first), _utc(last), more is not None)
    c = exchange_objects.c
    page = (
        select(c.body, c.date_added)
        .where(*_where(query))
        .order_by(c.date_added)
        .limit(query.limit)
        .subquery()
    )
    text, count, first, last = session.execute(
        select(
            func.convert_to(
                func.string_agg(page.c.body, aggregate_order_by(literal(","), page.c.date_added)),
                "UTF8",
            ),
            func.count(),
            func.min(page.c.date_added),
            func.max(page.c.date_added),
        )
    ).one()
    if not count:
        return PageText(b"", 0, None, None, False)
    more = session.execute(
        select(c.stix_id).where(*_where(query), c.date_added > last).limit(1)
    ).first()
    return PageText(text, count, first, last, more is not None)


def _where(query: ObjectQuery) -> list[Any]:
    c = exchange_objects.c
    where = [c.sharing_group == query.group, c.tlp.in_(query.tlps)]
    if query.categories is not None:
        where.append(c.category.in_(query.categories))
    if query.approved_only:
        where.append(c.approved.is_(True))
    if query.added_after is not None:
        where.append(c.date_added > query.added_after)
    if query.ids is not None:
        where.append(c.stix_id.in_(query.ids))
    if query.versions is not None:
        where.append(c.modified.in_(query.versions))
    return where


def _where_sqlite(query: ObjectQuery) -> tuple[str, list[Any]]:
    """``_where`` as SQL for the driver. Times are SQLAlchemy's naive-UTC text there, and
    compared as text."""
    where = ["sharing_group = ?", f"tlp IN ({_marks(query.tlps)})"]
    params: list[Any] = [query.group, *query.tlps]
    if query.categories is not None:
        where.append(f"category IN ({_marks(query.categories)})")
        params += query.categories
    if query.approved_only:
        where.append("approved = 1")
    if query.added_after is not None:
        where.append("date_added > ?")
        params.append(sqlite_time_text(query.added_after))
    if query.ids is not None:
        where.append(f"stix_id IN ({_marks(query.ids)})")
        params += query.ids
    if query.versions is not None:
        where.append(f"modified IN ({_marks(query.versions)})")
        params += [sqlite_time_text(v) for v in query.versions]
    return " AND ".join(where), params


def _marks(values: Sequence[object]) -> str:
    # Only placeholders go into the SQL: every value is bound.
    return ", ".join("?" * len(values))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _peer(row: Any) -> Peer:
    m = row._mapping
    groups = tuple(g for g in (m["groups"] or "").split(",") if g) or None
    return Peer(
        m["name"],
        m["url"],
        m["token"],
        m["public_key"],
        groups,
        m["node_id"],
        m["created_at"],
        m["last_sync_at"],
        m["last_error"],
    )


def add_peer(session: Session, peer: Peer) -> None:
    session.execute(
        insert(exchange_peers).values(
            name=peer.name,
            url=peer.url,
            token=peer.token,
            public_key=peer.public_key,
            groups=",".join(peer.groups) if peer.groups else None,
            node_id=peer.node_id,
            created_at=peer.created_at,
        )
    )


def get_peer(session: Session, name: str) -> Peer | None:
    row = session.execute(select(exchange_peers).where(exchange_peers.c.name == name)).first()
    return _peer(row) if row else None


def list_peers(session: Session) -> list[Peer]:
    return [
        _peer(r) for r in session.execute(select(exchange_peers).order_by(exchange_peers.c.name))
    ]


def remove_peer(session: Session, name: str) -> bool:
    session.execute(delete(exchange_cursors).where(exchange_cursors.c.peer == name))
    result = session.execute(delete(exchange_peers).where(exchange_peers.c.name == name))
    return bool(getattr(result, "rowcount", 0))


def note_sync(
    session: Session, name: str, when: datetime, error: str | None, node_id: str | None
) -> None:
    values: dict[str, Any] = {"last_error": error}
    if error is None:
        values["last_sync_at"] = when
    if node_id:
        values["node_id"] = node_id
    session.execute(update(exchange_peers).where(exchange_peers.c.name == name).values(values))


def cursor(session: Session, peer: str, collection: str) -> datetime | None:
    value: datetime | None = session.execute(
        select(exchange_cursors.c.added_after).where(
            exchange_cursors.c.peer == peer, exchange_cursors.c.collection == collection
        )
    ).scalar()
    return value


def save_cursor(
    session: Session, peer: str, collection: str, added_after: datetime, now: datetime
) -> None:
    statement = _upsert(session, exchange_cursors).values(
        peer=peer, collection=collection, added_after=added_after, updated_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["peer", "collection"],
            set_={"added_after": added_after, "updated_at": now},
        )
    )


def save_status(session: Session, id_: str, body: dict[str, Any], now: datetime) -> None:
    session.execute(insert(exchange_statuses).values(id=id_, body=body, created_at=now))


def get_status(session: Session, id_: str) -> dict[str, Any] | None:
    value = session.execute(
        select(exchange_statuses.c.body).where(exchange_statuses.c.id == id_)
    ).scalar()
    return dict(value) if value is not None else None
