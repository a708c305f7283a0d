"""NATS JetStream delivery against the real server on 127.0.0.1:4222 (skips without one)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid

import pytest

from fraudx.alerts.channels import NATS_STREAM, NatsSender
from fraudx.alerts.delivery import Dispatcher, RetryPolicy
from fraudx.alerts.model import ChannelType
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from tests.alerts.helpers import ACCOUNT, run_rules
from tests.conftest import Agencies

NATS_URL = os.environ.get("FRAUDX_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _nats_up() -> bool:
    host, _, port = NATS_URL.removeprefix("nats://").partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), 1):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _needs_nats() -> None:
    """Skip without a server, unless CI says it must be there (FRAUDX_TEST_REQUIRE_NATS=1)."""
    if not _nats_up():
        reason = f"no NATS server at {NATS_URL}"
        if os.environ.get("FRAUDX_TEST_REQUIRE_NATS") == "1":
            pytest.fail(reason + " and FRAUDX_TEST_REQUIRE_NATS=1")
        pytest.skip(reason)


async def _consume(subject: str, count: int) -> list[tuple[dict[str, str], dict[str, object]]]:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(subject, durable=None, stream=NATS_STREAM)
        got = []
        while len(got) < count:
            for msg in await sub.fetch(count - len(got), timeout=5):
                got.append((dict(msg.headers or {}), json.loads(msg.data)))
                await msg.ack()
        return got
    finally:
        await nc.close()


def test_alerts_published_to_jetstream(node: Node, agencies: Agencies) -> None:
    subject = f"fraudx.alerts.test.{uuid.uuid4().hex[:10]}"
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    node.alerts.subscribe(bank, {"bank_codes": ["004"]}, {"type": "nats", "subject": subject})
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    for i in range(3):
        node.registry.submit(police, {**ACCOUNT, "value": f"TH:KBANK:100-0-{i:05d}-0"})
    run_rules(node)
    sender = NatsSender(NATS_URL)
    dispatcher = Dispatcher(
        node.platform.db,
        node.platform.clock,
        node.alerts.sealer,
        {ChannelType.NATS: sender},
        RetryPolicy(max_attempts=3),
    )

    async def deliver() -> list[tuple[dict[str, str], dict[str, object]]]:
        await dispatcher.dispatch_once()
        await sender.close()
        return await _consume(subject, 3)

    got = asyncio.run(deliver())
    alerts = node.alerts.alerts(bank)
    assert [body["id"] for _, body in got] == [a.id for a in alerts]
    for headers, body in got:
        assert headers["Nats-Msg-Id"] == body["delivery"]
        assert headers["X-FraudX-Delivery"] == body["delivery"]
    [row] = node.alerts.deliveries(bank, [alerts[0].id])
    assert row["status"] == "delivered"


def test_nats_down_is_a_retry(node: Node, agencies: Agencies) -> None:
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    node.alerts.subscribe(bank, {}, {"type": "nats"})
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    run_rules(node)
    dispatcher = Dispatcher(
        node.platform.db,
        node.platform.clock,
        node.alerts.sealer,
        {ChannelType.NATS: NatsSender("nats://127.0.0.1:1", timeout=0.5)},
    )
    asyncio.run(dispatcher.dispatch_once())
    [alert] = node.alerts.alerts(bank)
    [row] = node.alerts.deliveries(bank, [alert.id])
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert row["last_error"].startswith("NATS")
