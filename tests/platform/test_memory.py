"""Holding off the cycle collector around bulk work, from several threads at once."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from fraudx.platform import memory
from fraudx.platform.memory import collector_paused


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_comes_back_when_the_last_block_ends() -> None:
    inside, leave = threading.Event(), threading.Event()

    def other_thread() -> None:
        with collector_paused():
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=other_thread)
    with collector_paused():
        assert not gc.isenabled()
        worker.start()
        inside.wait(10)
    assert not gc.isenabled()  # the other thread's block still runs
    leave.set()
    worker.join(10)
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_comes_back_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("bulk work failed")
    assert gc.isenabled()


def test_a_collector_turned_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.usefixtures("collector_on")
def test_blocks_that_overlap_for_ever_still_collect_now_and_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a busy node some thread is always inside a block: cycles must not pile up."""

    class Node:
        other: Node | None = None

    cycle = Node()
    cycle.other = Node()
    cycle.other.other = cycle
    gone = weakref.ref(cycle)
    monkeypatch.setattr(memory, "MAX_PAUSE_SECONDS", 0.0)
    with collector_paused():
        with collector_paused():
            del cycle
            time.sleep(0.01)
        # The inner block ended while the outer one still holds the collector off.
        assert gone() is None
        assert not gc.isenabled()
    assert gc.isenabled()
