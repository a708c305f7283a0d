"""The registry's pure rules: sharing, risk, categories, drafts, the packed index."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraudx.identifiers import parse
from fraudx.platform.agencies.model import Role
from fraudx.platform.errors import InvalidInput
from fraudx.registry.events import ReportChange
from fraudx.registry.index import LookupIndex
from fraudx.registry.model import (
    Categories,
    ReportFacts,
    Tlp,
    Viewer,
    draft_indicator,
    may_see,
    parse_tlp,
    risk,
    visible_tlps,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _parse(kind: object, raw: str, region: str | None) -> object:
    return parse(kind, raw, region=region)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tlp", "own", "law", "seen"),
    [
        (tlp, own, law, expected)
        for tlp, own, law in itertools.product(Tlp, (True, False), (True, False))
        for expected in [
            own or tlp in (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER) or (tlp is Tlp.AMBER_STRICT and law)
        ]
    ],
)
def test_sharing_rules_and_their_query_form_agree(
    tlp: Tlp, own: bool, law: bool, seen: bool
) -> None:
    viewer = Viewer("TH-CCIB" if own else "TH-KBANK", law, Role.ANALYST)
    assert may_see(tlp, "TH-CCIB", viewer) is seen
    # The SQL filter (markings for all, plus the agency's own) says the same.
    everyone, own_too = visible_tlps(viewer)
    assert (tlp in everyone or (own_too and own)) is seen


def test_risk_corroboration_countries_and_age() -> None:
    one = ReportFacts(60, "TH", "TH-CCIB", 30, NOW)
    assert risk([one], NOW) == 60
    # Another agency of the same country at 60: noisy-OR, 1 - 0.4 * 0.4 = 0.84.
    assert risk([one, ReportFacts(60, "TH", "TH-NBTC", 30, NOW)], NOW) == 84
    # The same agency twice does not corroborate itself.
    assert risk([one, ReportFacts(60, "TH", "TH-CCIB", 30, NOW)], NOW) == 60
    # From another country: +10 %.
    assert risk([one, ReportFacts(60, "KH", "KH-GCNP", 30, NOW)], NOW) == 92
    # One half-life later it counts half.
    assert risk([ReportFacts(60, "TH", "TH-CCIB", 30, NOW - timedelta(days=30))], NOW) == 30
    assert risk([], NOW) == 0


@given(
    st.lists(
        st.tuples(st.integers(0, 100), st.sampled_from(["TH", "KH", "VN"]), st.integers(0, 400)),
        min_size=1,
        max_size=8,
    )
)
def test_risk_is_bounded_and_grows_with_evidence(reports: list[tuple[int, str, int]]) -> None:
    facts = [
        ReportFacts(c, country, f"{country}-{i}", 30, NOW - timedelta(days=age))
        for i, (c, country, age) in enumerate(reports)
    ]
    value = risk(facts, NOW)
    assert 0 <= value <= 100
    assert risk([*facts, ReportFacts(90, "LA", "LA-X", 30, NOW)], NOW) >= value


def test_categories_and_their_lifetimes() -> None:
    categories = Categories.from_setting("loan_scam:180, investment_scam:365")
    assert categories.get("loan_scam").lifetime_days == 180
    assert "mule_account" in categories.names()
    with pytest.raises(InvalidInput, match="NAME:DAYS"):
        Categories.from_setting("oops")
    draft = draft_indicator(
        {"kind": "ip", "value": "203.0.113.9", "category": "scam_website"},
        Categories(),
        NOW,
        _parse,  # type: ignore[arg-type]
    )
    assert draft.valid_until == NOW + timedelta(days=30)  # IPs age fast whatever the category


PHONE = {"kind": "phone", "value": "+66812345678", "category": "scam_call"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value": "x", "category": "scam_call"}, "kind"),
        ({"kind": "phone", "category": "scam_call"}, "value"),
        ({"kind": "boat", "value": "x", "category": "scam_call"}, "kind"),
        (PHONE | {"tlp": "pink"}, "tlp"),
        (PHONE | {"confidence": True}, "confidence"),
        (PHONE | {"region": "Thai"}, "region"),
        (PHONE | {"tags": 5}, "tags"),
        (PHONE | {"valid_until": "soon"}, "valid_until"),
        (PHONE | {"description": "x" * 2001}, "description"),
    ],
)
def test_drafts_name_the_wrong_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        draft_indicator(fields, Categories(), NOW, _parse)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_tlp_spellings() -> None:
    assert parse_tlp("tlp:amber+strict") is Tlp.AMBER_STRICT
    assert parse_tlp("WHITE") is Tlp.CLEAR


def _change(id_: str, key: str, *, active: bool = True, agency: str = "TH-CCIB") -> ReportChange:
    return ReportChange("created", id_, key, agency, agency[:2], "scam_call", 70, "AMBER",
                        active, 1, 2, 2_000_000_000)  # fmt: skip


def test_index_puts_replaces_and_removes_reports() -> None:
    index = LookupIndex(Categories())
    a = "01a21558-5938-7000-9404-92318d6586d3"
    b = "01a21558-5938-7001-9404-92318d6586d3"
    index.apply(
        [_change(a, "phone:+66812345678"), _change(b, "phone:+66812345678", agency="KH-GCNP")]
    )
    assert {r.agency for r in index.reports("phone:+66812345678")} == {"TH-CCIB", "KH-GCNP"}
    index.apply([_change(a, "phone:+66812345678")])  # the same report again: replaced, not added
    assert index.reports_count == 2
    index.apply([_change(a, "phone:+66812345678", active=False)])
    assert [r.id for r in index.reports("phone:+66812345678")] == [b]
    index.apply([_change(b, "phone:+66812345678", active=False)])
    assert "phone:+66812345678" not in index
    assert index.reports_count == 0


def test_index_says_whether_another_report_lists_a_key() -> None:
    index = LookupIndex(Categories())
    a = "01a21558-5938-7000-9404-92318d6586d3"
    b = "01a21558-5938-7001-9404-92318d6586d3"
    key = "phone:+66812345678"
    assert not index.listed_besides(key, a)  # not listed at all
    index.apply([_change(a, key)])
    assert not index.listed_besides(key, a)  # by this report alone
    assert index.listed_besides(key, b)  # by a report that is not this one
    assert index.listed_besides(key, "not-an-id")
    index.apply([_change(b, key, agency="KH-GCNP")])
    assert index.listed_besides(key, a)
    assert index.listed_besides(key, b)
    index.apply([_change(a, key, active=False)])
    assert not index.listed_besides(key, b)
    assert index.listed_besides(key, a)  # a revoked report asks: b lists it


def test_index_finds_addresses_inside_listed_networks() -> None:
    index = LookupIndex(Categories())
    index.apply([_change("01a21558-5938-7000-9404-92318d6586d3", "ip:10.20.0.0/16")])
    assert index.covering("10.20.30.40") == ["ip:10.20.0.0/16"]
    assert index.covering("10.20.30.0/24") == ["ip:10.20.0.0/16"]
    assert index.covering("10.0.0.0/8") == []
    index.apply([_change("01a21558-5938-7001-9404-92318d6586d3", "ip:2001:db8::/32")])
    assert index.covering("2001:db8::1") == ["ip:2001:db8::/32"]
