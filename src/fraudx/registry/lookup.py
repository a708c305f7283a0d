"""The answer to "is this identifier listed?", from the reports the caller may see. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fraudx.identifiers import Identifier
from fraudx.registry.events import from_ts
from fraudx.registry.index import IndexedReport
from fraudx.registry.model import ReportFacts, Viewer, may_see, risk


# Not frozen: a batch makes ten thousand of these, and a frozen dataclass's __init__ costs
# several times a plain one's.
@dataclass(slots=True)
class LookupResult:
    identifier: Identifier
    listed: bool
    risk: int
    categories: tuple[str, ...]
    countries: tuple[str, ...]
    reports: int
    first_seen: datetime | None
    last_seen: datetime | None
    #: The visible reports themselves: only for roles that may see sources.
    visible: tuple[IndexedReport, ...] = ()
    #: Whether any active report exists at all, visible or not: a hit is a sighting for
    #: its reporters even when the caller may not learn of it.
    hit_any: bool = False


def summarize(
    identifier: Identifier, reports: Sequence[IndexedReport], viewer: Viewer, now: datetime
) -> LookupResult:
    now_ts = now.timestamp()
    live = [r for r in reports if r.valid_until > now_ts]  # expiry holds before the sweep runs
    visible = [r for r in live if may_see(r.tlp, r.agency, viewer)]
    if not visible:
        return LookupResult(identifier, False, 0, (), (), 0, None, None, (), bool(live))
    facts = [
        ReportFacts(r.confidence, r.country, r.agency, r.half_life_days, from_ts(r.last_seen))
        for r in visible
    ]
    return LookupResult(
        identifier=identifier,
        listed=True,
        risk=risk(facts, now),
        categories=tuple(sorted({r.category for r in visible})),
        countries=tuple(sorted({r.country for r in visible})),
        reports=len(visible),
        first_seen=from_ts(min(r.first_seen for r in visible)),
        last_seen=from_ts(max(r.last_seen for r in visible)),
        visible=tuple(visible) if viewer.sees_sources else (),
        hit_any=True,
    )
