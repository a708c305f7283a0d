"""Webhooks to a real receiver on loopback: signatures, order, retries, dead letters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from fraudx.alerts.channels import WebhookSender
from fraudx.alerts.delivery import Dispatcher, RetryPolicy
from fraudx.alerts.model import ChannelType
from fraudx.alerts.receiver import InvalidSignature, sign, verify
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from tests.alerts.helpers import ACCOUNT, SECRET, Receiver, run_rules
from tests.conftest import Agencies


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _dispatcher(node: Node, attempts: int = 3) -> Dispatcher:
    policy = RetryPolicy(max_attempts=attempts, base_seconds=10, jitter=lambda: 1.0)
    return Dispatcher(
        node.platform.db,
        node.platform.clock,
        node.alerts.sealer,
        {ChannelType.WEBHOOK: WebhookSender(timeout=5)},
        policy,
    )


def _subscribe(node: Node, agencies: Agencies, url: str, agency: str = "TH-KBANK") -> str:
    who = agencies.principal(agency, Role.PARTNER)
    channel = {"type": "webhook", "url": url, "secret": SECRET}
    return node.alerts.subscribe(who, {"kinds": ["bank_account"]}, channel).id


def _report(node: Node, agencies: Agencies, n: int) -> None:
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    for i in range(n):
        node.registry.submit(police, {**ACCOUNT, "value": f"TH:KBANK:100-0-{i:05d}-0"})
    run_rules(node)


def test_signed_deliveries_in_order(node: Node, agencies: Agencies, receiver: Receiver) -> None:
    _subscribe(node, agencies, receiver.url)
    _report(node, agencies, 5)
    asyncio.run(_dispatcher(node).dispatch_once())
    assert receiver.refused == []
    assert len(receiver.received) == 5
    values = [body["identifier"]["value"] for _, body, _ in receiver.received]
    assert values == [f"TH:004:1000{i:05d}0" for i in range(5)]
    delivery, body, _ = receiver.received[0]
    assert body["delivery"] == delivery
    assert {"id", "rule", "identifier", "created"} <= set(body)
    # Sent once: nothing is pending any more.
    asyncio.run(_dispatcher(node).dispatch_once())
    assert len(receiver.received) == 5


def test_a_wrong_secret_is_refused_by_the_receiver(
    node: Node, agencies: Agencies, receiver: Receiver
) -> None:
    receiver.secret = "another-secret-entirely-0000"
    _subscribe(node, agencies, receiver.url)
    _report(node, agencies, 1)
    asyncio.run(_dispatcher(node).dispatch_once())
    assert receiver.received == []
    assert receiver.refused == ["signature does not match the body"]


def test_verify_refuses_tampered_body_and_old_timestamp() -> None:
    body = b'{"id":"a1","rule":"surge"}'
    now = int(time.time())
    headers = {
        "X-FraudX-Delivery": "d1",
        "X-FraudX-Timestamp": str(now),
        "X-FraudX-Signature": sign(SECRET, now, body),
    }
    assert verify(SECRET, headers, body) == "d1"
    with pytest.raises(InvalidSignature, match="does not match"):
        verify(SECRET, headers, body.replace(b"surge", b"sight"))
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(SECRET, headers, body, now=now + 301)
    old = now - 3600
    stale = headers | {
        "X-FraudX-Timestamp": str(old),
        "X-FraudX-Signature": sign(SECRET, old, body),
    }
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify(SECRET, stale, body)
    with pytest.raises(InvalidSignature, match="missing"):
        verify(SECRET, {}, body)


def test_retries_with_backoff_then_dead_letter_then_redeliver(
    node: Node, agencies: Agencies, receiver: Receiver, clock: ManualClock
) -> None:
    _subscribe(node, agencies, receiver.url)
    _report(node, agencies, 2)
    dispatcher = _dispatcher(node, attempts=3)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    first, second = node.alerts.alerts(bank)
    receiver.statuses = [500, 503, 500]
    asyncio.run(dispatcher.dispatch_once())
    [row] = node.alerts.deliveries(bank, [first.id])
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "pending",
        1,
        "receiver answered 500",
    )
    assert row["next_attempt_at"] == clock.now() + timedelta(seconds=10)
    asyncio.run(dispatcher.dispatch_once())  # not due yet: nothing sent
    assert receiver.statuses == [503, 500]
    clock.advance(timedelta(seconds=10))
    asyncio.run(dispatcher.dispatch_once())
    [row] = node.alerts.deliveries(bank, [first.id])
    assert row["next_attempt_at"] == clock.now() + timedelta(seconds=20)  # doubled
    assert receiver.received == []  # the second waits behind the first: order holds
    clock.advance(timedelta(seconds=20))
    asyncio.run(dispatcher.dispatch_once())  # third failure: dead letter; the next goes
    [row] = node.alerts.deliveries(bank, [first.id])
    assert row["status"] == "dead"
    assert [body["id"] for _, body, _ in receiver.received] == [second.id]

    again = node.alerts.redeliver(bank, row["id"])
    assert (again["status"], again["attempts"]) == ("pending", 0)
    asyncio.run(dispatcher.dispatch_once())
    assert [body["id"] for _, body, _ in receiver.received] == [second.id, first.id]
    assert receiver.received[-1][0] == row["id"]  # same idempotency key as before


def test_a_slow_receiver_does_not_hold_up_another(node: Node, agencies: Agencies) -> None:
    import threading

    slow, fast = Receiver(), Receiver()
    slow.gate = threading.Event()  # the slow receiver answers nothing until released
    try:
        _subscribe(node, agencies, slow.url, "TH-KBANK")
        _subscribe(node, agencies, fast.url, "TH-AIS")
        _report(node, agencies, 2)
        worker = threading.Thread(target=lambda: asyncio.run(_dispatcher(node).dispatch_once()))
        worker.start()
        deadline = time.monotonic() + 10
        while len(fast.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(fast.received) == 2  # delivered while the slow one still hangs
        assert slow.received == []
        slow.gate.set()
        worker.join(10)
        assert len(slow.received) == 2
    finally:
        assert slow.gate is not None
        slow.gate.set()
        slow.close()
        fast.close()


def test_an_unreachable_receiver_is_a_retry(node: Node, agencies: Agencies) -> None:
    dead = Receiver()
    url = dead.url
    dead.close()
    _subscribe(node, agencies, url)
    _report(node, agencies, 1)
    asyncio.run(_dispatcher(node).dispatch_once())
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    [alert] = node.alerts.alerts(bank)
    [row] = node.alerts.deliveries(bank, [alert.id])
    assert row["status"] == "pending"
    assert row["attempts"] == 1
    assert "Connect" in row["last_error"]


def test_the_receiver_refuses_tampered_and_replayed_requests(receiver: Receiver) -> None:
    import httpx

    body = b'{"id":"a1","rule":"surge","identifier":{"kind":"phone","value":"+66812345678"}}'
    now = int(time.time())
    signed = {"X-FraudX-Delivery": "d1", "X-FraudX-Timestamp": str(now)}
    signed["X-FraudX-Signature"] = sign(SECRET, now, body)
    assert httpx.post(receiver.url, content=body, headers=signed).status_code == 200
    tampered = body.replace(b"+6681", b"+6682")
    assert httpx.post(receiver.url, content=tampered, headers=signed).status_code == 401
    old = now - 301
    replayed = signed | {
        "X-FraudX-Timestamp": str(old),
        "X-FraudX-Signature": sign(SECRET, old, body),
    }
    assert httpx.post(receiver.url, content=body, headers=replayed).status_code == 401
    assert receiver.refused == [
        "signature does not match the body",
        "timestamp outside the tolerance: a replay or a skewed clock",
    ]


def test_unsubscribing_dead_letters_what_was_waiting(node: Node, agencies: Agencies) -> None:
    from fraudx.platform.errors import Conflict

    sub_id = _subscribe(node, agencies, "http://127.0.0.1:9/never")
    _report(node, agencies, 1)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    node.alerts.unsubscribe(bank, sub_id)
    [alert] = node.alerts.alerts(bank)
    [row] = node.alerts.deliveries(bank, [alert.id])
    assert (row["status"], row["last_error"]) == ("dead", "unsubscribed")
    with pytest.raises(Conflict):
        node.alerts.redeliver(bank, row["id"])
