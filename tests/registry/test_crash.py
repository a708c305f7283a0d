"""A node killed hard in the middle of an import loses nothing it acknowledged, and its
look-up index agrees with its database after the restart."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.settings import Settings
from tests.conftest import Agencies

HEADER = "kind,value,category,confidence\n"


def _phone(n: int) -> str:
    return f"+6681{n:07d}"  # Thai mobile numbers: all valid


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FRAUDX_HOME": str(settings.home),
        "FRAUDX_DATABASE_URL": settings.db_url,
        "FRAUDX_NODE_ID": "crash-test",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "fraudx", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError("the node did not start")


def _slow_body(start: int, count: int) -> Iterator[bytes]:
    yield HEADER.encode()
    for first in range(start, start + count, 1000):
        yield "".join(
            f"phone,{_phone(n)},scam_call,70\n" for n in range(first, first + 1000)
        ).encode()
        time.sleep(0.03)


def _listed(base: str, token: str, values: list[str]) -> list[bool]:
    answers: list[bool] = []
    for i in range(0, len(values), 10_000):
        items = [{"kind": "phone", "value": v} for v in values[i : i + 10_000]]
        response = httpx.post(
            f"{base}/api/v1/lookup",
            json={"items": items},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        answers += [r["listed"] for r in response.json()["results"]]
    return answers


def test_kill_during_import_loses_nothing_acknowledged(
    node: Node, agencies: Agencies, settings: Settings
) -> None:
    analyst = agencies.token("TH-CCIB", Role.ANALYST)
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    bank = agencies.token("TH-KBANK", Role.PARTNER)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {analyst}", "Content-Type": "text/csv"}
    server = _serve(settings, port)
    try:
        acknowledged = httpx.post(
            f"{base}/api/v1/indicators/import",
            content=HEADER + "".join(f"phone,{_phone(n)},scam_call,80\n" for n in range(3000)),
            headers=headers,
            timeout=60,
        ).json()
        assert acknowledged["accepted"] == 3000

        def second_import() -> None:
            # Never answered: the node dies under it.
            with pytest.raises(httpx.TransportError):
                httpx.post(
                    f"{base}/api/v1/indicators/import",
                    content=_slow_body(100_000, 80_000),
                    headers=headers,
                    timeout=60,
                )

        sender = threading.Thread(target=second_import)
        sender.start()
        filters = node.registry.search_filter(kind="phone")
        deadline = time.monotonic() + 60
        while node.registry.count(police, filters) <= 3000 and time.monotonic() < deadline:
            time.sleep(0.05)  # until some of the second import is committed
        server.kill()
        server.wait(10)
        sender.join(30)
    finally:
        if server.poll() is None:
            server.kill()

    stored = {i.identifier.value for i in node.registry.export(police, filters)}
    assert 3000 < len(stored) < 83_000, "the kill did not land mid-import"
    restarted = _serve(settings, port)
    try:
        # Every acknowledged row is there ...
        first = [_phone(n) for n in range(3000)]
        assert all(_listed(base, bank, first))
        # ... and the rebuilt index answers exactly what the database holds.
        second = [_phone(n) for n in range(100_000, 180_000)]
        answers = _listed(base, bank, second)
        assert {v for v, hit in zip(second, answers, strict=True) if hit} == stored - set(first)
    finally:
        restarted.terminate()
        restarted.wait(30)


def test_no_worker_processes_outlive_a_killed_node() -> None:
    """The import's worker processes leave with the node (no orphans eating the CPU)."""
    import psutil

    mine = psutil.Process()
    orphans = [
        p
        for p in psutil.process_iter(["ppid", "cmdline"])
        if p.info["ppid"] == 1
        and "multiprocessing" in " ".join(p.info["cmdline"] or [])
        and p.pid != mine.pid
    ]
    deadline = time.monotonic() + 10
    while orphans and time.monotonic() < deadline:
        orphans = [p for p in orphans if p.is_running()]
        time.sleep(0.2)
    assert not orphans, [p.info["cmdline"] for p in orphans]
