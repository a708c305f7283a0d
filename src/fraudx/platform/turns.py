"""Turns at SQLite's one writer, for the threads of one process.

Threads queue here instead of polling SQLite's file lock (its busy handler sleeps up to
100 ms between tries). A turn asked for as *urgent* goes before the ordinary turns
waiting: the alert engine's one write per batch of events must not wait behind every
report the API is taking, or each alert waits for all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class WriteTurns:
    def __init__(self) -> None:
        guard = threading.Lock()
        # Two queues on one guard, and one waiter woken per turn ended: waking them all
        # would have every waiting thread fight for the interpreter lock at each turn.
        self._urgent = threading.Condition(guard)
        self._ordinary = threading.Condition(guard)
        self._guard = guard
        self._owner: int | None = None
        self._depth = 0  # re-entrant: a write may open another on the same thread
        self._urgent_waiting = 0

    @contextmanager
    def turn(self, urgent: bool = False) -> Iterator[None]:
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
            else:
                if urgent:
                    self._urgent_waiting += 1
                    try:
                        while self._owner is not None:
                            self._urgent.wait()
                    finally:
                        self._urgent_waiting -= 1
                else:
                    while self._owner is not None or self._urgent_waiting:
                        self._ordinary.wait()
                self._owner, self._depth = me, 1
        try:
            yield
        finally:
            with self._guard:
                self._depth -= 1
                if self._depth == 0:
                    self._owner = None
                    if self._urgent_waiting:
                        self._urgent.notify()
                    else:
                        self._ordinary.notify()
