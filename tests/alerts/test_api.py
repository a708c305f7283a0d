"""The alerts HTTP API: exact names, roles, the inbox, watchlists, SSE resume."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from fraudx.app import create_app
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from tests.alerts.helpers import ACCOUNT, SECRET, run_rules
from tests.conftest import Agencies, bearer

SUB = {"filters": {"kinds": ["bank_account"]}, "channel": {"type": "inbox"}}
WATCH = {"name": "payees", "items": [{"kind": "bank_account", "value": "KASITHBK:1234567890"}]}

PERMISSIONS: list[tuple[str, str, Any, int]] = [
    ("POST", "/api/v1/subscriptions", SUB, 201),
    ("GET", "/api/v1/subscriptions", None, 200),
    ("POST", "/api/v1/watchlists", WATCH, 201),
    ("GET", "/api/v1/watchlists", None, 200),
    ("GET", "/api/v1/alerts", None, 200),
    ("DELETE", "/api/v1/subscriptions/nope", None, 404),
    ("POST", "/api/v1/alerts/nope/ack", None, 404),
    ("POST", "/api/v1/deliveries/nope/redeliver", None, 404),
]


def test_every_role_but_observer_and_peer_may_use_alerts(
    client: TestClient, agencies: Agencies
) -> None:
    tokens = {r: agencies.token("TH-UNODC" if r is Role.OBSERVER else "TH-KBANK", r) for r in Role}
    for method, path, body, expected in PERMISSIONS:
        for role in Role:
            response = client.request(method, path, json=body, headers=bearer(tokens[role]))
            want = 403 if role in (Role.OBSERVER, Role.PEER) else expected
            assert response.status_code == want, (method, path, role, response.text)
        assert client.request(method, path, json=body).status_code == 401


def test_inbox_and_ack(client: TestClient, node: Node, agencies: Agencies) -> None:
    bank = bearer(agencies.token("TH-KBANK", Role.PARTNER))
    created = client.post("/api/v1/subscriptions", json=SUB, headers=bank)
    assert created.status_code == 201
    sub = created.json()
    assert sub["filters"]["kinds"] == ["bank_account"]
    assert sub["filters"]["tags"] == []
    police = bearer(agencies.token("TH-CCIB", Role.ANALYST))
    assert client.post("/api/v1/indicators", json=ACCOUNT, headers=police).status_code == 201
    run_rules(node)
    page = client.get("/api/v1/alerts", headers=bank).json()
    [alert] = page["items"]
    assert alert["rule"] == "indicator_listed"
    assert alert["identifier"] == {"kind": "bank_account", "value": "TH:004:1234567890"}
    assert alert["acked_at"] is None
    other = bearer(agencies.token("TH-AIS", Role.PARTNER))
    assert client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=other).status_code == 404
    acked = client.post(f"/api/v1/alerts/{alert['id']}/ack", headers=bank)
    assert acked.status_code == 200
    assert acked.json()["acked_at"] is not None
    assert client.get("/api/v1/alerts?unacked=true", headers=bank).json()["items"] == []
    assert client.get("/api/v1/alerts", headers=other).json()["items"] == []
    assert client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=other).status_code == 404
    assert client.delete(f"/api/v1/subscriptions/{sub['id']}", headers=bank).status_code == 204
    assert client.get("/api/v1/subscriptions", headers=bank).json()["items"] == []


def test_webhook_secret_is_sealed_and_never_returned(
    client: TestClient, node: Node, agencies: Agencies
) -> None:
    bank = bearer(agencies.token("TH-KBANK", Role.PARTNER))
    body = {"channel": {"type": "webhook", "url": "http://127.0.0.1:9/h", "secret": SECRET}}
    response = client.post("/api/v1/subscriptions", json=body, headers=bank)
    assert response.status_code == 201
    assert SECRET not in response.text
    assert SECRET not in client.get("/api/v1/subscriptions", headers=bank).text
    from sqlalchemy import select

    from fraudx.alerts.store import subscriptions

    with node.platform.db.read() as session:
        sealed = session.execute(select(subscriptions.c.secret_sealed)).scalar_one()
    assert SECRET.encode() not in sealed
    assert node.alerts.sealer.open(sealed) == SECRET
    key = node.settings.home / "alerts.key"
    assert key.stat().st_mode & 0o777 == 0o600


BAD_SUBSCRIPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"channel": {"type": "pigeon"}}, "channel.type"),
    ({"channel": {"type": "webhook", "url": "ftp://x", "secret": SECRET}}, "channel.url"),
    (
        {"channel": {"type": "webhook", "url": "http://x/h", "secret": "short"}},
        "channel.secret",
    ),
    ({"channel": {"type": "nats", "subject": "other.subject"}}, "channel.subject"),
    ({"filters": {"kinds": ["fax"]}}, "filters.kinds"),
    ({"filters": {"phone_prefixes": ["6681"]}}, "filters.phone_prefixes"),
]


def test_bad_subscriptions_name_the_field(client: TestClient, agencies: Agencies) -> None:
    bank = bearer(agencies.token("TH-KBANK", Role.PARTNER))
    for body, field in BAD_SUBSCRIPTIONS:
        response = client.post("/api/v1/subscriptions", json=body, headers=bank)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field


def test_watchlist_csv_upload(client: TestClient, node: Node, agencies: Agencies) -> None:
    telco = bearer(agencies.token("TH-AIS", Role.PARTNER))
    csv_body = "kind,value,region\nphone,081 234 5678,TH\nphone,+66891112222,\n"
    response = client.post(
        "/api/v1/watchlists?name=subscribers",
        content=csv_body,
        headers=telco | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["items"] == 2
    bad = client.post(
        "/api/v1/watchlists?name=x",
        content="phone,not-a-phone\n",
        headers=telco | {"Content-Type": "text/csv"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "items[0]"
    [listed] = client.get("/api/v1/watchlists", headers=telco).json()["items"]
    assert (listed["name"], listed["items"]) == ("subscribers", 2)
    police = bearer(agencies.token("TH-CCIB", Role.ANALYST))
    phone = {"kind": "phone", "value": "+66812345678", "category": "scam_call"}
    client.post("/api/v1/indicators", json=phone, headers=police)
    run_rules(node)
    [alert] = client.get("/api/v1/alerts", headers=telco).json()["items"]
    assert alert["rule"] == "watchlist_hit"


# --- server-sent events, on a real server -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(node: Node) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(node=node), host="127.0.0.1", port=port, log_level="error")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


def _read_events(url: str, headers: dict[str, str], count: int) -> list[tuple[int, dict[str, Any]]]:
    import json

    events: list[tuple[int, dict[str, Any]]] = []
    current: dict[str, str] = {}
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "data" in current:
                    events.append((int(current["id"]), json.loads(current["data"])))
                    if len(events) == count:
                        return events
                current = {}
                continue
            name, _, value = line.partition(":")
            current[name] = value.strip()
    return events


def test_sse_resumes_from_last_event_id(server: str, node: Node, agencies: Agencies) -> None:
    bank = bearer(agencies.token("TH-KBANK", Role.PARTNER))
    police = bearer(agencies.token("TH-CCIB", Role.ANALYST))
    httpx.post(f"{server}/api/v1/subscriptions", json={"channel": {"type": "sse"}}, headers=bank)
    for i in range(3):
        body = {**ACCOUNT, "value": f"TH:KBANK:100-0-{i:05d}-0"}
        assert httpx.post(f"{server}/api/v1/indicators", json=body, headers=police).is_success
    stream = f"{server}/api/v1/alerts/stream"
    first = _read_events(stream, bank, 2)
    assert len(first) == 2
    for i in range(3, 5):  # raised while the client is away
        body = {**ACCOUNT, "value": f"TH:KBANK:100-0-{i:05d}-0"}
        assert httpx.post(f"{server}/api/v1/indicators", json=body, headers=police).is_success
    resumed = _read_events(stream, bank | {"Last-Event-ID": str(first[-1][0])}, 3)
    values = [e["identifier"]["value"] for _, e in first + resumed]
    assert values == [f"TH:004:1000{i:05d}0" for i in range(5)]
    assert [s for s, _ in first + resumed] == sorted(s for s, _ in first + resumed)
    observer = bearer(agencies.token("TH-UNODC", Role.OBSERVER))
    assert httpx.get(stream, headers=observer).status_code == 403
