"""Writes what reads leave behind (audit entries, sightings) in batches, off the hot path.

A look-up must answer in a millisecond, and a transaction per look-up would cap a node
at a few hundred per second on SQLite. So reads hand their audit entries and sightings
to this recorder, which writes them together: every ``interval`` seconds from a
background task, and when the node stops. The price, stated in docs/registry.md: a hard
kill can lose the last ``interval`` seconds of read records (never a write: writes audit
in their own transaction).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from fraudx.platform import outbox
from fraudx.platform.agencies.model import Principal
from fraudx.platform.audit.model import AuditEvent
from fraudx.platform.audit.service import AuditLog, event_for
from fraudx.platform.clock import Clock
from fraudx.platform.db import Database
from fraudx.platform.ids import IdFactory
from fraudx.platform.tasks import pause
from fraudx.registry import store
from fraudx.registry.events import SIGHTING_TOPIC

log = logging.getLogger("fraudx.registry")


# Not frozen: a batch that hits makes hundreds, and a frozen dataclass's __init__ costs
# several times a plain one's.
@dataclass(slots=True)
class SightingRecord:
    kind: str
    value: str
    observed_at: datetime
    agency_code: str | None
    role: str
    actor: str
    source: str
    note: str | None = None


class ReadRecorder:
    def __init__(self, db: Database, clock: Clock, ids: IdFactory, audit: AuditLog) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._audit = audit
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._events: list[AuditEvent] = []
        self._sightings: list[SightingRecord] = []
        # Single look-ups since the last flush, by who looked: (identifier, listed).
        self._lookups: dict[Principal, list[tuple[str, bool]]] = {}

    def add(self, events: Sequence[AuditEvent], sightings: Sequence[SightingRecord] = ()) -> None:
        with self._lock:
            self._events.extend(events)
            self._sightings.extend(sightings)

    def add_lookup(
        self, principal: Principal, identifier: str, listed: bool, sighting: SightingRecord | None
    ) -> None:
        """One single look-up. A caller's look-ups between two flushes become one audit
        entry listing every identifier it looked up and whether each was listed: the
        same record of who, what and when (to the flush interval), at a fraction of the
        cost of an entry (and a hash) per request."""
        with self._lock:
            self._lookups.setdefault(principal, []).append((identifier, listed))
            if sighting is not None:
                self._sightings.append(sighting)

    @property
    def pending(self) -> int:
        return len(self._events) + len(self._sightings) + len(self._lookups)

    def flush(self) -> int:
        """Write everything recorded so far in one transaction; returns how many records."""
        with self._flush_lock:
            with self._lock:
                events, self._events = self._events, []
                sightings, self._sightings = self._sightings, []
                lookups, self._lookups = self._lookups, {}
            events += [
                event_for(
                    who,
                    "registry.lookup",
                    looked[0][0] if len(looked) == 1 else None,
                    {
                        "identifiers": [i for i, _ in looked],
                        "listed": [i for i, hit in looked if hit],
                    },
                )
                for who, looked in lookups.items()
            ]
            if not events and not sightings:
                return 0
            try:
                self._write(events, sightings)
            except Exception:
                with self._lock:  # keep them for the next attempt, in order
                    self._events[:0] = events
                    self._sightings[:0] = sightings
                raise
            return len(events) + len(sightings)

    def _write(self, events: list[AuditEvent], sightings: list[SightingRecord]) -> None:
        now = self._clock.now()
        ids = self._ids.new_many(len(sightings) + 1)
        rows = [
            (
                id_,
                s.kind,
                s.value,
                s.observed_at,
                now,
                s.agency_code,
                s.role,
                s.actor,
                s.source,
                s.note,
            )
            for id_, s in zip(ids, sightings, strict=False)
        ]
        with self._db.write() as session:
            if events:
                self._audit.record_events(session, events)
            if rows:
                store.add_sightings(session, rows)
                payload = {"sightings": [sighting_event(r) for r in rows]}
                event = outbox.NewEvent(ids[-1], SIGHTING_TOPIC, None, payload, now)
                outbox.emit(session, [event])


def sighting_event(row: tuple[Any, ...]) -> dict[str, Any]:
    """What alerts hear of a sighting (see ``store.sighting._SIGHTING_COLUMNS`` for the row)."""
    return {
        "id": row[0],
        "kind": row[1],
        "value": row[2],
        "observed_at": row[3].isoformat(),
        "agency": row[5],
        "role": row[6],
        "source": row[8],
    }


class RecorderFlusher:
    """Background task: flushes the recorder every ``interval`` seconds and at stop."""

    name = "registry-read-records"

    def __init__(self, recorder: ReadRecorder, interval: float = 0.2) -> None:
        self._recorder = recorder
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await pause(stop, self._interval)
            try:
                await anyio.to_thread.run_sync(self._recorder.flush)
            except Exception:
                if stop.is_set():
                    raise
                log.exception("could not write read records; will retry")
