"""The database: engines, sessions and the column types every store shares.

SQLite (WAL, one file) is the embedded default; PostgreSQL is production. SQLite allows
one writer at a time, so write transactions begin with ``BEGIN IMMEDIATE``: a writer
waits for the lock up front instead of failing half-way when it upgrades a read lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from fraudx.platform.errors import ConfigurationError
from fraudx.platform.turns import WriteTurns

#: Every store registers its tables here; Alembic compares migrations against it.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; FraudX stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON documents: JSONB on PostgreSQL (indexable), JSON text elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


def _json_serializer(value: Any) -> str:
    # orjson both ways: outbox events of bulk imports carry thousands of changes each,
    # and every alert delivery reads its body back.
    return orjson.dumps(value, default=str).decode("utf-8")


class Bell:
    """Rings after a transaction that wrote outbox events commits, so that consumers in
    the same process (look-up index, alert dispatcher) wake at once instead of polling.
    Consumers in other processes poll; the bell only makes local delivery faster."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` (from any thread) on each ring; returns the unsubscriber."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock, suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def ring(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


#: Set in a session's ``info`` by outbox writers: ring the bell after commit.
OUTBOX_WRITTEN = "fraudx.outbox_written"
#: SQLite's memory (page caches above all) across every connection of the process.
SQLITE_HEAP_LIMIT = 96 << 20


class Database:
    """Engines and transaction scopes for one node's database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigurationError(
                f"FRAUDX_DATABASE_URL: unsupported database {self.dialect!r}; "
                "use sqlite:///path or postgresql+psycopg://user@host/db"
            )
        if self.dialect == "sqlite":
            self._prepare_sqlite_file()
            self.writer = self._sqlite_engine(begin="BEGIN IMMEDIATE", echo=echo)
            self.reader = self._sqlite_engine(begin="BEGIN", echo=echo)
        else:
            self.writer = create_engine(
                self.url,
                echo=echo,
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                json_serializer=_json_serializer,
                json_deserializer=orjson.loads,
            )
            self.reader = self.writer
        self.bell = Bell()
        self._turns = WriteTurns() if self.dialect == "sqlite" else None
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)

    def _prepare_sqlite_file(self) -> None:
        database = self.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

    def _sqlite_engine(self, *, begin: str, echo: bool) -> Engine:
        in_memory = self.url.database in (None, "", ":memory:")
        engine = create_engine(
            self.url,
            echo=echo,
            json_serializer=_json_serializer,
            json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False, "timeout": 30},
            # A pool of file connections; an in-memory database must keep one connection.
            poolclass=None if not in_memory else NullPool,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is too late).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # 64 MB of page cache (the default is 2 MB): bulk imports insert into indexes
            # in random order, and a small cache turns each insert into page reads.
            cursor.execute("PRAGMA cache_size=-65536")
            # ... but all connections of the process together keep at most this much: a
            # serving node's pools hold a dozen connections, and each one's cache, filled
            # by the writes of a busy hour, would otherwise stay full for good.
            cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_HEAP_LIMIT}")
            # Checkpoint at 40 MB of WAL, not SQLite's 4 MB: a bulk write (an import
            # chunk, a STIX publishing pass) is several MB, and at 4 MB every commit also
            # copied its pages into the database file, index pages it would rewrite at the
            # next commit among them (publishing 100,000 objects: ~6 % faster).
            cursor.execute("PRAGMA wal_autocheckpoint=10000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(begin)

        return engine

    @contextmanager
    def write(self, urgent: bool = False) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error.
        ``urgent``: on SQLite, go before other threads' ordinary writes (``turns``)."""
        # SQLite has one writer: threads of this process take turns (other processes
        # still meet the busy timeout). PostgreSQL needs no turns.
        turn = self._turns.turn(urgent) if self._turns is not None else nullcontext()
        with turn, self._write_sessions.begin() as session:
            yield session
            rings = session.info.pop(OUTBOX_WRITTEN, False)
        if rings:
            self.bell.ring()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (a consistent snapshot on both backends)."""
        with self._read_sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
