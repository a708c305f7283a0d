"""A hard kill during delivery: after a restart every alert reaches the receiver."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.settings import Settings
from tests.alerts.helpers import ACCOUNT, SECRET, Receiver
from tests.conftest import Agencies, bearer

N = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    fraudx = Path(sys.executable).with_name("fraudx")
    process = subprocess.Popen(
        [str(fraudx), "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("fraudx serve did not start: " + log.read_text())


def _wait(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_kill_9_mid_delivery_then_restart_delivers_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    url = f"sqlite:///{home / 'fraudx.sqlite3'}"
    node = Node.open(Settings(home=home, database_url=url, token_cache_seconds=0))
    node.platform.ensure_schema()
    agencies = Agencies(node)
    agencies.add_defaults()
    bank, police = (
        bearer(agencies.token("TH-KBANK", Role.PARTNER)),
        bearer(agencies.token("TH-CCIB", Role.ANALYST)),
    )
    node.close()

    receiver = Receiver(delay=0.05)  # slow enough to be killed half-way
    env = os.environ | {
        "FRAUDX_HOME": str(home),
        "FRAUDX_DATABASE_URL": url,
        "FRAUDX_ALERT_RETRY_SECONDS": "0.2",
    }
    env.pop("FRAUDX_NATS_URL", None)
    port = _free_port()
    log = tmp_path / "serve.log"
    api = f"http://127.0.0.1:{port}/api/v1"
    server = _serve(env, port, log)
    try:
        channel = {"type": "webhook", "url": receiver.url, "secret": SECRET}
        assert httpx.post(
            f"{api}/subscriptions", json={"channel": channel}, headers=bank
        ).is_success
        with httpx.Client(headers=police) as client:
            for i in range(N):
                body = {**ACCOUNT, "value": f"TH:KBANK:100-0-{i:05d}-0"}
                assert client.post(f"{api}/indicators", json=body).is_success
        assert _wait(lambda: len(receiver.received) >= 5, 20), log.read_text()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        got_before = len(set(receiver.alert_ids()))
        assert got_before < N, "the kill came too late to test anything"

        server = _serve(env, port, log)
        assert _wait(lambda: len(set(receiver.alert_ids())) >= N, 30), log.read_text()
        alerts = httpx.get(f"{api}/alerts?limit=1000", headers=bank).json()["items"]
        assert len(alerts) == N
        assert set(receiver.alert_ids()) == {a["id"] for a in alerts}  # none missing
        assert receiver.refused == []
    finally:
        server.kill()
        server.wait(10)
        receiver.close()
