"""The event outbox: changes others must hear about, written in the change's transaction.

A dispatcher reads events in ``seq`` order after the position it last saved and delivers
them (alerts, the look-up index, peers). Because the event commits or rolls back with the
change, a crash between commit and delivery loses nothing: delivery resumes from the saved
position. Consumers must be idempotent (each event has a stable ``id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from fraudx.platform.db import OUTBOX_WRITTEN, UTCDateTime, metadata

outbox = Table(
    "outbox",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("id", String(36), nullable=False, unique=True),
    Column("topic", String(80), nullable=False),
    Column("key", String(300)),
    # JSON, not JSONB, on PostgreSQL: nobody queries inside an event, and a bulk import's
    # events carry thousands of changes that JSONB would parse and rewrite for nothing.
    Column("payload", JSON(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_outbox_topic_seq", "topic", "seq"),
)

consumer_positions = Table(
    "consumer_positions",
    metadata,
    Column("consumer", String(120), primary_key=True),
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Any constant will do: it names the lock that orders outbox writers on PostgreSQL.
_OUTBOX_LOCK = 0x46524158


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    id: str
    topic: str
    key: str | None
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewEvent:
    id: str
    topic: str
    key: str | None
    payload: dict[str, Any]
    created_at: datetime


def emit(session: Session, events: Sequence[NewEvent]) -> tuple[int, int] | None:
    """Write events in the caller's transaction. Returns the first and last seq they were
    given if those are consecutive, nothing else between them; None otherwise or if there
    are none (a reader that had reached the seq before them may count them as read).

    On PostgreSQL, sequence values are handed out before commit, so a reader could see
    seq 11 committed while 10 is still in flight and skip 10 for ever. A transaction-scoped
    advisory lock makes outbox writers commit in seq order. SQLite has one writer anyway.
    """
    if not events:
        return None
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(OUTBOX_WRITTEN):
        # Once per transaction: a group commit's writes each emit, the lock is held anyway.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTBOX_LOCK})
    session.info[OUTBOX_WRITTEN] = True
    seqs = session.scalars(
        insert(outbox).returning(outbox.c.seq, sort_by_parameter_order=True),
        [
            {
                "id": e.id,
                "topic": e.topic,
                "key": e.key,
                "payload": e.payload,
                "created_at": e.created_at,
            }
            for e in events
        ],
    ).all()
    first, last = int(seqs[0]), int(seqs[-1])
    return (first, last) if last - first + 1 == len(seqs) else None


#: Payload bytes a consumer reads per pass at most (always at least one event). A bulk
#: import's events hold some 1.3 MB of changes each, several times that once parsed: a
#: consumer whose batch grew on small events must not then take fifty of those at once.
MAX_READ_BYTES = 4 << 20
_NO_BOUND = 2**62

# Hot statements, built once: every consumer runs these several times a second, and
# building a statement costs more than running it (SQLAlchemy then reuses its compiled
# form by the statement's cache key, which a prebuilt statement also keeps).
_AFTER = (
    select(outbox)
    .where(outbox.c.seq > bindparam("after"), outbox.c.seq <= bindparam("upto"))
    .order_by(outbox.c.seq)
)
_READ = _AFTER.limit(bindparam("limit"))
_READ_TOPICS = _AFTER.where(outbox.c.topic.in_(bindparam("topics", expanding=True))).limit(
    bindparam("limit")
)
_POSITION = select(consumer_positions.c.seq).where(
    consumer_positions.c.consumer == bindparam("consumer")
)
_SAVE: dict[str, Any] = {}
_SIZES: dict[tuple[str, bool], Any] = {}


def read_after(
    session: Session,
    seq: int,
    *,
    limit: int = 1000,
    topics: Sequence[str] | None = None,
    max_bytes: int = MAX_READ_BYTES,
) -> list[Event]:
    """Events after ``seq`` in order: at most ``limit``, and no more than ``max_bytes`` of
    payload beyond the first event (sizes are read first, without the payloads)."""
    params: dict[str, Any] = {"after": seq, "upto": _NO_BOUND, "limit": limit}
    if topics:
        params["topics"] = list(topics)
    last = _last_within(session, params, max_bytes)
    if last is not None:
        params["upto"] = last
    return [
        Event(int(m["seq"]), m["id"], m["topic"], m["key"], m["payload"], m["created_at"])
        for m in (r._mapping for r in session.execute(_READ_TOPICS if topics else _READ, params))
    ]


def has_after(session: Session, seq: int, topics: Sequence[str] | None = None) -> bool:
    """Whether any event follows ``seq``, asked without reading a payload (a bulk
    import's event carries thousands of changes)."""
    params: dict[str, Any] = {"after": seq, "upto": _NO_BOUND, "limit": 1}
    if topics:
        params["topics"] = list(topics)
    return session.execute(_sizes_statement(session, bool(topics)), params).first() is not None


#: The next ``limit`` events of one topic, as a subquery (a constant: spliced below).
_NEXT_EVENTS = (
    "(SELECT seq, payload FROM outbox WHERE seq > :after AND topic = :topic "
    "ORDER BY seq LIMIT :limit) AS e"
)
#: Fields of each item of each event's ``array``, read by the database's own JSON
#: functions: the array, the fields and the topic are bound, never spliced in.
_ITEM_FIELDS = {
    "sqlite": (
        "SELECT e.seq, json_extract(i.value, :first), json_extract(i.value, :second) "  # noqa: S608
        f"FROM {_NEXT_EVENTS}, json_each(e.payload, :array) AS i ORDER BY e.seq, i.key"
    ),
    "postgresql": (
        "SELECT e.seq, i.value ->> :first, i.value ->> :second "  # noqa: S608
        f"FROM {_NEXT_EVENTS} CROSS JOIN LATERAL json_array_elements(e.payload -> :array) "
        "WITH ORDINALITY AS i(value, n) ORDER BY e.seq, i.n"
    ),
}
_LAST_OF = f"SELECT max(seq) FROM {_NEXT_EVENTS}"  # noqa: S608  # a constant spliced in


def item_fields_after(
    session: Session, seq: int, topic: str, array: str, fields: tuple[str, str], limit: int
) -> tuple[list[tuple[Any, Any]], int | None]:
    """Two fields of every item in the ``array`` of each of the next ``limit`` events of
    ``topic`` after ``seq``, in order, and the last of those events' seq (None: no
    event). For a consumer that needs a few fields of each change: parsing a bulk
    import's payloads into Python objects cost it more than the rest of its work."""
    dialect = session.get_bind().dialect.name
    params: dict[str, Any] = {"after": seq, "topic": topic, "limit": limit}
    last = session.execute(text(_LAST_OF), params).scalar()
    if last is None:
        return [], None
    if dialect == "sqlite":
        paths = {"array": f"$.{array}", "first": f"$.{fields[0]}", "second": f"$.{fields[1]}"}
    else:
        paths = {"array": array, "first": fields[0], "second": fields[1]}
    rows = session.execute(text(_ITEM_FIELDS[dialect]), params | paths).all()
    return [(r[1], r[2]) for r in rows], int(last)


#: One top-level array of each of the next ``limit`` events of one topic, as JSON text
#: (NULL where an event has none); the key is bound, never spliced in.
_ARRAYS = {
    "sqlite": (
        "SELECT seq, json_extract(payload, :path) FROM outbox "
        "WHERE seq > :after AND topic = :topic ORDER BY seq LIMIT :limit"
    ),
    "postgresql": (
        "SELECT seq, (payload -> :path)::text FROM outbox "
        "WHERE seq > :after AND topic = :topic ORDER BY seq LIMIT :limit"
    ),
}


def arrays_after(
    session: Session, seq: int, topic: str, array: str, limit: int
) -> list[tuple[int, list[Any] | None]]:
    """(seq, the top-level ``array`` of its payload, None if it has none) for each of the
    next ``limit`` events of ``topic`` after ``seq``, in order. The database finds the
    array: a consumer that needs one short list of a bulk import's event does not parse
    its thousands of changes."""
    dialect = session.get_bind().dialect.name
    path = f"$.{array}" if dialect == "sqlite" else array
    params = {"after": seq, "topic": topic, "limit": limit, "path": path}
    rows = session.execute(text(_ARRAYS[dialect]), params).all()
    return [(int(seq_), orjson.loads(found) if found is not None else None) for seq_, found in rows]


def _last_within(session: Session, params: dict[str, Any], max_bytes: int) -> int | None:
    """The last seq of the events ``params`` select whose payloads fit in ``max_bytes``."""
    sizes = session.execute(_sizes_statement(session, "topics" in params), params).all()
    total = 0
    for i, (_, length) in enumerate(sizes):
        total += int(length or 0)
        if total > max_bytes and i > 0:
            return int(sizes[i - 1][0])
    return None


def _sizes_statement(session: Session, topics: bool) -> Any:
    dialect = session.get_bind().dialect.name
    statement = _SIZES.get((dialect, topics))
    if statement is None:
        if dialect == "postgresql":
            size = func.octet_length(cast(outbox.c.payload, Text))
        else:  # as a blob, SQLite counts bytes without scanning the text
            size = func.length(cast(outbox.c.payload, LargeBinary))
        statement = (_READ_TOPICS if topics else _READ).with_only_columns(outbox.c.seq, size)
        _SIZES[(dialect, topics)] = statement
    return statement


def last_seq(session: Session) -> int:
    value = session.execute(select(outbox.c.seq).order_by(outbox.c.seq.desc()).limit(1)).scalar()
    return int(value or 0)


def position(session: Session, consumer: str) -> int:
    value = session.execute(_POSITION, {"consumer": consumer}).scalar()
    return int(value or 0)


def _save_statement(dialect: str) -> Any:
    if dialect not in _SAVE:
        upsert = (pg_insert if dialect == "postgresql" else sqlite_insert)(consumer_positions)
        _SAVE[dialect] = upsert.on_conflict_do_update(
            index_elements=["consumer"],
            set_={"seq": upsert.excluded.seq, "updated_at": upsert.excluded.updated_at},
        )
    return _SAVE[dialect]


def save_position(session: Session, consumer: str, seq: int, when: datetime) -> None:
    statement = _save_statement(session.get_bind().dialect.name)
    session.execute(statement, {"consumer": consumer, "seq": seq, "updated_at": when})
