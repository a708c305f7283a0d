"""Surge: one identifier looked up by N distinct agencies within T minutes. Pure Python."""

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
                    when = datetime.fromisoformat(s["observed_at"]).timestamp()
                    self.add(f"{s['kind']}:{s['value']}", s["agency"], when)
