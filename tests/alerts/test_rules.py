"""Each rule on both databases, with the sharing rules applied before anything is written."""

from __future__ import annotations

from datetime import timedelta

from fraudx.alerts.model import Rule
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from tests.alerts.helpers import ACCOUNT, alerts_of, run_rules
from tests.conftest import Agencies


def _rules(node: Node, agency: str) -> list[str]:
    return [a.rule for a in alerts_of(node, agency)]


def test_new_report_matching_a_bank_code_alerts_that_bank(node: Node, agencies: Agencies) -> None:
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    telco = agencies.principal("TH-AIS", Role.PARTNER)
    node.alerts.subscribe(bank, {"bank_codes": ["TH:004"]}, {"type": "inbox"})
    node.alerts.subscribe(telco, {"phone_prefixes": ["+6681"]}, {"type": "inbox"})
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    indicator, _ = node.registry.submit(police, ACCOUNT | {"tags": ["Myawaddy"]})
    node.registry.submit(police, {"kind": "phone", "value": "0891234567", "category": "scam_call"})
    run_rules(node)

    [alert] = alerts_of(node, "TH-KBANK")
    assert alert.rule == Rule.LISTED
    assert alert.indicator_id == indicator.id
    assert alert.body["identifier"] == {"kind": "bank_account", "value": "TH:004:1234567890"}
    assert alert.body["reason"].startswith("matches your subscription")
    assert alert.body["links"]["indicator"] == f"/api/v1/indicators/{indicator.id}"
    assert alert.body["indicator"]["tags"] == ["myawaddy"]
    assert "agency" not in alert.body["indicator"]  # a partner never learns who reported
    assert alerts_of(node, "TH-AIS") == []  # +6689 is not the telco's range
    assert alerts_of(node, "TH-CCIB") == []  # the reporter is not told of its own report


def test_phone_prefix_and_filters_combine(node: Node, agencies: Agencies) -> None:
    telco = agencies.principal("TH-AIS", Role.PARTNER)
    node.alerts.subscribe(
        telco, {"phone_prefixes": ["+6681"], "categories": ["scam_call"]}, {"type": "sse"}
    )
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    node.registry.submit(police, {"kind": "phone", "value": "0812345678", "category": "scam_sms"})
    node.registry.submit(police, {"kind": "phone", "value": "0812345679", "category": "scam_call"})
    run_rules(node)
    assert [a.value for a in alerts_of(node, "TH-AIS")] == ["+66812345679"]


def test_tlp_decides_who_hears(node: Node, agencies: Agencies) -> None:
    for agency, role in [("TH-KBANK", Role.PARTNER), ("KH-GCNP", Role.ANALYST)]:
        node.alerts.subscribe(agencies.principal(agency, role), {}, {"type": "inbox"})
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    node.registry.submit(police, ACCOUNT | {"tlp": "RED"})
    node.registry.submit(
        police, {**ACCOUNT, "value": "TH:KBANK:111-1-11111-1", "tlp": "AMBER+STRICT"}
    )
    node.registry.submit(police, {**ACCOUNT, "value": "TH:KBANK:222-2-22222-2", "tlp": "GREEN"})
    run_rules(node)
    bank = {a.value for a in alerts_of(node, "TH-KBANK")}
    foreign_police = {a.value for a in alerts_of(node, "KH-GCNP")}
    assert bank == {"TH:004:2222222222"}
    assert foreign_police == {"TH:004:1111111111", "TH:004:2222222222"}


def test_watchlist_hit(node: Node, agencies: Agencies) -> None:
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    result = node.alerts.upload_watchlist(
        bank, "payees", [{"kind": "bank_account", "value": "KASITHBK:1234567890"}]
    )
    assert result["items"] == 1
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    run_rules(node)
    [alert] = alerts_of(node, "TH-KBANK")
    assert alert.rule == Rule.WATCHLIST
    # Replacing the list with an empty one stops the alerts.
    node.alerts.upload_watchlist(bank, "payees", [])
    node.registry.submit(agencies.principal("KH-GCNP", Role.ANALYST), ACCOUNT)
    run_rules(node)
    assert _rules(node, "TH-KBANK") == [Rule.WATCHLIST]


def test_lookup_hit_tells_the_reporter_naming_only_whom_it_may(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    indicator, _ = node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    node.lookups.lookup(
        agencies.principal("TH-KBANK", Role.PARTNER), "bank_account", ACCOUNT["value"]
    )
    clock.advance(timedelta(minutes=11))  # past the sighting window: an alert of its own
    node.lookups.lookup(
        agencies.principal("KH-GCNP", Role.ANALYST), "bank_account", ACCOUNT["value"]
    )
    run_rules(node)
    by_bank, by_police = alerts_of(node, "TH-CCIB")
    assert by_bank.rule == by_police.rule == Rule.SIGHTING
    assert by_bank.indicator_id == indicator.id
    assert by_bank.body["sighting"]["by"] == {
        "role": "partner",
        "country": "TH",
        "agency_kind": "bank",
    }
    assert by_police.body["sighting"]["by"]["agency"] == "KH-GCNP"


def test_cross_border_corroboration_tells_every_reporter(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    node.registry.submit(agencies.principal("TH-NBTC", Role.ANALYST), ACCOUNT)  # same country
    run_rules(node)
    assert _rules(node, "TH-CCIB") == []
    node.registry.submit(
        agencies.principal("KH-GCNP", Role.ANALYST),
        {"kind": "bank_account", "value": "KASITHBK:1234567890", "category": "mule_account"},
    )
    run_rules(node)
    for agency in ("TH-CCIB", "TH-NBTC", "KH-GCNP"):
        [alert] = alerts_of(node, agency)
        assert alert.rule == Rule.CORROBORATION
        assert alert.body["countries"] == ["KH", "TH"]
        assert alert.body["agencies"] == ["KH-GCNP", "TH-CCIB", "TH-NBTC"]


def test_surge_of_lookups_within_the_window(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    run_rules(node)
    node.alerts.subscribe(
        agencies.principal("TH-NBTC", Role.ANALYST), {"kinds": ["bank_account"]}, {"type": "inbox"}
    )
    value = ACCOUNT["value"]
    node.lookups.lookup(agencies.principal("TH-KBANK", Role.PARTNER), "bank_account", value)
    clock.advance(timedelta(minutes=61))  # the first look-up falls out of the window
    for agency, role in [("TH-AIS", Role.PARTNER), ("KH-GCNP", Role.ANALYST)]:
        node.lookups.lookup(agencies.principal(agency, role), "bank_account", value)
        clock.advance(timedelta(minutes=10))
    run_rules(node)
    assert Rule.SURGE not in _rules(node, "TH-CCIB")
    node.lookups.lookup(agencies.principal("TH-KBANK", Role.PARTNER), "bank_account", value)
    node.lookups.lookup(agencies.principal("TH-NBTC", Role.ANALYST), "bank_account", value)
    run_rules(node)
    surges = [a for a in alerts_of(node, "TH-CCIB") if a.rule == Rule.SURGE]
    assert len(surges) == 1  # quiet for one window after a surge
    assert surges[0].body["agencies_looking"] == 3
    assert [a.rule for a in alerts_of(node, "TH-NBTC")] == [Rule.SURGE]


def test_surge_window_survives_a_restart(
    node: Node, agencies: Agencies, settings: object, clock: ManualClock
) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    value = ACCOUNT["value"]
    for agency, role in [("TH-KBANK", Role.PARTNER), ("TH-AIS", Role.PARTNER)]:
        node.lookups.lookup(agencies.principal(agency, role), "bank_account", value)
    run_rules(node)
    from fraudx.platform.ids import IdFactory
    from fraudx.platform.settings import Settings

    assert isinstance(settings, Settings)
    again = Node.open(settings, clock=clock, ids=IdFactory(clock))
    try:
        again.lookups.lookup(agencies.principal("KH-GCNP", Role.ANALYST), "bank_account", value)
        run_rules(again)
        assert Rule.SURGE in _rules(again, "TH-CCIB")
    finally:
        again.close()


def test_revocation_tells_who_was_alerted(node: Node, agencies: Agencies) -> None:
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    sub = node.alerts.subscribe(bank, {"kinds": ["bank_account"]}, {"type": "inbox"})
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    indicator, _ = node.registry.submit(police, ACCOUNT)
    run_rules(node)
    node.alerts.unsubscribe(bank, sub.id)  # it acted on the alert, then stopped listening
    node.registry.revoke(police, indicator.id, "false_positive")
    run_rules(node)
    assert _rules(node, "TH-KBANK") == [Rule.LISTED, Rule.REVOCATION]
    assert alerts_of(node, "TH-KBANK")[1].body["change"] == "revoked"


def test_each_event_raises_its_alerts_once(node: Node, agencies: Agencies) -> None:
    node.alerts.subscribe(agencies.principal("TH-KBANK", Role.PARTNER), {}, {"type": "inbox"})
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    assert run_rules(node) >= 1
    assert run_rules(node) == 0
    assert len(alerts_of(node, "TH-KBANK")) == 1


def test_changes_made_by_another_process_are_picked_up(
    node: Node, agencies: Agencies, settings: object, clock: ManualClock
) -> None:
    from fraudx.platform.ids import IdFactory
    from fraudx.platform.settings import Settings

    assert isinstance(settings, Settings)
    run_rules(node)  # the engine has loaded
    worker = Node.open(settings, clock=clock, ids=IdFactory(clock))  # another API worker
    try:
        bank = agencies.principal("TH-KBANK", Role.PARTNER)
        telco = agencies.principal("TH-AIS", Role.PARTNER)
        sub = worker.alerts.subscribe(bank, {"kinds": ["bank_account"]}, {"type": "inbox"})
        worker.alerts.upload_watchlist(telco, "lines", [{"kind": "phone", "value": "0812345678"}])
    finally:
        worker.close()
    node.alerts.engine.refresh()
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    node.registry.submit(police, ACCOUNT)
    node.registry.submit(police, {"kind": "phone", "value": "0812345678", "category": "scam_call"})
    run_rules(node)
    assert _rules(node, "TH-KBANK") == [Rule.LISTED]
    assert _rules(node, "TH-AIS") == [Rule.WATCHLIST]
    node.alerts.unsubscribe(bank, sub.id)
    assert sub.id not in node.alerts.engine.index.subscriptions


def test_repeated_lookups_fold_into_one_sighting_alert_per_window(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    value = ACCOUNT["value"]
    bank, telco = (agencies.principal(a, Role.PARTNER) for a in ("TH-KBANK", "TH-AIS"))
    node.lookups.lookup(bank, "bank_account", value)
    run_rules(node)
    [first] = alerts_of(node, "TH-CCIB")
    assert first.rule == Rule.SIGHTING
    assert "repeated" not in first.body["sighting"]
    for who in (bank, bank, telco):  # the same pass and later passes alike
        clock.advance(timedelta(minutes=2))
        node.lookups.lookup(who, "bank_account", value)
    node.lookups.lookup(bank, "bank_account", value)
    run_rules(node)
    [same] = alerts_of(node, "TH-CCIB")
    assert same.id == first.id
    repeated = same.body["sighting"]["repeated"]
    assert repeated["lookups"] == 5
    assert repeated["agencies"] == 2
    assert repeated["last_at"] > first.body["sighting"]["at"]
    clock.advance(timedelta(minutes=10))  # the window (10 minutes by default) has closed
    node.lookups.lookup(bank, "bank_account", value)
    run_rules(node)
    assert [a.rule for a in alerts_of(node, "TH-CCIB")] == [Rule.SIGHTING, Rule.SIGHTING]


def test_folded_lookups_still_make_a_surge(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    for agency, role in [
        ("TH-KBANK", Role.PARTNER),
        ("TH-AIS", Role.PARTNER),
        ("KH-GCNP", Role.ANALYST),
    ]:
        node.lookups.lookup(agencies.principal(agency, role), "bank_account", ACCOUNT["value"])
        run_rules(node)
    rules = [a.rule for a in alerts_of(node, "TH-CCIB")]
    assert rules == [Rule.SIGHTING, Rule.SURGE]
