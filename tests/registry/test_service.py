"""The registry's use cases on both databases: corroboration, revocation, expiry, sharing."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import ManualClock
from fraudx.platform.errors import InvalidIdentifier, InvalidInput, NotFound, NotPermitted
from fraudx.registry.formats import BulkFormat, read_rows
from fraudx.registry.lookup import LookupResult
from fraudx.registry.lookups import LookupError_
from fraudx.registry.model import Status
from tests.conftest import Agencies
from tests.waiting import wait_for

ACCOUNT = {"kind": "bank_account", "value": "TH:KBANK:123-4-56789-0", "category": "mule_account"}
CANONICAL = "TH:004:1234567890"


def test_two_agencies_corroborate_one_identifier(node: Node, agencies: Agencies) -> None:
    thai = agencies.principal("TH-CCIB", Role.ANALYST)
    khmer = agencies.principal("KH-GCNP", Role.ANALYST)
    first, created = node.registry.submit(thai, ACCOUNT | {"confidence": 60})
    # A different spelling of the same account, from another country's police.
    second, created_too = node.registry.submit(
        khmer, {"kind": "bank_account", "value": "KASITHBK:1234567890", "category": "mule_account"}
    )
    assert created
    assert created_too
    assert first.id != second.id
    assert first.identifier == second.identifier
    assert first.identifier.value == CANONICAL

    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    result = node.lookups.lookup(bank, "bank_account", CANONICAL)
    assert result.listed
    assert result.reports == 2
    assert result.countries == ("KH", "TH")
    assert result.categories == ("mule_account",)


def test_same_agency_again_updates_its_report(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    first, _ = node.registry.submit(analyst, ACCOUNT | {"confidence": 40})
    clock.advance(timedelta(days=3))
    again, created = node.registry.submit(analyst, ACCOUNT | {"confidence": 90})
    assert not created
    assert again.id == first.id
    assert again.confidence == 90
    assert again.last_seen == clock.now()
    assert again.first_seen == first.first_seen
    page = node.registry.search(analyst, node.registry.search_filter(kind="bank_account"))
    assert [i.id for i in page.items] == [first.id]
    history = node.registry.history(analyst, first.id)
    assert [h.action for h in history] == ["re-reported"]
    assert history[0].detail["confidence"] == [40, 90]


def test_reports_taken_at_the_same_moment_commit_together_and_stay_apart(
    node: Node, agencies: Agencies
) -> None:
    """Reports queued behind a write share its transaction (group commit): the same
    agency's two reports of one account still make one report, and each caller gets
    its own answer."""
    thai = agencies.principal("TH-CCIB", Role.ANALYST)
    khmer = agencies.principal("KH-GCNP", Role.ANALYST)
    holding, release = threading.Event(), threading.Event()

    def held(_session: object) -> None:
        holding.set()
        assert release.wait(5)

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(node.platform.groups.run, held)
        assert holding.wait(5)
        reports = []
        for who, confidence in ((thai, 40), (khmer, 70), (thai, 90)):
            reports.append(
                pool.submit(node.registry.submit, who, ACCOUNT | {"confidence": confidence})
            )
            # Queued in this order: wait for each before sending the next.
            wait_for(lambda n=len(reports): len(node.platform.groups._queue) == n)
        release.set()
        first.result(5)
        (a, a_new), (k, k_new), (b, b_new) = (r.result(5) for r in reports)
    assert a_new
    assert k_new
    assert not b_new
    assert b.id == a.id
    assert b.confidence == 90
    assert k.id != a.id
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    assert node.lookups.lookup(bank, "bank_account", CANONICAL).reports == 2
    assert node.platform.audit.verify().ok


def test_revocation_keeps_the_record_and_stops_matching(node: Node, agencies: Agencies) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    indicator, _ = node.registry.submit(analyst, ACCOUNT)
    assert node.lookups.lookup(bank, "bank_account", CANONICAL).listed

    # A wrongly listed person appeals; the node admin revokes as a false positive.
    admin = agencies.principal("TH-CCIB", Role.ADMIN)
    revoked = node.registry.revoke(admin, indicator.id, "false_positive", "appeal 2026/17 upheld")
    assert revoked.status is Status.REVOKED

    assert not node.lookups.lookup(bank, "bank_account", CANONICAL).listed
    kept = node.registry.get(analyst, indicator.id)
    assert kept.status is Status.REVOKED
    assert kept.revoked_reason is not None
    assert kept.revoked_reason.value == "false_positive"
    history = node.registry.history(analyst, indicator.id)
    assert history[-1].action == "revoked"
    assert history[-1].detail == {"reason": "false_positive", "note": "appeal 2026/17 upheld"}
    with pytest.raises(InvalidInput, match="already revoked"):
        node.registry.revoke(admin, indicator.id, "resolved")

    # Reporting the identifier again after revocation makes a new report.
    fresh, created = node.registry.submit(analyst, ACCOUNT)
    assert created
    assert fresh.id != indicator.id


def test_only_the_reporting_agency_or_an_admin_revokes(node: Node, agencies: Agencies) -> None:
    indicator, _ = node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    with pytest.raises(NotPermitted):
        node.registry.revoke(agencies.principal("KH-GCNP", Role.ANALYST), indicator.id, "resolved")
    with pytest.raises(NotPermitted):
        node.registry.revoke(agencies.principal("TH-KBANK", Role.PARTNER), indicator.id, "resolved")
    with pytest.raises(InvalidInput, match="reason"):
        node.registry.revoke(agencies.principal("TH-CCIB", Role.ANALYST), indicator.id, "bored")


def test_expiry_stops_matching_at_once_and_is_recorded(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    phone, _ = node.registry.submit(
        analyst, {"kind": "phone", "value": "081 234 5678", "category": "scam_call"}
    )
    account, _ = node.registry.submit(analyst, ACCOUNT)
    # Phone numbers age faster than bank accounts.
    assert phone.valid_until - phone.valid_from == timedelta(days=90)
    assert account.valid_until - account.valid_from == timedelta(days=365)

    clock.advance(timedelta(days=91))
    # Before the sweep runs, the look-up already ignores the expired report ...
    assert not node.lookups.lookup(bank, "phone", "+66812345678").listed
    assert node.lookups.lookup(bank, "bank_account", CANONICAL).listed
    # ... and the sweep records it.
    assert node.registry.expire_due() == 1
    assert node.registry.get(analyst, phone.id).status is Status.EXPIRED
    assert [h.action for h in node.registry.history(analyst, phone.id)] == ["expired"]
    assert node.registry.expire_due() == 0


def test_national_forms_read_in_the_reporters_country(node: Node, agencies: Agencies) -> None:
    thai = agencies.principal("TH-CCIB", Role.ANALYST)
    indicator, _ = node.registry.submit(
        thai, {"kind": "phone", "value": "081-234-5678", "category": "scam_call"}
    )
    assert indicator.identifier.value == "+66812345678"
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    assert node.lookups.lookup(bank, "phone", "0812345678").listed
    # A Cambodian caller's national form is read in Cambodia.
    khmer = agencies.principal("KH-GCNP", Role.ANALYST)
    with pytest.raises(InvalidIdentifier, match="not a valid number in KH"):
        node.lookups.lookup(khmer, "phone", "0812345678")
    assert node.lookups.lookup(khmer, "phone", "0812345678", region="TH").listed


def test_an_address_inside_a_listed_network_matches(node: Node, agencies: Agencies) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    network, _ = node.registry.submit(
        analyst, {"kind": "ip", "value": "203.0.113.77/24", "category": "scam_compound_network"}
    )
    assert network.identifier.value == "203.0.113.0/24"
    assert node.lookups.lookup(bank, "ip", "203.0.113.200").listed
    assert node.lookups.lookup(bank, "ip", "203.0.113.0/26").listed
    assert not node.lookups.lookup(bank, "ip", "203.0.114.1").listed
    node.registry.revoke(analyst, network.id, "resolved")
    assert not node.lookups.lookup(bank, "ip", "203.0.113.200").listed


def test_batch_answers_bad_items_alone_in_order(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    results = node.lookups.lookup_many(
        bank,
        [
            {"kind": "phone", "value": "12"},
            {"kind": "bank_account", "value": "TH-004-123-4-56789-0"},
            {"kind": "bank_account", "value": CANONICAL},
            {"kind": "spaceship", "value": "x"},
            {"kind": "phone"},
            {"kind": "phone", "value": "+66 81 234 5679"},
        ],
    )
    assert len(results) == 6
    assert isinstance(results[0], LookupError_)
    assert results[0].field == "value"
    assert isinstance(results[1], LookupError_)
    assert not isinstance(results[2], LookupError_)
    assert results[2].listed
    assert isinstance(results[3], LookupError_)
    assert results[3].field == "kind"
    assert isinstance(results[4], LookupError_)
    assert results[4].reason == "is required"
    assert not isinstance(results[5], LookupError_)
    assert not results[5].listed
    with pytest.raises(InvalidInput, match="at most 10000"):
        node.lookups.lookup_many(bank, [{"kind": "phone", "value": "1"}] * 10_001)


def test_single_lookup_of_junk_raises_the_reason(node: Node, agencies: Agencies) -> None:
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    with pytest.raises(InvalidIdentifier, match="too short"):
        node.lookups.lookup(bank, "phone", "12")


def test_sightings_are_recorded_on_hits_and_seen_by_reporters(
    node: Node, agencies: Agencies
) -> None:
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    khmer = agencies.principal("KH-GCNP", Role.ANALYST)
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    node.registry.submit(police, ACCOUNT | {"tlp": "RED"})
    # The bank may not see a RED report, but its look-up is still a sighting for the police.
    assert not node.lookups.lookup(bank, "bank_account", CANONICAL).listed
    node.lookups.lookup(bank, "bank_account", "TH:004:9999999999")  # a miss: no sighting
    node.lookups.report_sighting(
        bank, "bank_account", CANONICAL, source="blocked_transfer", note="THB 48,000 held"
    )
    seen, _ = node.lookups.sightings(police)
    assert [(s.agency_code, s.source) for s in seen] == [
        ("TH-KBANK", "blocked_transfer"),
        ("TH-KBANK", "lookup"),
    ]
    assert all(s.value == CANONICAL for s in seen)
    # Another country's police reported nothing here and sees none of it ...
    assert node.lookups.sightings(khmer)[0] == []
    # ... and the bank sees its own.
    assert len(node.lookups.sightings(bank)[0]) == 2


def test_observers_see_only_aggregate_figures(node: Node, agencies: Agencies) -> None:
    node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
    observer = agencies.principal("TH-UNODC", Role.OBSERVER)
    with pytest.raises(NotPermitted):
        node.lookups.lookup(observer, "bank_account", CANONICAL)
    with pytest.raises(NotPermitted):
        node.registry.search(observer, node.registry.search_filter())
    assert node.registry.stats(observer) == [("TH", "bank_account", "mule_account", "active", 1)]


def test_partners_cannot_report_and_are_told_why(node: Node, agencies: Agencies) -> None:
    with pytest.raises(NotPermitted, match="analyst"):
        node.registry.submit(agencies.principal("TH-KBANK", Role.PARTNER), ACCOUNT)


def test_search_filters_and_cursor(node: Node, agencies: Agencies, clock: ManualClock) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    for n in range(5):
        clock.advance(timedelta(seconds=1))
        node.registry.submit(
            analyst,
            {
                "kind": "phone",
                "value": f"+6681234567{n}",
                "category": "scam_call" if n % 2 else "scam_sms",
                "tags": ["myawaddy"] if n < 2 else [],
                "description": f"caller number {n} posing as DHL" if n == 4 else None,
            },
        )
    search = node.registry.search_filter
    first = node.registry.search(analyst, search(kind="phone"), limit=2)
    assert len(first.items) == 2
    assert first.next_cursor
    rest = node.registry.search(analyst, search(kind="phone"), cursor=first.next_cursor, limit=10)
    values = [i.identifier.value for i in first.items + rest.items]
    assert values == [f"+6681234567{n}" for n in (4, 3, 2, 1, 0)]
    assert rest.next_cursor is None
    assert len(node.registry.search(analyst, search(category="scam_sms")).items) == 3
    assert len(node.registry.search(analyst, search(tag="myawaddy")).items) == 2
    assert len(node.registry.search(analyst, search(text="dhl")).items) == 1
    assert len(node.registry.search(analyst, search(country="KH")).items) == 0
    assert (
        len(
            node.registry.search(
                analyst, search(kind="phone", value="0812345673", default_region="TH")
            ).items
        )
        == 1
    )
    with pytest.raises(InvalidInput, match="status"):
        search(status="deleted")
    with pytest.raises(InvalidInput, match="category"):
        search(category="nonsense")


def test_import_stores_good_rows_and_reports_each_bad_one(node: Node, agencies: Agencies) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    text = (
        "kind,value,category,confidence,tlp,valid_until,region,case_ref,description,tags\n"
        "phone,0812345678,scam_call,80,GREEN,,,CASE-1,,myawaddy;sim-farm\n"
        "phone,12,scam_call,80,,,,,,\n"
        "bank_account,TH:004:1234567890,mule_account,101,,,,,,\n"
        "ip,10.1.2.3,scam_compound_network,50,PURPLE,,,,,\n"
        'url,"https://Example.COM:443/a/../login#x",phishing_url,,,,,,"multi\nline",\n'
        "domain,bad..domain,scam_website,,,,,,,\n"
        "phone,0812345679,scam_call,70,,2020-01-01,,,,\n"
    )
    report = node.registry.import_rows(analyst, read_rows(text.splitlines(True), BulkFormat.CSV))
    assert report.accepted == 2
    assert report.stored
    assert [(p.line, p.field) for p in report.rejected] == [
        (3, "value"),
        (4, "confidence"),
        (5, "tlp"),
        (8, "value"),
        (9, "valid_until"),
    ]
    page = node.registry.search(analyst, node.registry.search_filter())
    stored = {i.identifier.value: i for i in page.items}
    assert set(stored) == {"+66812345678", "https://example.com/login"}
    assert stored["+66812345678"].tags == ("myawaddy", "sim-farm")
    assert stored["https://example.com/login"].description == "multi\nline"


def test_atomic_import_stores_nothing_when_a_row_is_bad(node: Node, agencies: Agencies) -> None:
    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    lines = [
        '{"kind": "phone", "value": "+66812345678", "category": "scam_call"}\n',
        "not json\n",
        '{"kind": "phone", "value": "+66812345679", "category": "scam_call", "colour": 1}\n',
    ]
    report = node.registry.import_rows(analyst, read_rows(lines, BulkFormat.JSONL), atomic=True)
    assert not report.stored
    assert report.accepted == 0
    assert [(p.line, p.field) for p in report.rejected] == [(2, "row"), (3, "row")]
    assert node.registry.search(analyst, node.registry.search_filter()).items == []
    bank = agencies.principal("TH-KBANK", Role.PARTNER)
    assert not node.lookups.lookup(bank, "phone", "+66812345678").listed

    good = node.registry.import_rows(analyst, read_rows(lines[:1], BulkFormat.JSONL), atomic=True)
    assert good.stored
    assert good.accepted == 1
    assert node.lookups.lookup(bank, "phone", "+66812345678").listed


def test_a_second_process_sees_changes_through_the_outbox(
    node: Node, agencies: Agencies, settings: object, clock: ManualClock
) -> None:
    from fraudx.platform.ids import IdFactory
    from fraudx.platform.settings import Settings

    assert isinstance(settings, Settings)
    other = Node.open(settings, clock=clock, ids=IdFactory(clock))
    try:
        bank = agencies.principal("TH-KBANK", Role.PARTNER)
        assert not other.lookups.lookup(bank, "bank_account", CANONICAL).listed  # builds
        indicator, _ = node.registry.submit(agencies.principal("TH-CCIB", Role.ANALYST), ACCOUNT)
        assert other.index.follow() == 1
        assert other.lookups.lookup(bank, "bank_account", CANONICAL).listed
        node.registry.revoke(agencies.principal("TH-CCIB", Role.ADMIN), indicator.id, "resolved")
        other.index.follow()
        assert not other.lookups.lookup(bank, "bank_account", CANONICAL).listed
    finally:
        other.close()


def test_own_changes_are_read_back_only_if_others_came_before_them(
    node: Node, agencies: Agencies, settings: object, clock: ManualClock
) -> None:
    from fraudx.platform.ids import IdFactory
    from fraudx.platform.settings import Settings

    assert isinstance(settings, Settings)
    other = Node.open(settings, clock=clock, ids=IdFactory(clock))
    try:
        police = agencies.principal("TH-CCIB", Role.ANALYST)
        bank = agencies.principal("TH-KBANK", Role.PARTNER)
        node.index.ensure_built()
        node.registry.submit(police, ACCOUNT)
        assert node.lookups.lookup(bank, "bank_account", CANONICAL).listed
        assert node.index.follow() == 0  # applied on commit, counted as read
        # Another process's event comes first: the follower reads both, in order.
        phone = {"kind": "phone", "category": "scam_call"}
        other.registry.submit(police, phone | {"value": "0812345678"})
        node.registry.submit(police, phone | {"value": "0812345679"})
        assert node.index.follow() == 2
        assert node.lookups.lookup(bank, "phone", "0812345678").listed
        assert node.index.follow() == 0
    finally:
        other.close()


def test_unknown_indicator_is_not_found(node: Node, agencies: Agencies) -> None:
    with pytest.raises(NotFound):
        node.registry.get(agencies.principal("TH-CCIB", Role.ANALYST), "01a21558-0000-7000-8000-0")


def test_a_lookup_without_the_index_answers_as_the_index(
    node: Node, agencies: Agencies, clock: ManualClock
) -> None:
    police = agencies.principal("TH-CCIB", Role.ANALYST)
    khmer = agencies.principal("KH-GCNP", Role.ANALYST)
    node.registry.submit(police, {"kind": "phone", "value": "0812345678", "category": "scam_call"})
    node.registry.submit(
        khmer, {"kind": "phone", "value": "+66812345678", "category": "scam_sms", "tlp": "RED"}
    )
    node.registry.submit(police, ACCOUNT | {"tlp": "AMBER+STRICT"})
    node.registry.submit(
        police, {"kind": "ip", "value": "203.0.113.0/24", "category": "scam_compound_network"}
    )
    gone, _ = node.registry.submit(
        police, {"kind": "domain", "value": "gone.example", "category": "scam_website"}
    )
    node.registry.revoke(police, gone.id, "resolved")
    clock.advance(timedelta(days=3))
    questions = [
        ("phone", "+66 81 234 5678"),
        ("bank_account", CANONICAL),
        ("ip", "203.0.113.9"),
        ("ip", "203.0.113.0/26"),
        ("ip", "198.51.100.1"),
        ("domain", "gone.example"),
    ]
    viewers = [
        agencies.principal("TH-KBANK", Role.PARTNER),
        agencies.principal("TH-NBTC", Role.LIAISON),
        khmer,
        police,
    ]

    def answers() -> list[LookupResult]:
        return [node.lookups.lookup(v, kind, value) for v in viewers for kind, value in questions]

    node.lookups.build_index = False
    from_database = answers()
    assert not node.index.built
    node.lookups.build_index = True
    from_index = answers()
    assert node.index.built
    assert from_database == from_index
    assert [r.listed for r in from_index[:6]] == [True, False, True, True, False, False]
    # The RED phone report counts for its reporter only.
    khmer_phone, police_phone = from_index[12], from_index[18]
    assert khmer_phone.reports == 2
    assert police_phone.reports == 1


def test_a_large_import_checked_in_worker_processes(node: Node, agencies: Agencies) -> None:
    """Above the pool threshold rows are checked, and turned into rows and changes, in
    worker processes: a report met twice is one report (the later row stands), the
    outbox carries one change per report, and importing again updates every report."""
    from fraudx.platform import outbox
    from fraudx.registry.drafting import POOL_THRESHOLD
    from fraudx.registry.events import TOPIC, change_of

    analyst = agencies.principal("TH-CCIB", Role.ANALYST)
    unique = POOL_THRESHOLD + 500
    lines = ["kind,value,category,confidence,tags\n"]
    lines += [
        f"ip,10.{n // 65536}.{n // 256 % 256}.{n % 256},scam_compound_network,40,t{n % 3}\n"
        for n in range(unique)
    ]
    lines += ["ip,10.0.0.0,scam_compound_network,90,again\n", "ip,not-an-ip,scam_call,,\n"]
    first = node.registry.import_text(analyst, lines, BulkFormat.CSV)
    assert (first.accepted, first.created, first.updated) == (unique + 1, unique, 0)
    assert [(p.line, p.field) for p in first.rejected] == [(unique + 3, "value")]

    search = node.registry.search_filter
    [merged] = node.registry.search(analyst, search(kind="ip", value="10.0.0.0")).items
    assert merged.confidence == 90
    assert merged.tags == ("t0", "again")
    with node.platform.db.read() as session:
        events = outbox.read_after(session, 0, topics=[TOPIC], max_bytes=1 << 40)
    changes = {c["id"]: c for e in events for c in e.payload["changes"]}
    assert len(changes) == unique
    assert changes[merged.id] == change_of(merged, "created")

    again = node.registry.import_text(analyst, lines, BulkFormat.CSV)
    assert (again.accepted, again.created, again.updated) == (unique + 1, 0, unique)
    assert node.registry.count(analyst, search(kind="ip")) == unique
