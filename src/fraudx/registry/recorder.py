"""Writes what reads leave behind (audit entries, sightings) in batches, off the hot path.

A look-up must answer in a millisecond, and a transaction per look-up would cap a node
at a few hundred per second on SQLite. So reads hand their audit entries and sightings
to this recorder, which writes them together: every ``interval`` seconds from a
background task, and when the node stops. The price, stated in docs/registry.md: a hard
kill can lose the last ``interval`` seconds of read records (never a write: writes audit
in their own transaction).

Look-ups that hit are folded: one row per caller and identifier stands for every hit
within ``fold_seconds`` (how many, the first's and the last's time), added to at each
flush. The alert engine hears of the row when it opens (at once: the sighting and surge
rules need only the first hit of a caller) and, if more hits came, once more when its
window closes, with their count. A bank screening the same payees again and again would
otherwise write a row, and give the alert engine a sighting, per hit.
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


@dataclass(slots=True)
class _Window:
    """A look-up row still taking hits: its id, the first hit's time, when it closes,
    and the hits added since the alert engine last heard of it."""

    id: str
    first: datetime
    closes: datetime
    untold: _Hits | None = None


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
        # Rows of look-up hits written in the last ``fold_seconds``, by key, in the order
        # they opened (so the first ones close first). Only the flush touches it, under
        # the flush lock.
        self._open: dict[HitKey, _Window] = {}
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

    def flush(self, final: bool = False) -> int:
        """Write everything recorded so far in one transaction; returns how many records.
        ``final`` (the node stops): every open row's untold hits go to the alert engine."""
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
            now = self._clock.now()
            closing = self._closing(now, final)
            if not events and not sightings and not hits and not closing:
                return 0
            try:
                self._write(now, events, sightings, hits, closing)
            except Exception:
                with self._lock:  # keep them for the next attempt, in order
                    self._events[:0] = events
                    self._sightings[:0] = sightings
                    for key, h in hits.items():
                        self._hit(key, h)
                raise
            return len(events) + len(sightings) + sum(h.count for h in hits.values())

    def _closing(self, now: datetime, final: bool) -> list[HitKey]:
        """Open rows whose window has ended (all of them if ``final``): they take no more
        hits, and the alert engine hears what it has not of them."""
        if final:
            return list(self._open)
        closing = []
        for key, window in self._open.items():  # in opening order: stop at the first open
            if window.closes > now:
                break
            closing.append(key)
        return closing

    def _write(
        self,
        now: datetime,
        events: list[AuditEvent],
        sightings: list[SightingRecord],
        hits: dict[HitKey, _Hits],
        closing: list[HitKey],
    ) -> None:
        ids = iter(self._ids.new_many(len(sightings) + len(hits) + 1))
        rows: list[tuple[Any, ...]] = []
        told: list[dict[str, Any]] = []  # what the alert engine hears
        for key in closing:
            window = self._open[key]
            if window.untold is not None:
                kind, _, value = key[0].partition(":")
                told.append(hit_event(window.id, kind, value, key[1], key[2], window.untold))
        closed = set(closing)
        added: list[tuple[str, int, datetime]] = []  # (row id, more hits, last) of open rows
        untold: list[tuple[_Window, _Hits]] = []
        opened: dict[HitKey, _Window] = {}
        closes = now + timedelta(seconds=self._fold_seconds)
        for key, h in hits.items():
            kind, _, value = key[0].partition(":")
            row = None if key in closed else self._open.get(key)
            if row is not None and h.first >= row.first:
                added.append((row.id, h.count, h.last))
                untold.append((row, h))
            else:
                id_ = next(ids)
                last = h.last if h.count > 1 else None
                rows.append(
                    (id_, kind, value, h.first, now, *key[1:], "lookup", None, h.count, last)
                )
                opened[key] = _Window(id_, h.first, closes)
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
        # Written: only now does the memory of open rows change.
        for key in closing:
            del self._open[key]
        for window, h in untold:
            if window.untold is None:
                window.untold = _Hits(h.first, h.last, h.count)
            else:
                window.untold.count += h.count
                window.untold.last = max(window.untold.last, h.last)
        if len(self._open) + len(opened) > self.MAX_PENDING:
            # A bound, not a loss: the rows open so far close at the next flush (which
            # tells what they hold untold), and later hits open new rows.
            for window in self._open.values():
                window.closes = now
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
