"""`fraudx audit verify` on a real database that someone edited directly."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from fraudx.cli import run
from fraudx.node import Node
from fraudx.platform.agencies.model import Principal


@pytest.fixture
def audited(node: Node, admin: Principal, monkeypatch: pytest.MonkeyPatch) -> str:
    """A node with six audit entries; returns its database URL, set for the CLI."""
    for i in range(3):
        node.platform.agencies.add(admin, f"TH-A{i}", f"Agency {i}", "TH", "police")
        node.platform.tokens.create(admin, f"TH-A{i}", "analyst")
    url = node.settings.db_url
    monkeypatch.setenv("FRAUDX_DATABASE_URL", url)
    return url


def _sql(url: str, *statements: str) -> None:
    """Tamper as an intruder with the database owner's rights: the append-only triggers
    go first (SQLite: dropped; PostgreSQL: a replica session skips them)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET target = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
    ],
)
def test_the_database_refuses_changes_to_the_log(audited: str, statement: str) -> None:
    engine = create_engine(audited)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = run(["audit", "verify"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_intact_log_verifies(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _verify(capsys)
    assert code == 0
    assert "6 entries" in output


def test_edited_entry(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(audited, "UPDATE audit_log SET target = 'TH-EVIL' WHERE seq = 3")
    code, output = _verify(capsys)
    assert code != 0
    assert "entry 3" in output
    assert "changed" in output


def test_edited_actor(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(audited, "UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 5")
    code, output = _verify(capsys)
    assert code != 0
    assert "entry 5" in output


def test_deleted_entry(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(audited, "DELETE FROM audit_log WHERE seq = 2")
    code, output = _verify(capsys)
    assert code != 0
    assert "entry 2" in output
    assert "missing" in output


def test_deleted_last_entry(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    _sql(audited, "DELETE FROM audit_log WHERE seq = 6")
    code, output = _verify(capsys)
    assert code != 0
    assert "cut off" in output


def test_reordered_entries(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Swap the contents of entries 2 and 4 by swapping their sequence numbers.
    _sql(
        audited,
        "UPDATE audit_log SET seq = -1 WHERE seq = 2",
        "UPDATE audit_log SET seq = 2 WHERE seq = 4",
        "UPDATE audit_log SET seq = 4 WHERE seq = -1",
    )
    code, output = _verify(capsys)
    assert code != 0
    assert "entry 2" in output


def test_inserted_entry(audited: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Shift entries 4..6 up by one and forge a new entry 4 that copies entry 3's link.
    _sql(
        audited,
        "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 4",
        "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100",
        "INSERT INTO audit_log (seq, id, at, action, actor, role, detail, prev_hash, hash) "
        "SELECT 4, 'forged-id', at, 'agency.create', 'cli:intruder', 'admin', detail, hash, hash "
        "FROM audit_log WHERE seq = 3",
        "UPDATE audit_head SET seq = 7",
    )
    code, output = _verify(capsys)
    assert code != 0
    assert "entry 4 (forged-id)" in output
