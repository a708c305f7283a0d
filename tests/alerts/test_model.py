"""The pure matching index and surge window: the index agrees with checking every filter."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from fraudx.alerts.model import (
    Facts,
    MatchIndex,
    Subscription,
    clean_channel,
    clean_filters,
)
from fraudx.alerts.surge import SurgeWindow
from fraudx.platform.errors import InvalidInput

NOW = datetime(2026, 3, 1, tzinfo=UTC)
INBOX, _ = clean_channel({"type": "inbox"}, "X")


def _sub(sub_id: str, **filters: list[str]) -> Subscription:
    return Subscription(sub_id, "AG", clean_filters(filters), INBOX, NOW)


def _facts(kind: str, value: str, **extra: object) -> Facts:
    change = {
        "id": "i1",
        "kind": kind,
        "value": value,
        "agency": "TH-CCIB",
        "country": "TH",
        "category": "mule_account" if kind == "bank_account" else "scam_call",
        "tlp": "AMBER",
        "confidence": 50,
        "tags": [],
    }
    return Facts.of_change(change | extra)


def test_each_filter() -> None:
    index = MatchIndex()
    index.add(_sub("bank-full", bank_codes=["TH:004"]))
    index.add(_sub("bank-short", bank_codes=["004"]))
    index.add(_sub("other-bank", bank_codes=["TH:014"]))
    index.add(_sub("telco", phone_prefixes=["+6681"]))
    index.add(_sub("tag", tags=["Myawaddy"]))
    index.add(_sub("kh", countries=["kh"]))
    index.add(_sub("all"))
    account = _facts("bank_account", "TH:004:1234567890", tags=["myawaddy"])
    assert [s.id for s in index.match(account)] == ["all", "bank-full", "bank-short", "tag"]
    phone = _facts("phone", "+66812345678", country="KH")
    assert [s.id for s in index.match(phone)] == ["all", "kh", "telco"]
    index.remove("all")
    index.remove("telco")
    assert [s.id for s in index.match(phone)] == ["kh"]


def test_index_agrees_with_every_filter() -> None:
    rng = random.Random(3)
    pick = {
        "kinds": ["bank_account", "phone"],
        "categories": ["mule_account", "scam_call"],
        "countries": ["TH", "KH", "VN"],
        "tags": ["a", "b", "c"],
        "bank_codes": ["TH:004", "004", "KH:002"],
        "phone_prefixes": ["+66", "+6681", "+855"],
    }
    index = MatchIndex()
    for i in range(400):
        filters = {
            k: rng.sample(v, rng.randint(1, 2)) for k, v in pick.items() if rng.random() < 0.3
        }
        index.add(_sub(f"s{i:03d}", **filters))
    for i in range(300):
        remove = f"s{rng.randrange(400):03d}"
        if i % 5 == 0:
            index.remove(remove)
    for _ in range(300):
        if rng.random() < 0.5:
            facts = _facts(
                "bank_account",
                f"{rng.choice(['TH', 'KH'])}:{rng.choice(['004', '002'])}:123",
                country=rng.choice(pick["countries"]),
                tags=rng.sample(pick["tags"], rng.randint(0, 2)),
            )
        else:
            facts = _facts(
                "phone",
                rng.choice(["+66812", "+66899", "+85512"]) + "3456",
                country=rng.choice(pick["countries"]),
                category=rng.choice(pick["categories"]),
            )
        expected = sorted(s.id for s in index.subscriptions.values() if s.filters.matches(facts))
        assert [s.id for s in index.match(facts)] == expected


def test_watchlists() -> None:
    index = MatchIndex()
    index.watch("phone:+66812345678", "TH-AIS")
    index.watch("phone:+66812345678", "TH-KBANK")
    index.watch("phone:+66812345678", "TH-AIS")
    assert index.watchers("phone:+66812345678") == ("TH-AIS", "TH-KBANK")
    index.unwatch_agency("TH-AIS", ["phone:+66812345678"])
    assert index.watchers("phone:+66812345678") == ("TH-KBANK",)
    index.unwatch_agency("TH-KBANK", ["phone:+66812345678"])
    assert index.watched_count == 0


def test_surge_window() -> None:
    surge = SurgeWindow(agencies=3, seconds=3600)
    assert surge.add("k", "A", 0) is None
    assert surge.add("k", "A", 10) is None  # the same agency again counts once
    assert surge.add("k", "B", 1000) is None
    assert surge.add("k", "C", 3700) is None  # A's look-ups left the window
    assert surge.add("k", "A", 3710) == {"A", "B", "C"}
    assert surge.add("k", "D", 3720) is None  # quiet for one window
    surge.forget_before(10_000)
    assert surge.add("k", "E", 10_000) is None


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"colour": ["red"]}, "filters.colour"),
        ({"kinds": "phone"}, "filters.kinds"),
        ({"kinds": ["fax"]}, "filters.kinds"),
        ({"phone_prefixes": ["0812"]}, "filters.phone_prefixes"),
    ],
)
def test_bad_filters_name_the_field(filters: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_filters(filters)
    assert caught.value.field == field
