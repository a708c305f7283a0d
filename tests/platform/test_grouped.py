"""Group commit: writes queued behind a transaction share the next one, on both databases;
one failing write fails alone; the audit chain and the outbox stay whole."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy.orm import Session

from fraudx.node import Node
from fraudx.platform import outbox
from fraudx.platform.agencies.model import operator
from fraudx.platform.grouped import GroupCommit
from fraudx.platform.outbox import NewEvent
from tests.waiting import wait_for


def _writer(node: Node, n: int, sessions: dict[int, int]) -> Callable[[Session], int]:
    """A write as a report makes it: an outbox event and an audit entry."""

    def work(session: Session) -> int:
        sessions[n] = id(session)
        now = node.platform.clock.now()
        event = NewEvent(node.platform.ids.new(), "test.grouped", str(n), {"n": n}, now)
        outbox.emit(session, [event])
        node.platform.audit.record(session, operator("test"), "test.grouped", str(n))
        return n * 10

    return work


def _first_holds(groups: GroupCommit, release: threading.Event) -> Future[str]:
    """Start a write that holds its transaction open until ``release``."""
    holding = threading.Event()

    def held(_session: Session) -> str:
        holding.set()
        assert release.wait(5)
        return "first"

    future = ThreadPoolExecutor(1).submit(groups.run, held)
    assert holding.wait(5)
    return future


def test_writes_queued_behind_a_transaction_commit_together(node: Node) -> None:
    groups = GroupCommit(node.platform.db)
    release = threading.Event()
    first = _first_holds(groups, release)
    sessions: dict[int, int] = {}
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(groups.run, _writer(node, n, sessions)) for n in range(8)]
        wait_for(lambda: len(groups._queue) == 8)
        release.set()
        results = [f.result(5) for f in futures]
    assert first.result(5) == "first"
    assert results == [n * 10 for n in range(8)]
    assert len(set(sessions.values())) == 1  # the eight shared one transaction
    with node.platform.db.read() as session:
        events = outbox.read_after(session, 0)
    assert sorted(e.payload["n"] for e in events) == list(range(8))
    chain = node.platform.audit.verify()
    assert chain.ok
    assert chain.checked == 8


def test_a_failing_write_fails_alone_and_leaves_nothing(node: Node) -> None:
    groups = GroupCommit(node.platform.db)
    release = threading.Event()
    first = _first_holds(groups, release)
    sessions: dict[int, int] = {}
    good = _writer(node, 1, sessions)
    also_good = _writer(node, 2, sessions)

    def bad(session: Session) -> int:
        _writer(node, 99, sessions)(session)  # wrote, then fails: must not be kept
        raise ValueError("this report is refused")

    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(groups.run, work) for work in (good, bad, also_good)]
        wait_for(lambda: len(groups._queue) == 3)
        release.set()
        assert futures[0].result(5) == 10
        with pytest.raises(ValueError, match="refused"):
            futures[1].result(5)
        assert futures[2].result(5) == 20
    first.result(5)
    with node.platform.db.read() as session:
        assert sorted(e.payload["n"] for e in outbox.read_after(session, 0)) == [1, 2]
    chain = node.platform.audit.verify()
    assert chain.ok
    assert chain.checked == 2


def test_a_lone_write_commits_at_once(node: Node) -> None:
    groups = GroupCommit(node.platform.db)
    sessions: dict[int, int] = {}
    assert groups.run(_writer(node, 5, sessions)) == 50
    with node.platform.db.read() as session:
        assert [e.payload["n"] for e in outbox.read_after(session, 0)] == [5]
