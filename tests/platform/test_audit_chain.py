"""The hash chain, as pure logic: every kind of tampering is caught and named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fraudx.platform.audit.model import GENESIS, AuditEntry, AuditEvent, chain, verify

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _log(n: int = 5) -> list[AuditEntry]:
    events = [
        (f"id-{i}", T0 + timedelta(seconds=i), AuditEvent(f"act.{i}", "cli:test", "admin"))
        for i in range(1, n + 1)
    ]
    return chain(events, 0, GENESIS)


def test_an_untouched_chain_verifies() -> None:
    log = _log()
    checked, problem = verify(log, log[-1].seq, log[-1].hash)
    assert (checked, problem) == (5, None)


def test_an_edited_entry_is_named() -> None:
    log = _log()
    log[2] = replace(log[2], event=replace(log[2].event, detail={"forged": True}))
    _, problem = verify(log, log[-1].seq, log[-1].hash)
    assert problem is not None
    assert (problem.seq, problem.entry_id) == (3, "id-3")
    assert "changed" in problem.reason


def test_a_deleted_entry_is_named() -> None:
    log = _log()
    del log[1]
    _, problem = verify(log, 5, _log()[-1].hash)
    assert problem is not None
    assert problem.seq == 2
    assert "missing" in problem.reason


def test_reordered_entries_are_caught() -> None:
    log = _log()
    log[1], log[2] = log[2], log[1]
    _, problem = verify(log, 5, _log()[-1].hash)
    assert problem is not None
    assert problem.seq == 2  # the chain breaks where entry 2 should stand
    assert "moved" in problem.reason


def test_an_inserted_entry_with_renumbering_is_caught() -> None:
    log = _log()
    forged = chain([("forged", T0, AuditEvent("x", "y", "admin"))], 2, log[1].hash)[0]
    renumbered = [replace(e, seq=e.seq + 1) for e in log[2:]]
    tampered = [*log[:2], forged, *renumbered]
    _, problem = verify(tampered, 6, renumbered[-1].hash)
    assert problem is not None
    assert problem.seq == 4  # the first original entry no longer links to its predecessor


def test_cut_off_tail_is_caught_by_the_head() -> None:
    log = _log()
    _, problem = verify(log[:3], 5, log[-1].hash)
    assert problem is not None
    assert "cut off" in problem.reason


def test_hash_covers_time_and_detail() -> None:
    a = _log(1)[0]
    b = chain([("id-1", T0 + timedelta(seconds=2), a.event)], 0, GENESIS)[0]
    assert a.hash != b.hash
