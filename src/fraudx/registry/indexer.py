"""Keeps the look-up index equal to the database: built at start, then fed from the outbox.

Every process that answers look-ups holds its own index and follows the outbox on its
own; nothing is shared in memory, so API workers can be many. Applying a change is
idempotent (a report is put or taken out by id), so reading an event twice is harmless.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from fraudx.platform import outbox
from fraudx.platform.db import Database
from fraudx.platform.memory import collector_paused
from fraudx.platform.tasks import pause
from fraudx.registry import store
from fraudx.registry.events import TOPIC, ReportChange, change_data
from fraudx.registry.index import LookupIndex

#: Fewer changes than this in a pass (events are read up to a byte bound) means the
#: follower has caught up.
_CAUGHT_UP = 1000


class IndexKeeper:
    def __init__(self, db: Database, index: LookupIndex) -> None:
        self._db = db
        self.index = index
        self._follow_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self.built = False

    def build(self, progress: Callable[[int], None] | None = None) -> int:
        """Load every active report; returns how many."""
        loaded = 0
        # The cycle collector waits (``collector_paused``): it walked the growing index
        # over and over, a third of a node's start-up with 100,000 reports.
        with self._follow_lock, self._db.read() as session, collector_paused():
            # Changes committed after this point arrive as events; applying one twice or
            # on top of the state read below is harmless (see module docstring).
            start = outbox.last_seq(session)
            for rows in store.active_for_index(session):
                self.index.load(rows)
                loaded += len(rows)
                if progress:
                    progress(loaded)
        self.index.position = max(self.index.position, start)
        self.built = True
        self.follow()
        return loaded

    def ensure_built(self) -> None:
        if not self.built:
            with self._build_lock:
                if not self.built:
                    self.build()

    def apply_local(
        self, changes: Sequence[dict[str, Any] | bytes], span: tuple[int, int] | None = None
    ) -> None:
        """Changes this process just committed (see ``RegistryService._emit``). ``span``:
        the first and last seq of the events that carry them, if consecutive. An index
        that had applied every event before them then counts them as read: the follower
        would otherwise read them back (a page of a pull: megabytes of JSON) and apply
        them a second time."""
        if self.built:
            changed = (ReportChange.of(change_data(c)) for c in changes)
            if span is None:
                self.index.apply(changed)
            else:
                self.index.apply(changed, span[1], after=span[0] - 1)

    def follow(self) -> int:
        """Apply every registry event after the index's position; returns how many."""
        if not self.built:  # the build will read the current state anyway
            return 0
        applied = 0
        batch = 20  # events at a time: one import event can carry thousands of changes
        with self._follow_lock:
            while True:
                with self._db.read() as session:
                    # Also bounded in bytes (outbox.MAX_READ_BYTES): a short read of a
                    # few large events is not the end.
                    events = outbox.read_after(
                        session, self.index.position, limit=batch, topics=[TOPIC]
                    )
                in_pass = 0
                for event in events:
                    changes = [ReportChange.of(c) for c in event.payload["changes"]]
                    self.index.apply(changes, event.seq)
                    in_pass += len(changes)
                applied += in_pass
                if len(events) < batch and in_pass < _CAUGHT_UP:  # caught up: no second read
                    return applied


class IndexFollower:
    """Background task: picks up changes other processes (or peers' imports) committed."""

    name = "registry-index"

    def __init__(self, keeper: IndexKeeper, interval: float = 0.5) -> None:
        self._keeper = keeper
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        await anyio.to_thread.run_sync(self._keeper.ensure_built)
        while not stop.is_set():
            await anyio.to_thread.run_sync(self._keeper.follow)
            await pause(stop, self._interval)
