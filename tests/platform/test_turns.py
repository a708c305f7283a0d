"""Turns at SQLite's one writer: urgent turns go before waiting ordinary ones."""

from __future__ import annotations

import threading

from fraudx.platform.turns import WriteTurns
from tests.waiting import wait_for


def test_an_urgent_turn_goes_before_ordinary_turns_already_waiting() -> None:
    turns = WriteTurns()
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with turns.turn():
            holding.set()
            release.wait(5)

    def take(name: str, urgent: bool) -> None:
        with turns.turn(urgent):
            order.append(name)

    threading.Thread(target=first).start()
    assert holding.wait(5)
    waiting = [threading.Thread(target=take, args=(f"ordinary-{i}", False)) for i in range(3)]
    for thread in waiting:
        thread.start()
    wait_for(lambda: len(turns._ordinary._waiters) == 3)  # type: ignore[attr-defined]
    urgent = threading.Thread(target=take, args=("urgent", True))
    urgent.start()
    wait_for(lambda: turns._urgent_waiting == 1)
    release.set()
    for thread in [*waiting, urgent]:
        thread.join(5)
    assert order[0] == "urgent"
    assert sorted(order[1:]) == ["ordinary-0", "ordinary-1", "ordinary-2"]


def test_a_turn_may_be_taken_again_on_the_same_thread() -> None:
    turns = WriteTurns()
    other_got_it = threading.Event()

    def other() -> None:
        with turns.turn():
            other_got_it.set()

    with turns.turn(), turns.turn(urgent=True):
        thread = threading.Thread(target=other)
        thread.start()
        assert not other_got_it.wait(0.05)  # the outer turn still holds
    thread.join(5)
    assert other_got_it.is_set()
