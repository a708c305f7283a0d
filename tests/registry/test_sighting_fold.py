"""Look-up hits fold into one sighting row per caller and identifier within a window;
every hit is still counted, in the row and for the alert engine."""

from __future__ import annotations

from datetime import timedelta

from fraudx.alerts.model import Rule
from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from tests.alerts.helpers import alerts_of, run_rules
from tests.conftest import Agencies

PHONE = {"kind": "phone", "value": "081 234 5678", "category": "scam_call"}
ITEM = {"kind": "phone", "value": "+66812345678"}


def test_hits_fold_per_caller_within_the_window_and_all_are_counted(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    telco = agencies.principal("TH-AIS", Role.PARTNER)
    for _ in range(3):  # three flushes: the row written first is added to
        node.lookups.lookup_many(bank, [ITEM, ITEM])
        node.recorder.flush()
        clock.advance(timedelta(seconds=10))
    last = clock.now() - timedelta(seconds=10)
    node.lookups.lookup(telco, ITEM["kind"], ITEM["value"])
    node.recorder.flush()
    [telcos, banks] = node.lookups.sightings(agencies.principal("TH-CCIB", Role.ANALYST))[0]
    assert (banks.agency_code, banks.count, banks.last_at) == ("TH-KBANK", 6, last)
    assert (telcos.agency_code, telcos.count, telcos.last_at) == ("TH-AIS", 1, None)

    clock.advance(timedelta(minutes=1))  # the bank's row has closed: a new one
    node.lookups.lookup_many(bank, [ITEM])
    node.recorder.flush()
    counts = [(s.agency_code, s.count) for s in node.lookups.sightings(bank)[0]]
    assert counts == [("TH-KBANK", 1), ("TH-KBANK", 6)]

    run_rules(node)  # the reporter's alert counts every look-up of its window
    [alert] = alerts_of(node, "TH-CCIB")
    assert alert.rule == Rule.SIGHTING
    assert alert.body["sighting"]["repeated"]["lookups"] == 8
    assert alert.body["sighting"]["repeated"]["agencies"] == 2


def test_a_backlog_is_written_by_whoever_adds_to_it(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    node.recorder.MAX_PENDING = 1
    node.lookups.lookup_many(bank, [ITEM])  # its audit entry and its hit: over the bound
    assert node.recorder.pending == 0
    assert [s.count for s in node.lookups.sightings(bank)[0]] == [1]


def test_reported_sightings_are_never_folded(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    for _ in range(2):
        node.lookups.report_sighting(bank, "phone", ITEM["value"], source="lookup")
    assert [s.count for s in node.lookups.sightings(bank)[0]] == [1, 1]


def test_later_hits_reach_the_alert_engine_when_the_row_closes(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    """The engine hears of a row at once and of its later hits when it closes (or when
    the node stops): a screening bank's repeats do not make an engine pass per flush."""
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), PHONE)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    for _ in range(3):
        node.lookups.lookup_many(bank, [ITEM])
        node.recorder.flush()
        clock.advance(timedelta(seconds=5))
    run_rules(node)
    [alert] = alerts_of(node, "TH-CCIB")
    assert alert.body["sighting"].get("repeated") is None  # one look-up told so far
    node.recorder.flush(final=True)  # as the node stops
    run_rules(node)
    [alert] = alerts_of(node, "TH-CCIB")
    assert alert.body["sighting"]["repeated"]["lookups"] == 3
    assert [s.count for s in node.lookups.sightings(bank)[0]] == [3]  # the row knew all along
