"""Batch look-ups remember how spellings read and what viewers saw of an entry; neither
memory may ever change an answer: listing is asked of the live index on every item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from fraudx.identifiers import parse
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from fraudx.registry import presenter
from fraudx.registry.events import ReportChange
from fraudx.registry.index import LookupIndex, filter_slot
from fraudx.registry.lookup import LookupResult
from fraudx.registry.lookups import LookupError_
from fraudx.registry.model import Categories
from fraudx.registry.spellings import Spellings
from tests.conftest import Agencies, bearer

PHONE = {"kind": "phone", "value": "081 234 5678", "category": "scam_call"}
# The same number as banks type it: national form, read in the caller's country.
SPELLED = {"kind": "phone", "value": "081-234-5678"}


def _listed(node: Node, principal: Any, items: list[dict[str, Any]]) -> list[bool | None]:
    return [
        None if isinstance(r, LookupError_) else r.listed
        for r in node.lookups.lookup_many(principal, items)
    ]


def test_revocation_and_new_reports_show_at_once_for_cached_spellings(
    node: Node, agencies: Agencies
) -> None:
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    other = {"kind": "phone", "value": "081 234 5679"}
    indicator, _ = node.registry.submit(police, PHONE)
    assert _listed(node, bank, [SPELLED, other]) == [True, False]
    assert _listed(node, bank, [SPELLED, other]) == [True, False]  # now from the cache

    node.registry.revoke(police, indicator.id, "false_positive")
    assert _listed(node, bank, [SPELLED, other]) == [False, False]
    node.registry.submit(police, other | {"category": "scam_call"})
    assert _listed(node, bank, [SPELLED, other]) == [False, True]


def test_expiry_shows_at_once_though_the_entry_was_seen(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    first = node.lookups.lookup_many(bank, [SPELLED])[0]
    assert isinstance(first, LookupResult)
    assert first.listed
    clock.advance(timedelta(days=30))  # the risk ages, the answer is worked out again
    later = node.lookups.lookup_many(bank, [SPELLED])[0]
    assert isinstance(later, LookupResult)
    assert later.listed
    assert later.risk < first.risk
    clock.advance(timedelta(days=61))  # past the phone's 90 days, before any sweep
    assert _listed(node, bank, [SPELLED]) == [False]
    sightings, _ = node.lookups.sightings(bank)
    assert sum(s.count for s in sightings) == 2  # the expired report is no hit


def test_bad_items_error_every_time_and_alike(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    items: list[dict[str, Any]] = [
        {"kind": "phone", "value": "12"},
        SPELLED,
        {"kind": "spaceship", "value": "x"},
        {"kind": "phone", "value": ["not", "text"]},
        {"kind": "phone", "value": "0812345678", "region": 5},
        {"kind": "phone"},
    ]
    first = node.lookups.lookup_many(bank, items)
    again = node.lookups.lookup_many(bank, items)
    assert [type(r) for r in first] == [
        LookupError_,
        LookupResult,
        LookupError_,
        LookupError_,
        LookupResult,
        LookupError_,
    ]
    assert first[0] == again[0]
    assert first[2] == again[2]
    assert first[3] == again[3]
    assert isinstance(first[3], LookupError_)
    assert first[3].value == "['not', 'text']"
    assert _listed(node, bank, items) == [None, True, None, None, True, None]


def test_regions_are_part_of_the_spelling(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    thai_bank = agencies.principal("TH-KBANK", Role.PARTNER)
    khmer = agencies.principal("KH-GCNP", Role.ANALYST)
    national = {"kind": "phone", "value": "0812345678"}
    assert _listed(node, thai_bank, [national]) == [True]
    # The same text from a Cambodian caller reads in Cambodia, unless a region is given.
    assert _listed(node, khmer, [national, national | {"region": "TH"}]) == [None, True]
    assert _listed(node, khmer, [national, national | {"region": "th"}]) == [None, True]
    assert _listed(node, thai_bank, [national | {"region": "KH"}]) == [None]


def test_an_address_cached_before_its_network_was_listed(node: Node, agencies: Agencies) -> None:
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    address = {"kind": "ip", "value": "203.0.113.200"}
    assert _listed(node, bank, [address]) == [False]
    network, _ = node.registry.submit(
        police, {"kind": "ip", "value": "203.0.113.0/24", "category": "scam_compound_network"}
    )
    assert _listed(node, bank, [address]) == [True]
    node.registry.revoke(police, network.id, "resolved")
    assert _listed(node, bank, [address]) == [False]


def test_a_full_cache_starts_over_and_answers_alike(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    node.lookups._spellings = Spellings(size=3)
    items = [{"kind": "phone", "value": f"08123456{n:02d}"} for n in range(70, 80)]
    first = _listed(node, bank, items)
    assert len(node.lookups._spellings) <= 3
    assert _listed(node, bank, items) == first == [n == 8 for n in range(10)]


def test_batch_json_is_the_same_cached_or_not(client: TestClient, agencies: Agencies) -> None:
    police = agencies.token("TH-CCIB", Role.ANALYST)
    client.post("/api/v1/indicators", json=PHONE, headers=bearer(police))
    items = [SPELLED, {"kind": "phone", "value": "1"}, {"kind": "domain", "value": "Example.COM"}]
    viewers = [(agencies.token("TH-KBANK", Role.PARTNER), False)]
    viewers.append((agencies.token("TH-NBTC", Role.LIAISON), True))
    for token, sees_sources in viewers:
        first = client.post("/api/v1/lookup", json={"items": items}, headers=bearer(token))
        again = client.post("/api/v1/lookup", json={"items": items}, headers=bearer(token))
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        results = first.json()["results"]
        assert results[0]["listed"] is True
        # Partners never learn who reported, however the answer was put together.
        assert ("indicators" in results[0]) is sees_sources
        assert ("TH-CCIB" in first.text) is sees_sources
        assert results[1]["field"] == "value"
        assert results[2] == {
            "identifier": {"kind": "domain", "value": "example.com"},
            "listed": False,
            "risk": 0,
            "categories": [],
            "countries": [],
            "reports": 0,
            "first_seen": None,
            "last_seen": None,
        }


def test_ready_made_answers_match_the_general_ones() -> None:
    identifier = parse("url", 'https://Example.com/a?b=\u00e9&c="d"')
    result = LookupResult(identifier, False, 0, (), (), 0, None, None)
    assert presenter.not_listed_json(identifier.kind, identifier.value) == presenter.orjson.dumps(
        presenter.lookup_json(result)
    )


def test_presence_filter_follows_the_index() -> None:
    index = LookupIndex(Categories())
    key = "phone:+66812345678"
    change = {
        "change": "created",
        "id": "00000000-0000-0000-0000-000000000001",
        "kind": "phone",
        "value": "+66812345678",
        "agency": "TH-CCIB",
        "country": "TH",
        "category": "scam_call",
        "confidence": 60,
        "tlp": "AMBER",
        "first_seen": 1,
        "last_seen": 1,
        "valid_until": 2**40,
        "status": "active",
    }
    before = index.presence[filter_slot(key)]
    index.apply([ReportChange.of(change)])
    assert index.presence[filter_slot(key)] == before + 1
    assert key in index.entries
    index.apply([ReportChange.of(change | {"change": "revoked", "status": "revoked"})])
    assert index.presence[filter_slot(key)] == before
    assert key not in index.entries
