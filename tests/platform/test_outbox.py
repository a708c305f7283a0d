"""The outbox commits and rolls back with the change it reports, on both databases."""

from __future__ import annotations

import pytest

from fraudx.node import Node
from fraudx.platform import outbox
from fraudx.platform.outbox import NewEvent


def _event(node: Node, n: int) -> NewEvent:
    return NewEvent(
        node.platform.ids.new(), "test.happened", f"key-{n}", {"n": n}, node.platform.clock.now()
    )


def test_events_are_read_in_order_after_a_position(node: Node) -> None:
    db = node.platform.db
    with db.write() as session:
        span = outbox.emit(session, [_event(node, n) for n in range(5)])
        assert outbox.emit(session, []) is None
    with db.read() as session:
        events = outbox.read_after(session, 0)
        assert [e.payload["n"] for e in events] == [0, 1, 2, 3, 4]
        assert [e.seq for e in events] == sorted(e.seq for e in events)
        assert span == (events[0].seq, events[-1].seq)  # what emit says it wrote
        later = outbox.read_after(session, events[1].seq, limit=2)
        assert [e.payload["n"] for e in later] == [2, 3]
        assert outbox.last_seq(session) == events[-1].seq


def test_a_rolled_back_change_leaves_no_event(node: Node) -> None:
    db = node.platform.db

    def change_that_fails() -> None:
        with db.write() as session:
            outbox.emit(session, [_event(node, 1)])
            raise RuntimeError("the change failed after emitting")

    with pytest.raises(RuntimeError):
        change_that_fails()
    with db.read() as session:
        assert outbox.read_after(session, 0) == []


def test_consumer_positions_survive(node: Node) -> None:
    db, now = node.platform.db, node.platform.clock.now()
    with db.write() as session:
        assert outbox.position(session, "alerts") == 0
        outbox.save_position(session, "alerts", 7, now)
    with db.write() as session:
        outbox.save_position(session, "alerts", 9, now)
    with db.read() as session:
        assert outbox.position(session, "alerts") == 9
        assert outbox.position(session, "index") == 0


def test_a_read_stops_at_its_byte_bound_but_takes_at_least_one_event(node: Node) -> None:
    db = node.platform.db
    now = node.platform.clock.now()
    big = [
        NewEvent(node.platform.ids.new(), "test.big", None, {"pad": "x" * 1000, "n": n}, now)
        for n in range(3)
    ]
    with db.write() as session:
        outbox.emit(session, big)
    with db.read() as session:
        assert [e.payload["n"] for e in outbox.read_after(session, 0, max_bytes=2500)] == [0, 1]
        one = outbox.read_after(session, 0, max_bytes=10)
        assert [e.payload["n"] for e in one] == [0]
        rest = outbox.read_after(session, one[0].seq, max_bytes=2500)
        assert [e.payload["n"] for e in rest] == [1, 2]


def test_has_after_tells_whether_an_event_of_the_topics_follows(node: Node) -> None:
    db = node.platform.db
    with db.write() as session:
        outbox.emit(session, [_event(node, 1)])
    with db.read() as session:
        [event] = outbox.read_after(session, 0)
        assert outbox.has_after(session, 0)
        assert outbox.has_after(session, 0, topics=["test.happened"])
        assert not outbox.has_after(session, 0, topics=["other.topic"])
        assert not outbox.has_after(session, event.seq)


def test_item_fields_are_read_in_order_without_the_payloads(node: Node) -> None:
    db, now, ids = node.platform.db, node.platform.clock.now(), node.platform.ids

    def changes(topic: str, *items: dict[str, str]) -> NewEvent:
        return NewEvent(ids.new(), topic, None, {"changes": list(items), "other": 1}, now)

    with db.write() as session:
        outbox.emit(
            session,
            [
                changes("t.a", {"id": "1"}, {"id": "2", "origin": "kh"}),
                changes("t.b", {"id": "x"}),  # another topic: not read
                changes("t.a"),  # no changes: still read, so the position moves past it
                changes("t.a", {"id": "3", "origin": ""}, {"id": "1"}),
            ],
        )
    with db.read() as session:
        every = outbox.read_after(session, 0)
        fields, last = outbox.item_fields_after(session, 0, "t.a", "changes", ("id", "origin"), 10)
        assert fields == [("1", None), ("2", "kh"), ("3", ""), ("1", None)]
        assert last == every[3].seq
        two, last_of_two = outbox.item_fields_after(
            session, 0, "t.a", "changes", ("id", "origin"), 2
        )
        assert two == [("1", None), ("2", "kh")]
        assert last_of_two == every[2].seq  # the empty event is the second of "t.a"
        assert outbox.item_fields_after(session, last, "t.a", "changes", ("id", "x"), 10) == (
            [],
            None,
        )


def test_one_array_of_each_event_is_read_without_the_rest(node: Node) -> None:
    db, now, ids = node.platform.db, node.platform.clock.now(), node.platform.ids
    payloads = [{"own": ["1", "2"], "changes": [{"id": "1"}]}, {"changes": []}, {"own": []}]
    with db.write() as session:
        outbox.emit(session, [NewEvent(ids.new(), "t.a", None, p, now) for p in payloads])
        outbox.emit(session, [NewEvent(ids.new(), "t.b", None, {"own": ["x"]}, now)])
    with db.read() as session:
        every = outbox.read_after(session, 0)
        arrays = outbox.arrays_after(session, 0, "t.a", "own", 10)
        assert arrays == [(every[0].seq, ["1", "2"]), (every[1].seq, None), (every[2].seq, [])]
        assert outbox.arrays_after(session, every[0].seq, "t.a", "own", 1) == [(every[1].seq, None)]
        assert outbox.arrays_after(session, every[2].seq, "t.a", "own", 10) == []
