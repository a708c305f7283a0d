"""The single look-up answered below the framework gives the same answers and refusals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from fraudx.app import create_app
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from fraudx.platform.ids import IdFactory
from fraudx.platform.settings import Settings
from fraudx.registry import fastpath
from tests.conftest import Agencies, bearer

URL = "/api/v1/lookup?kind=phone&value=%2B66812345678"


@pytest.fixture
def cached_node(settings: Settings, clock: ManualClock) -> Iterator[Node]:
    """A node that trusts verified tokens for a while, as served nodes do."""
    node = Node.open(
        settings.model_copy(update={"token_cache_seconds": 60.0}), clock=clock, ids=IdFactory(clock)
    )
    node.platform.ensure_schema()
    yield node
    node.close()


def test_fast_and_framework_paths_agree(cached_node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    answered: list[bool] = []
    original = fastpath.LookupFastPath._answer

    async def spy(self: fastpath.LookupFastPath, scope: object, send: object) -> bool:
        done = await original(self, scope, send)  # type: ignore[arg-type]
        answered.append(done)
        return done

    monkeypatch.setattr(fastpath.LookupFastPath, "_answer", spy)
    agencies = Agencies(cached_node)
    agencies.add_defaults()
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    cached_node.registry.submit(
        police, {"kind": "phone", "value": "+66812345678", "category": "scam_call"}
    )
    bank = agencies.token("TH-KBANK", Role.PARTNER)
    with TestClient(create_app(node=cached_node), raise_server_exceptions=False) as client:
        first = client.get(URL, headers=bearer(bank))  # token not yet verified: framework
        second = client.get(URL, headers=bearer(bank))  # verified: below the framework
        assert answered == [False, True]
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
        assert second.json()["listed"] is True

        # Refusals go to the framework and come back as problem+json.
        bad = client.get("/api/v1/lookup?kind=phone&value=12", headers=bearer(bank))
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        observer = agencies.token("TH-UNODC", Role.OBSERVER)
        client.get(URL, headers=bearer(observer))
        assert client.get(URL, headers=bearer(observer)).status_code == 403
        assert client.get(URL).status_code == 401

        # A token revoked on this node stops at once, cache or not.
        token_id = cached_node.platform.tokens.authenticate(bank).token_id
        assert token_id is not None
        admin = agencies.principal("TH-CCIB", Role.ADMIN)
        cached_node.platform.tokens.revoke(admin, token_id)
        assert client.get(URL, headers=bearer(bank)).status_code == 401

    # Both paths left their records: two sightings (one row) and the look-ups in the audit log.
    seen, _ = cached_node.lookups.sightings(police)
    assert [(s.source, s.count) for s in seen] == [("lookup", 2)]  # one caller: one row
    looked = cached_node.platform.audit.search(admin, action="registry.lookup").entries
    identifiers = [i for e in looked for i in e.event.detail["identifiers"]]
    assert identifiers.count("phone:+66812345678") >= 2
