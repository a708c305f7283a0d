"""The rule engine: reads registry events from the outbox and writes alerts.

Alerts, their deliveries and the engine's new outbox position commit in one transaction,
so each event raises its alerts exactly once, however often the process dies. Sharing
rules are applied here, before anything is written: an agency never gets an alert about
a report it may not see.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from fraudx.alerts import store
from fraudx.alerts.drafts import to_rows
from fraudx.alerts.model import (
    Facts,
    MatchIndex,
    Rule,
    Subscription,
    viewer_of_agency,
)
from fraudx.alerts.surge import SightingWindows, SurgeWindow
from fraudx.identifiers import Identifier, IdentifierKind
from fraudx.platform import outbox
from fraudx.platform.agencies.model import AgencyKind, operator
from fraudx.platform.db import Bell
from fraudx.platform.memory import collector_paused
from fraudx.platform.runtime import Platform
from fraudx.registry.events import SIGHTING_TOPIC, TOPIC
from fraudx.registry.index import IndexedReport
from fraudx.registry.lookups import LookupService
from fraudx.registry.model import Tlp, Viewer, may_see

log = logging.getLogger("fraudx.alerts")

CONSUMER = "alerts-rules"
_ENGINE_LOCK = 0x46584152  # names the PostgreSQL lock that serialises rule engines
_TOPICS = (TOPIC, SIGHTING_TOPIC)


class RuleEngine:
    def __init__(
        self,
        platform: Platform,
        lookups: LookupService,
        *,
        surge_agencies: int = 3,
        surge_minutes: int = 60,
        sighting_minutes: int = 10,
    ) -> None:
        self._platform = platform
        self._db = platform.db
        self._clock = platform.clock
        self._ids = platform.ids
        self._lookups = lookups
        self.index = MatchIndex()
        self.surge = SurgeWindow(surge_agencies, surge_minutes * 60)
        self.sightings = SightingWindows(sighting_minutes * 60)
        self._agencies: dict[str, tuple[AgencyKind, str]] = {}
        self._viewers: dict[str, Viewer] = {}
        self.loaded = False
        self._lock = threading.Lock()
        self._touched_lock = threading.Lock()
        self._batch = 5  # events per pass; adapts to their size (see process_once)
        #: Rings after alerts commit: delivery workers and SSE streams in this process wake
        #: (the database's bell rings for every outbox write, far more often).
        self.bell = Bell()
        self._versions: dict[str, datetime] = {}  # watchlist id -> updated_at, as indexed
        # The position this engine last saved (read once): each pass reads the events after
        # it, and its write checks that the saved position is still this one.
        self._position: int | None = None
        # Subscriptions this engine just wrote deliveries for, per channel: the delivery
        # workers in this process start on them without asking the database which are due.
        self._touched: dict[str, set[str]] = {}

    # --- start ---------------------------------------------------------------------------

    def load(self) -> None:
        """Subscriptions and watchlists into the matching index; warm the surge window from
        the look-ups of the last T minutes that were already processed."""
        with self._db.read() as session:
            for sub in store.active_subscriptions(session):
                self.index.add(sub)
            self.index.replace_watched(store.all_watched(session))
            self._versions = store.watchlist_versions(session)
            done = outbox.position(session, CONSUMER)
            since = self._clock.now() - timedelta(seconds=self.surge.seconds)
            self.surge.warm(store.sighting_payloads(session, done, since))
        self.loaded = True

    def refresh(self) -> None:
        """Catch up with subscriptions and watchlists that other processes (API workers
        apart from this engine) changed; changes made in this process are indexed already."""
        with self._lock:
            if not self.loaded:
                return
            with self._db.read() as session:
                current = {s.id: s for s in store.active_subscriptions(session)}
                versions = store.watchlist_versions(session)
                if versions != self._versions:  # rare: rebuild the watched identifiers
                    self.index.replace_watched(store.all_watched(session))
                    self._versions = versions
            for sub_id in set(self.index.subscriptions) - set(current):
                self.index.remove(sub_id)
            for sub_id in set(current) - set(self.index.subscriptions):
                self.index.add(current[sub_id])

    # Changes made in this process, applied under the engine's lock so that a concurrent
    # refresh cannot undo them with what it read just before they committed.

    def subscribed(self, sub: Subscription) -> None:
        with self._lock:
            self.index.add(sub)

    def unsubscribed(self, sub_id: str) -> None:
        with self._lock:
            self.index.remove(sub_id)

    def watchlist_replaced(
        self,
        wl_id: str,
        when: datetime,
        agency: str,
        old: Iterable[str],
        new: Iterable[str],
        still_watched: Iterable[tuple[str, str]],
    ) -> None:
        with self._lock:
            self.index.unwatch_agency(agency, old)
            for key, watcher in still_watched:  # on another of the agency's lists
                self.index.watch(key, watcher)
            for key in new:
                self.index.watch(key, agency)
            self._versions[wl_id] = when

    def touched(self, channels: Iterable[str]) -> list[str]:
        """Subscriptions of these channels given new deliveries since the last call."""
        with self._touched_lock:
            found: set[str] = set()
            for channel in channels:
                found |= self._touched.pop(channel, set())
        return sorted(found)

    def _agency(self, code: str) -> tuple[AgencyKind | None, str]:
        if code not in self._agencies:
            for agency in self._platform.agencies.list(operator("alerts")):
                self._agencies[agency.code] = (agency.kind, agency.country)
        kind, country = self._agencies.get(code, (None, ""))
        return kind, country

    def _viewer(self, code: str) -> Viewer:
        viewer = self._viewers.get(code)
        if viewer is None:
            viewer = viewer_of_agency(code, self._agency(code)[0])
            if code in self._agencies:  # an agency not known yet may be added later
                self._viewers[code] = viewer
        return viewer

    # --- one pass --------------------------------------------------------------------------

    def process_once(self, limit: int | None = None) -> int:
        """Turn the next events into alerts; returns how many events were consumed.

        Without ``limit``, as many events as keeps a pass to a few thousand changes: one
        event of a bulk import carries thousands, a submit's carries one."""
        # A bulk import's events make tens of thousands of acyclic dicts (the changes,
        # their facts, the drafts): the cycle collector would walk them again and again.
        with self._lock, collector_paused():
            if not self.loaded:
                self.load()
            return self._process(limit or self._batch)

    def _process(self, limit: int) -> int:
        with self._db.read() as session:
            if self._position is None:
                self._position = outbox.position(session, CONSUMER)
            start = self._position
            events = outbox.read_after(session, start, limit=limit, topics=_TOPICS)
        if not events:
            return 0
        size = sum(len(e.payload.get("changes", e.payload.get("sightings", ()))) for e in events)
        self._batch = min(50, self._batch * 2) if size <= 2000 else max(1, self._batch // 4)
        drafts: list[dict[str, Any]] = []
        revoked = [
            c["id"]
            for e in events
            if e.topic == TOPIC
            for c in e.payload["changes"]
            if c["change"] in ("revoked", "expired")
        ]
        alerted: dict[str, set[str]] = {}
        if revoked:
            with self._db.read() as session:
                alerted = store.agencies_alerted_on(session, revoked)
        for event in events:
            if event.topic == TOPIC:
                for change in event.payload["changes"]:
                    drafts += self._on_change(event.id, change, alerted)
            else:
                for sighting in event.payload["sightings"]:
                    drafts += self._on_sighting(event.id, sighting)
        now = self._clock.now()
        drafts, folded = self.sightings.fold(drafts)
        alert_rows, delivery_rows = to_rows(drafts, self._ids.new_many, self.index.of_agency, now)
        with self._db.write(urgent=True) as session:
            # Another engine (another process) may have taken these events meanwhile:
            # then this one writes nothing. The lock makes the check hold on PostgreSQL;
            # SQLite's write transactions are serial already.
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ENGINE_LOCK})
            current = outbox.position(session, CONSUMER)
            if current != start:
                self._position = current
                return len(events)  # consumed, by the other engine
            store.insert_alerts(session, alert_rows)
            store.insert_deliveries(session, delivery_rows)
            store.update_alert_bodies(session, folded)
            outbox.save_position(session, CONSUMER, events[-1].seq, now)
        self._position = events[-1].seq
        self.sightings.opened(alert_rows)
        if alert_rows:
            with self._touched_lock:
                for row in delivery_rows:
                    self._touched.setdefault(row["channel"], set()).add(row["subscription_id"])
            self.bell.ring()
        return len(events)

    # --- the rules ---------------------------------------------------------------------------

    def _reports(self, kind: str, value: str) -> list[IndexedReport]:
        try:
            return self._lookups.reports_of(Identifier(IdentifierKind(kind), value))
        except ValueError:
            return []

    def _indicator(self, facts: Facts, recipient: str) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": facts.indicator_id,
            "category": facts.category,
            "country": facts.country,
            "confidence": facts.confidence,
            "tlp": facts.tlp,
            "tags": list(facts.tags),
        }
        if self._viewer(recipient).sees_sources or recipient == facts.agency:
            shown["agency"] = facts.agency
        return shown

    def _links(self, kind: str, value: str, indicator_id: str | None) -> dict[str, str]:
        links = {"lookup": f"/api/v1/lookup?kind={kind}&value={value}"}
        if indicator_id:
            links["indicator"] = f"/api/v1/indicators/{indicator_id}"
        return links

    def _on_change(
        self, event_id: str, change: dict[str, Any], alerted: dict[str, set[str]]
    ) -> list[dict[str, Any]]:
        facts = Facts.of_change(change)
        tlp = Tlp(facts.tlp)
        kind = change["change"]
        subs_by_agency: dict[str, list[Subscription]] = {}
        for sub in self.index.match(facts):
            subs_by_agency.setdefault(sub.agency, []).append(sub)
        watchers = set(self.index.watchers(facts.key))
        drafts: list[dict[str, Any]] = []

        def alert(agency: str, rule: Rule, title: str, reason: str, **extra: Any) -> None:
            drafts.append(
                {
                    "agency": agency,
                    "rule": rule,
                    "kind": facts.kind,
                    "value": facts.value,
                    "indicator_id": facts.indicator_id,
                    "event": event_id,
                    "subs": extra.pop("subs", None),
                    "body": {
                        "title": title,
                        "reason": reason,
                        "indicator": self._indicator(facts, agency),
                        "links": self._links(facts.kind, facts.value, facts.indicator_id),
                        **extra,
                    },
                }
            )

        if kind in ("revoked", "expired"):
            told = alerted.get(facts.indicator_id, set()) | watchers | set(subs_by_agency)
            for agency in sorted(told - {facts.agency}):
                if may_see(tlp, facts.agency, self._viewer(agency)):
                    alert(
                        agency,
                        Rule.REVOCATION,
                        f"{facts.kind} {facts.value} is no longer listed ({kind})",
                        "you were alerted about this report, subscribe to it or watch it",
                        change=kind,
                    )
            return drafts
        if kind != "created":
            return drafts
        for agency in sorted((set(subs_by_agency) | watchers) - {facts.agency}):
            if not may_see(tlp, facts.agency, self._viewer(agency)):
                continue
            subs = subs_by_agency.get(agency)
            if agency in watchers:
                alert(
                    agency,
                    Rule.WATCHLIST,
                    f"{facts.kind} {facts.value} on your watchlist was reported as "
                    f"{facts.category}",
                    "the identifier is on one of your watchlists",
                    subs=subs,
                )
            else:
                assert subs is not None
                alert(
                    agency,
                    Rule.LISTED,
                    f"new {facts.category} report: {facts.kind} {facts.value}",
                    "matches your subscription " + ", ".join(s.id for s in subs),
                    subs=subs,
                    subscriptions=[s.id for s in subs],
                )
        drafts += self._corroboration(event_id, facts)
        return drafts

    def _corroboration(self, event_id: str, facts: Facts) -> list[dict[str, Any]]:
        if not self._lookups.listed_besides(facts.key, facts.indicator_id):
            return []  # most new reports: no other report to corroborate
        others = [r for r in self._reports(facts.kind, facts.value) if r.id != facts.indicator_id]
        if not others or facts.country in {r.country for r in others}:
            return []  # no other report, or this country had already reported it
        drafts = []
        new = (facts.agency, facts.country, Tlp(facts.tlp))
        everyone = [(r.agency, r.country, r.tlp) for r in others] + [new]
        for agency in sorted({a for a, _, _ in everyone}):
            viewer = self._viewer(agency)
            seen = [(a, c) for a, c, t in everyone if may_see(t, a, viewer)]
            countries = sorted({c for _, c in seen})
            if len(countries) < 2 or not may_see(new[2], facts.agency, viewer):
                continue
            body: dict[str, Any] = {
                "title": f"{facts.kind} {facts.value} is reported in {', '.join(countries)}",
                "reason": "agencies of two or more countries report this identifier",
                "countries": countries,
                "indicator": self._indicator(facts, agency),
                "links": self._links(facts.kind, facts.value, facts.indicator_id),
            }
            if viewer.sees_sources:
                body["agencies"] = sorted({a for a, _ in seen})
            drafts.append(
                {
                    "agency": agency,
                    "rule": Rule.CORROBORATION,
                    "kind": facts.kind,
                    "value": facts.value,
                    "indicator_id": facts.indicator_id,
                    "event": event_id,
                    "body": body,
                }
            )
        return drafts

    def _on_sighting(self, event_id: str, s: dict[str, Any]) -> list[dict[str, Any]]:
        kind, value, looker = s["kind"], s["value"], s["agency"]
        # A sighting may stand for several look-ups by one caller (``registry.recorder``).
        count, last_at = s.get("count", 1), s.get("last_observed_at", s["observed_at"])
        reports = self._reports(kind, value)
        if not reports:
            return []
        drafts: list[dict[str, Any]] = []
        looker_kind, looker_country = self._agency(looker)
        for agency in sorted({r.agency for r in reports} - {looker}):
            # Who looked is named only to law enforcement, and only when the looker is
            # not a bank or telco: a partner's look-ups reveal its customers.
            who: dict[str, Any] = {"role": s["role"], "country": looker_country}
            if looker_kind:
                who["agency_kind"] = looker_kind.value
            recipient_law = self._viewer(agency).law_enforcement
            if recipient_law and looker_kind not in (AgencyKind.BANK, AgencyKind.TELCO):
                who["agency"] = looker
            own = next(r for r in reports if r.agency == agency)
            drafts.append(
                {
                    "agency": agency,
                    "rule": Rule.SIGHTING,
                    "kind": kind,
                    "value": value,
                    "indicator_id": own.id,
                    "event": event_id,
                    "looker": looker,
                    "at": s["observed_at"],
                    "count": count,
                    "last_at": last_at,
                    "body": {
                        "title": f"your {own.category} report {kind} {value} was "
                        + ("looked up" if s["source"] == "lookup" else f"seen ({s['source']})"),
                        "reason": "a sighting of an identifier your agency reported",
                        "sighting": {"source": s["source"], "at": s["observed_at"], "by": who},
                        "links": self._links(kind, value, own.id),
                    },
                }
            )
        if s["source"] == "lookup":
            at = datetime.fromisoformat(last_at).timestamp()
            surge = self.surge.add(f"{kind}:{value}", looker, at)
            if surge:
                drafts += self._surge(event_id, kind, value, reports, len(surge))
        return drafts

    def _surge(
        self, event_id: str, kind: str, value: str, reports: list[IndexedReport], count: int
    ) -> list[dict[str, Any]]:
        told: dict[str, IndexedReport] = {}
        for r in reports:
            facts = Facts.of_report(kind, value, r)
            audience = {r.agency} | {s.agency for s in self.index.match(facts)}
            audience |= set(self.index.watchers(facts.key))
            for agency in audience:
                if agency not in told and may_see(r.tlp, r.agency, self._viewer(agency)):
                    told[agency] = r
        minutes = self.surge.seconds // 60
        return [
            {
                "agency": agency,
                "rule": Rule.SURGE,
                "kind": kind,
                "value": value,
                "indicator_id": r.id,
                "event": event_id,
                "body": {
                    "title": f"{kind} {value} is active right now",
                    "reason": f"looked up by {count} agencies within {minutes} minutes",
                    "agencies_looking": count,
                    "window_minutes": minutes,
                    "links": self._links(kind, value, r.id),
                },
            }
            for agency, r in sorted(told.items())
        ]
