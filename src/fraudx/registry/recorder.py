"""Writes what reads leave behind (audit entries, sightings) in batches, off the hot path.

A look-up must answer in a millisecond, and a transaction per look-up would cap a node
at a few hundred per second on SQLite. So reads hand their audit entries and sightings
to this recorder, which writes them together: every ``interval`` seconds from a
background task, and when the node stops. The price, stated in docs/registry.md: a hard
kill can lose the last ``interval`` seconds of read records (never a write: writes audit
in their own transaction).

Look-ups that hit are folded: one row per caller and identifier stands for every hit
within ``fold_seconds`` (how many, the first's and the last's time), added to at each
flush, and the alert engine hears of each flush's hits of it as one sighting with their
count. A bank screening the same payees again and again would otherwise write a row, and
give the alert engine a sighting, per hit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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


#: Who looked up what: (kind:value, agency, role, actor).
HitKey = tuple[str, str | None, str, str]


@dataclass(slots=True)
class _Hits:
    """Look-up hits of one key not written yet."""

    first: datetime
    last: datetime
    count: int


class ReadRecorder:
    #: Past this many records waiting (a database that cannot keep up), whoever adds
    #: more writes them first: callers slow down instead of memory growing.
    MAX_PENDING = 200_000

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdFactory,
        audit: AuditLog,
        *,
        fold_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._audit = audit
        self._fold_seconds = fold_seconds
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._events: list[AuditEvent] = []
        self._sightings: list[SightingRecord] = []
        self._hits: dict[HitKey, _Hits] = {}
        # Rows of look-up hits written in the last ``fold_seconds``, by key: (id, opened
        # at). Only the flush reads and writes it, under the flush lock.
        self._open: dict[HitKey, tuple[str, datetime]] = {}
        # Single look-ups since the last flush, by who looked: (identifier, listed).
        self._lookups: dict[Principal, list[tuple[str, bool]]] = {}

    def add(self, events: Sequence[AuditEvent], sightings: Sequence[SightingRecord] = ()) -> None:
        with self._lock:
            self._events.extend(events)
            self._sightings.extend(sightings)  # reported: a row each, never folded
        self._hold_back()

    def add_hits(
        self, principal: Principal, keys: Sequence[str], at: datetime, event: AuditEvent
    ) -> None:
        """A batch look-up: its audit entry, and its hits (``kind:value`` keys) at ``at``."""
        agency, role, actor = principal.agency_code, principal.role.value, principal.actor
        hits = self._hits
        with self._lock:
            self._events.append(event)
            for key in keys:
                pending = hits.get((key, agency, role, actor))
                if pending is None:
                    hits[key, agency, role, actor] = _Hits(at, at, 1)
                else:
                    pending.count += 1
                    if at > pending.last:
                        pending.last = at
        self._hold_back()

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
                key = (identifier, sighting.agency_code, sighting.role, sighting.actor)
                self._hit(key, _Hits(sighting.observed_at, sighting.observed_at, 1))

    def _hit(self, key: HitKey, hits: _Hits) -> None:
        pending = self._hits.get(key)
        if pending is None:
            self._hits[key] = hits
        else:
            pending.count += hits.count
            pending.first, pending.last = (
                min(pending.first, hits.first),
                max(pending.last, hits.last),
            )

    def _hold_back(self) -> None:
        if self.pending > self.MAX_PENDING:
            self.flush()

    @property
    def pending(self) -> int:
        return len(self._events) + len(self._sightings) + len(self._hits) + len(self._lookups)

    def flush(self) -> int:
        """Write everything recorded so far in one transaction; returns how many records."""
        with self._flush_lock:
            with self._lock:
                events, self._events = self._events, []
                sightings, self._sightings = self._sightings, []
                hits, self._hits = self._hits, {}
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
            if not events and not sightings and not hits:
                return 0
            try:
                self._write(events, sightings, hits)
            except Exception:
                with self._lock:  # keep them for the next attempt, in order
                    self._events[:0] = events
                    self._sightings[:0] = sightings
                    for key, h in hits.items():
                        self._hit(key, h)
                raise
            return len(events) + len(sightings) + sum(h.count for h in hits.values())

    def _write(
        self, events: list[AuditEvent], sightings: list[SightingRecord], hits: dict[HitKey, _Hits]
    ) -> None:
        now = self._clock.now()
        # Rows opened more than a window ago take no more hits.
        cutoff = now - timedelta(seconds=self._fold_seconds)
        if self._open:
            self._open = {k: o for k, o in self._open.items() if o[1] >= cutoff}
        ids = iter(self._ids.new_many(len(sightings) + len(hits) + 1))
        rows: list[tuple[Any, ...]] = []
        told: list[dict[str, Any]] = []  # what the alert engine hears
        added: list[tuple[str, int, datetime]] = []  # (row id, more hits, last) of open rows
        opened: dict[HitKey, tuple[str, datetime]] = {}
        for key, h in hits.items():
            kind, _, value = key[0].partition(":")
            row = self._open.get(key)
            if row is not None and h.first >= row[1]:
                added.append((row[0], h.count, h.last))
                id_ = row[0]
            else:
                id_ = next(ids)
                last = h.last if h.count > 1 else None
                rows.append(
                    (id_, kind, value, h.first, now, *key[1:], "lookup", None, h.count, last)
                )
                opened[key] = (id_, h.first)
            told.append(hit_event(id_, kind, value, key[1], key[2], h))
        # Reported sightings after the look-ups: a report is flushed at once, so any hits
        # waiting with it were made before it.
        for s in sightings:
            when, who = (s.observed_at, now), (s.agency_code, s.role, s.actor)
            rows.append((next(ids), s.kind, s.value, *when, *who, s.source, s.note, 1, None))
            told.append(sighting_event(rows[-1]))
        with self._db.write() as session:
            if events:
                self._audit.record_events(session, events)
            store.add_sightings(session, rows)
            store.add_to_sightings(session, added)
            if told:
                event = outbox.NewEvent(next(ids), SIGHTING_TOPIC, None, {"sightings": told}, now)
                outbox.emit(session, [event])
        if len(self._open) + len(opened) > self.MAX_PENDING:  # a bound, not a loss: new rows
            self._open.clear()
        self._open.update(opened)


def hit_event(
    id_: str, kind: str, value: str, agency: str | None, role: str, hits: _Hits
) -> dict[str, Any]:
    """What alerts hear of a flush's look-up hits of one identifier by one caller."""
    event: dict[str, Any] = {
        "id": id_,
        "kind": kind,
        "value": value,
        "observed_at": hits.first.isoformat(),
        "agency": agency,
        "role": role,
        "source": "lookup",
    }
    if hits.count > 1:
        event["count"] = hits.count
        event["last_observed_at"] = hits.last.isoformat()
    return event


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
