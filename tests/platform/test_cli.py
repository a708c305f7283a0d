"""The command line as an administrator uses it: exact forms, one-line errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fraudx.cli import run


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    monkeypatch.setenv("FRAUDX_HOME", str(tmp_path / "node"))
    return tmp_path / "node"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_documented_forms(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "db", "upgrade")[0] == 0
    assert (home / "fraudx.sqlite3").exists()
    code, out, _ = _run(
        capsys,
        "agency", "add", "TH-CCIB", "--name", "Cyber Crime Investigation Bureau",
        "--country", "TH", "--kind", "police", "--timezone", "Asia/Bangkok",
    )  # fmt: skip
    assert code == 0, out
    code, out, _ = _run(capsys, "agency", "list")
    assert "TH-CCIB" in out
    assert "Asia/Bangkok" in out
    code, out, _ = _run(capsys, "token", "create", "--agency", "TH-CCIB", "--role", "analyst")
    assert code == 0
    token = out.strip()
    assert out == token + "\n"  # the token alone on stdout, for TOKEN=$(...)
    assert token.startswith("fxt_")
    code, out, _ = _run(capsys, "token", "list")
    assert token not in out
    token_id = next(line.split()[1] for line in out.splitlines() if "TH-CCIB" in line)
    code, out, _ = _run(capsys, "token", "revoke", token_id)
    assert code == 0
    assert "revoked" in out
    code, out, _ = _run(capsys, "audit", "verify")
    assert code == 0
    assert "3 entries" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["agency", "add", "TH-X", "--name", "X", "--country", "XX", "--kind", "police"],
         "country"),
        (["token", "create", "--agency", "TH-NONE", "--role", "analyst"], "no agency TH-NONE"),
        (["token", "revoke", "no-such-id"], "no token"),
        (["agency", "add", "TH-X", "--name", "X", "--country", "TH", "--kind", "army"], "army"),
    ],
)  # fmt: skip
def test_errors_are_one_line_without_traceback(
    home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capsys, *argv)
    assert code != 0
    assert message in err
    assert "Traceback" not in err + out
    assert len([line for line in err.splitlines() if line.strip()]) <= 6  # usage box at most


def test_bad_setting_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAUDX_COUNTRY", "Atlantis")
    code, _, err = _run(capsys, "agency", "list")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "FRAUDX_COUNTRY" in err


def test_unreachable_database_is_one_line(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAUDX_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    code, _, err = _run(capsys, "agency", "list")
    assert code == 1
    assert err.startswith("error: database")
    assert "Traceback" not in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_healthz_on_an_empty_database(tmp_path: Path) -> None:
    """`fraudx serve` as a real process: it creates the schema itself and answers."""
    port = _free_port()
    env = {**os.environ, "FRAUDX_HOME": str(tmp_path / "served")}
    env.pop("FRAUDX_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "fraudx", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.stdout else ""
                    pytest.fail(f"server did not come up: {output}")
                time.sleep(0.2)
        assert response.json()["status"] == "ok"
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_serve_refuses_a_taken_port(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = _run(capsys, "serve", "--port", str(port))
    assert code == 1
    assert f"127.0.0.1:{port}" in err


def test_demo_seeds_agencies_and_a_token_per_role(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    home = tmp_path / "demo"
    code, _, err = _run(capsys, "demo", "--home", str(home), "--no-serve")
    assert code == 0, err
    for role in ("admin", "analyst", "liaison", "partner", "observer"):
        assert f"    {role}" in err
    # A second run keeps the data, revokes the old demo tokens and prints new ones.
    first = {line.split()[-1] for line in err.splitlines() if "fxt_" in line and "curl" not in line}
    code, _, err = _run(capsys, "demo", "--home", str(home), "--no-serve")
    second = {
        line.split()[-1] for line in err.splitlines() if "fxt_" in line and "curl" not in line
    }
    assert code == 0
    assert len(first) == len(second) == 5
    assert not first & second


def test_demo_carries_its_own_older_database_forward(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo made by an earlier FraudX is upgraded, not refused: `fraudx db upgrade`
    alone would look at the default home, not the demo's."""
    from fraudx.platform import schema
    from fraudx.platform.db import Database

    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    home = tmp_path / "demo"
    home.mkdir()
    db = Database(f"sqlite:///{home / 'fraudx.sqlite3'}")
    schema.upgrade(db, "0005")
    db.dispose()
    code, _, err = _run(capsys, "demo", "--home", str(home), "--no-serve")
    assert code == 0, err
    db = Database(f"sqlite:///{home / 'fraudx.sqlite3'}")
    assert schema.state(db).up_to_date
    db.dispose()


def _printed_tokens(output: str) -> set[str]:
    lines = output.splitlines()
    return {line.split()[-1] for line in lines if "fxt_" in line and "curl" not in line}
