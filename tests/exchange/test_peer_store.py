"""Storing a page of peers' reports, on either database: ids of every spelling found
again when held, reports above and below what is held, times a report shares between its
fields or not, optional columns on some reports of a page only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from fraudx.exchange.model import Parsed
from fraudx.identifiers import IdentifierKind
from fraudx.node import Node
from fraudx.registry.model import Status, Tlp
from fraudx.registry.origin import PeerImport, PeerReport
from fraudx.registry.store import indicators as t
from tests.conftest import START


def _report(origin: str, n: int, when: datetime, **changes: Any) -> PeerReport:
    report = PeerReport(
        origin_node="kh",
        origin_id=origin,
        kind=IdentifierKind.PHONE,
        value=f"+85512{800000 + n}",
        category="scam_call",
        confidence=60,
        tlp=Tlp.AMBER,
        status=Status.ACTIVE,
        agency_code="KH-GCNP",
        country="KH",
        valid_from=when,
        valid_until=when + timedelta(days=90),
        first_seen=when,
        last_seen=when,
        created_at=when,
        updated_at=when,
        description="reported by a victim",
        tags=("compound",),
        region=None,
        agency_kind="police",
        agency_name="General Commissariat",
    )
    return report._replace(**changes)


def _store(node: Node, reports: list[PeerReport]) -> PeerImport:
    return node.exchange.store_parsed("kh", Parsed(reports, [], [])).outcome


def _rows(node: Node) -> dict[str, tuple[Any, ...]]:
    columns = (t.c.status, t.c.confidence, t.c.first_seen, t.c.last_seen, t.c.updated_at)
    columns += (t.c.region, t.c.description)
    with node.platform.db.read() as session:
        query = select(t.c.origin_id, *columns).where(t.c.origin_node == "kh")
        return {r[0]: tuple(r[1:]) for r in session.execute(query)}


#: Ids JSON writes with an escape, or with bytes beyond ASCII, beside plain ones.
_ODD = ['id "quoted"', "back\\slash", "tab\there", "ünïcode-ид", "plain-1", "plain-2"]


def test_held_reports_of_every_spelling_are_found_again(node: Node) -> None:
    assert _store(node, [_report(o, n, START) for n, o in enumerate(_ODD)]) == PeerImport(created=6)
    later = START + timedelta(hours=1)
    again = [_report(o, n, START) for n, o in enumerate(_ODD[:3])]
    again += [_report(o, n + 3, later, confidence=90) for n, o in enumerate(_ODD[3:])]
    assert _store(node, again) == PeerImport(updated=3, unchanged=3)
    confidences = {o: r[1] for o, r in _rows(node).items()}
    assert confidences == dict.fromkeys(_ODD[:3], 60) | dict.fromkeys(_ODD[3:], 90)


def test_a_page_above_and_below_what_is_held(node: Node) -> None:
    """Ids below the greatest held are looked up; those above it cannot be held."""
    held = [_report(f"id-{n:03d}", n, START) for n in range(10, 20)]
    assert _store(node, held) == PeerImport(created=10)
    later = START + timedelta(minutes=5)
    page = [_report(f"id-{n:03d}", n, later, status=Status.REVOKED) for n in (12, 15)]
    page += [_report(f"id-{n:03d}", n, START) for n in (5, 19, 25, 30)]
    assert _store(node, page) == PeerImport(created=3, revoked=2, unchanged=1)
    rows = _rows(node)
    assert len(rows) == 13
    statuses = [rows[f"id-{n:03d}"][0] for n in (12, 15, 5, 19)]
    assert statuses == ["revoked", "revoked", "active", "active"]


def test_times_and_optional_columns_as_each_report_has_them(node: Node) -> None:
    """A time shared by fields of every report is written once per row; where a report's
    fields differ (or are equal but distinct objects) each is its own; a region or a
    description lands only on the reports that have one."""
    shared = [_report(f"a-{n}", n, START) for n in range(3)]
    apart = [
        _report(
            f"b-{n}",
            10 + n,
            START,
            first_seen=START - timedelta(days=n),
            last_seen=datetime.fromisoformat(START.isoformat()),
            region="PP" if n == 1 else None,
            description=None,
        )
        for n in range(3)
    ]
    assert _store(node, shared) == PeerImport(created=3)
    assert _store(node, apart) == PeerImport(created=3)
    rows = _rows(node)
    assert rows["a-0"][2:] == (START, START, START, None, "reported by a victim")
    for n in range(3):
        first, last, updated, region, description = rows[f"b-{n}"][2:]
        assert (first, last, updated) == (START - timedelta(days=n), START, START)
        assert (region, description) == ("PP" if n == 1 else None, None)
