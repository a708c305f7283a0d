"""Federation fixtures: extra nodes on SQLite files, peering, real servers on free ports."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from fraudx.app import create_app
from fraudx.exchange.demo import LEAD
from fraudx.exchange.sync import Syncer
from fraudx.node import Node
from fraudx.platform.agencies.model import Principal, Role, operator
from fraudx.platform.settings import Settings

OPERATOR = operator("test")


def open_node(template: Path, tmp: Path, name: str, country: str, **kw: Any) -> Node:
    """A node on its own SQLite file, with its country's lead agency and an analyst."""
    home = tmp / name
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, home / "fraudx.sqlite3")
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'fraudx.sqlite3'}",
        node_id=name,
        country=country,
        token_cache_seconds=0,
    )
    node = Node.open(settings, **kw)
    node.platform.ensure_schema()
    node.platform.agencies.add(OPERATOR, LEAD[country], f"{country} police", country, "police")
    return node


def peer_token(server: Node, client: Node, *, agency: str | None = None) -> str:
    """On ``server``, register ``client``'s lead agency (once) and make it a peer token."""
    country = client.settings.country
    code = agency or LEAD[country]
    known = {a.code for a in server.platform.agencies.list(OPERATOR)}
    if code not in known:
        server.platform.agencies.add(OPERATOR, code, f"{code} lead", country, "police")
    return server.platform.tokens.create(OPERATOR, code, Role.PEER.value).secret


def peer(
    client: Node, server: Node, url: str = "http://testserver", name: str | None = None
) -> None:
    """``client`` pulls from ``server`` (at ``url``)."""
    client.exchange.add_peer(
        OPERATOR,
        name or server.settings.node_id,
        url,
        peer_token(server, client),
        server.exchange.key.public_key,
    )


def analyst(node: Node) -> Principal:
    code = LEAD[node.settings.country]
    secret = node.platform.tokens.create(OPERATOR, code, Role.ANALYST.value).secret
    return node.platform.tokens.authenticate(secret, "127.0.0.1")


def report(node: Node, value: str, tlp: str = "AMBER", **fields: Any) -> str:
    body = {"kind": "phone", "value": value, "category": "scam_call", "tlp": tlp} | fields
    indicator, _ = node.registry.submit(analyst(node), body)
    node.exchange.publish_all()
    return indicator.id


@dataclass
class InProcess:
    """Syncers whose HTTP goes straight into the peer's app, without sockets."""

    apps: dict[str, TestClient] = field(default_factory=dict)

    def serve(self, node: Node) -> None:
        client = TestClient(create_app(node=node), raise_server_exceptions=False)
        self.apps[node.settings.node_id] = client

    def syncer(self, node: Node) -> Syncer:
        def http(peer: Any) -> httpx.Client:
            return self.apps[peer.name]

        return Syncer(node.exchange, http)


def imported(node: Node) -> dict[tuple[str, str], tuple[str, str, int]]:
    """(origin node, origin id) → (status, tlp, confidence) of every imported report."""
    from sqlalchemy import select

    from fraudx.registry.store import indicators as t

    with node.platform.db.read() as session:
        rows = session.execute(
            select(t.c.origin_node, t.c.origin_id, t.c.status, t.c.tlp, t.c.confidence).where(
                t.c.origin_node.is_not(None)
            )
        ).all()
    return {(r[0], r[1]): (r[2], r[3], int(r[4])) for r in rows}


def own(node: Node) -> dict[tuple[str, str], tuple[str, str, int]]:
    from sqlalchemy import select

    from fraudx.registry.store import indicators as t

    with node.platform.db.read() as session:
        rows = session.execute(
            select(t.c.id, t.c.status, t.c.tlp, t.c.confidence).where(t.c.origin_node.is_(None))
        ).all()
    return {(node.settings.node_id, r[0]): (r[1], r[2], int(r[3])) for r in rows}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RealServer:
    """A node's app on a real port, in a thread (with its background tasks)."""

    def __init__(self, node: Node) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(node=node), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RealServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def in_process() -> Iterator[InProcess]:
    federation = InProcess()
    yield federation
    for client in federation.apps.values():
        client.close()
