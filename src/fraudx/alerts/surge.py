"""Windows over look-ups: surges (N distinct agencies within T minutes) and the folding of
repeated sighting alerts. Pure Python."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class SurgeWindow:
    """Look-ups per identifier in a sliding window; says when one becomes a surge.

    After a surge the identifier is quiet for one window, so a busy account raises one
    alert per window, not one per look-up.
    """

    agencies: int = 3
    seconds: int = 3600
    # Per identifier, each agency's latest look-up: distinct agencies are what counts, and
    # a busy identifier looked up thousands of times keeps one entry per agency.
    _seen: dict[str, dict[str, float]] = field(default_factory=dict)
    _quiet_until: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, agency: str, at: float) -> set[str] | None:
        """Record a look-up; returns the distinct agencies when this one makes a surge."""
        latest = self._seen.setdefault(key, {})
        latest[agency] = max(at, latest.get(agency, at))
        if at < self._quiet_until.get(key, 0.0):
            return None
        cutoff = at - self.seconds
        distinct = {a for a, seen in latest.items() if seen >= cutoff}
        if len(distinct) < len(latest):
            for stale in [a for a in latest if a not in distinct]:
                del latest[stale]
        if len(distinct) < self.agencies:
            return None
        self._quiet_until[key] = at + self.seconds
        return distinct

    def forget_before(self, at: float) -> None:
        """Drop identifiers with no look-up in the window (memory stays bounded)."""
        cutoff = at - self.seconds
        for key in [k for k, seen in self._seen.items() if max(seen.values(), default=0) < cutoff]:
            del self._seen[key]
            self._quiet_until.pop(key, None)

    def warm(self, payloads: Iterable[dict[str, Any]]) -> None:
        """Replay look-ups already processed (sighting events), raising nothing new: after
        a restart, a surge that began before it is still seen."""
        for payload in payloads:
            for s in payload["sightings"]:
                if s["source"] == "lookup":
                    when = s.get("last_observed_at", s["observed_at"])
                    when = datetime.fromisoformat(when).timestamp()
                    self.add(f"{s['kind']}:{s['value']}", s["agency"], when)


@dataclass
class SightingWindows:
    """One sighting alert per (identifier, reporting agency) per window.

    A bank screening its payees looks the same identifier up again and again: the first
    hit raises an alert at once; later hits within ``seconds`` of it are counted into that
    alert (how many look-ups, how many distinct agencies, the last one) instead of raising
    their own, so the reporter hears everything without a flood. The window is held in
    memory: after a restart the next hit opens a new alert."""

    seconds: int = 600
    # (agency, kind:value) -> (alert id, its body, opened at, the looking agencies)
    _open: dict[tuple[str, str], tuple[str, dict[str, Any], float, set[str]]] = field(
        default_factory=dict
    )
    # Windows the current pass opens: (agency, key) -> (its draft, the looking agencies)
    _opening: dict[tuple[str, str], tuple[dict[str, Any], set[str]]] = field(default_factory=dict)

    def fold(
        self, drafts: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        """Drafts that still raise alerts, and the new bodies of open alerts that the others
        were counted into. Windows opened here count from ``opened`` (once written)."""
        self._opening.clear()
        if self.seconds <= 0:
            return drafts, {}
        kept: list[dict[str, Any]] = []
        folded: dict[str, dict[str, Any]] = {}
        for d in drafts:
            if d["rule"] != "sighting":
                kept.append(d)
                continue
            key = (d["agency"], f"{d['kind']}:{d['value']}")
            at = _at(d)
            opening = self._opening.get(key)
            if opening and 0 <= at - _at(opening[0]) < self.seconds:
                _count(opening[0]["body"]["sighting"], opening[1], d)  # opened in this pass
                continue
            window = self._open.get(key)
            if opening or window is None or not 0 <= at - window[2] < self.seconds:
                self._opening[key] = (d, {d["looker"]})
                if d.get("count", 1) > 1:  # several look-ups folded into this sighting
                    d["body"]["sighting"]["repeated"] = {
                        "lookups": d["count"],
                        "agencies": 1,
                        "last_at": d["last_at"],
                    }
                kept.append(d)
                continue
            alert_id, body, _, lookers = window
            _count(body["sighting"], lookers, d)
            folded[alert_id] = body
        return kept, folded

    def opened(self, rows: list[dict[str, Any]]) -> None:
        """Alerts just written: the sightings among them open their windows."""
        for row in rows:
            key = (row["agency_code"], f"{row['kind']}:{row['value']}")
            if row["rule"] == "sighting" and key in self._opening:
                at = datetime.fromisoformat(row["body"]["sighting"]["at"]).timestamp()
                self._open[key] = (row["id"], row["body"], at, self._opening[key][1])
        self._opening.clear()
        cutoff = max((w[2] for w in self._open.values()), default=0.0) - self.seconds
        for key in [k for k, w in self._open.items() if w[2] < cutoff]:
            del self._open[key]


def _at(draft: dict[str, Any]) -> float:
    return datetime.fromisoformat(draft["at"]).timestamp()


def _count(sighting: dict[str, Any], lookers: set[str], later: dict[str, Any]) -> None:
    """Count a later hit into a sighting alert's ``repeated`` summary."""
    lookers.add(later["looker"])
    summary = sighting.setdefault("repeated", {"lookups": 1})
    summary["lookups"] += later.get("count", 1)
    summary["agencies"] = len(lookers)
    summary["last_at"] = later.get("last_at", later["at"])
