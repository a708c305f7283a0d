"""Storage fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is used when FRAUDX_TEST_POSTGRES_URL is set or a server answers on
127.0.0.1:5432. Each test run creates its own database (migrated once), empties it
between tests, and drops it at the end. Without a server the PostgreSQL cases skip with
the reason, unless FRAUDX_TEST_REQUIRE_POSTGRES=1 (CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from fraudx.app import create_app
from fraudx.node import Node
from fraudx.platform import schema
from fraudx.platform.agencies.model import AgencyKind, Principal, Role, operator
from fraudx.platform.clock import ManualClock
from fraudx.platform.db import Database
from fraudx.platform.ids import IdFactory
from fraudx.platform.settings import Settings

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _pg_reachable(url: str) -> bool:
    parsed = make_url(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated, dropped afterwards."""
    admin_url = os.environ.get("FRAUDX_TEST_POSTGRES_URL", DEFAULT_PG)
    if not _pg_reachable(admin_url):
        reason = f"PostgreSQL not reachable at {make_url(admin_url).render_as_string()}"
        if os.environ.get("FRAUDX_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " and FRAUDX_TEST_REQUIRE_POSTGRES=1")
        pytest.skip(reason)
    name = f"fraudx_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies: migrating per test would be slow."""
    path = tmp_path_factory.mktemp("template") / "fraudx.sqlite3"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        # The audit log refuses TRUNCATE by trigger; a replica session skips triggers.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "fraudx.sqlite3"
        shutil.copy(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        node_id="test-th",
        country="TH",
        timezone="Asia/Bangkok",
        token_cache_seconds=0,
    )


@pytest.fixture
def node(settings: Settings, clock: ManualClock) -> Iterator[Node]:
    node = Node.open(settings, clock=clock, ids=IdFactory(clock))
    node.platform.ensure_schema()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture
def admin() -> Principal:
    return operator("test")


@dataclass
class Agencies:
    """A small region: police, a regulator, a bank, a telco and an observer."""

    node: Node

    def add_defaults(self) -> None:
        platform, admin = self.node.platform, operator("test")
        for code, country, kind in [
            ("TH-CCIB", "TH", AgencyKind.POLICE),
            ("TH-NBTC", "TH", AgencyKind.REGULATOR),
            ("TH-KBANK", "TH", AgencyKind.BANK),
            ("TH-AIS", "TH", AgencyKind.TELCO),
            ("KH-GCNP", "KH", AgencyKind.POLICE),
            ("TH-UNODC", "TH", AgencyKind.OBSERVER),
        ]:
            platform.agencies.add(admin, code, f"{code} agency", country, kind.value)

    def token(self, agency: str, role: Role | str) -> str:
        role_value = role.value if isinstance(role, Role) else role
        return self.node.platform.tokens.create(operator("test"), agency, role_value).secret

    def principal(self, agency: str, role: Role) -> Principal:
        return self.node.platform.tokens.authenticate(self.token(agency, role), "127.0.0.1")


@pytest.fixture
def agencies(node: Node) -> Agencies:
    registry = Agencies(node)
    registry.add_defaults()
    return registry


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(node=node), raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
