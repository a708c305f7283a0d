"""The answer to "is this identifier listed?", from the reports the caller may see. Pure."""

from __future__ import annotations

import math
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


@dataclass(slots=True)
class Seen:
    """What a viewer may see of an identifier's reports at some moment, all but the risk
    (which ages by the hour). It holds while no report crosses its end of validity: for
    ``after <= now < before`` (Unix seconds)."""

    visible: tuple[IndexedReport, ...]
    facts: list[ReportFacts]
    categories: tuple[str, ...]
    countries: tuple[str, ...]
    first_seen: datetime | None
    last_seen: datetime | None
    hit_any: bool
    after: float
    before: float


def seen(reports: Sequence[IndexedReport], viewer: Viewer, now_ts: float) -> Seen:
    live = [r for r in reports if r.valid_until > now_ts]  # expiry holds before the sweep runs
    after = max((r.valid_until for r in reports if r.valid_until <= now_ts), default=-math.inf)
    before = min((r.valid_until for r in live), default=math.inf)
    visible = [r for r in live if may_see(r.tlp, r.agency, viewer)]
    if not visible:
        return Seen((), [], (), (), None, None, bool(live), after, before)
    return Seen(
        visible=tuple(visible) if viewer.sees_sources else (),
        facts=[
            ReportFacts(r.confidence, r.country, r.agency, r.half_life_days, from_ts(r.last_seen))
            for r in visible
        ],
        categories=tuple(sorted({r.category for r in visible})),
        countries=tuple(sorted({r.country for r in visible})),
        first_seen=from_ts(min(r.first_seen for r in visible)),
        last_seen=from_ts(max(r.last_seen for r in visible)),
        hit_any=True,
        after=after,
        before=before,
    )


def result_of(identifier: Identifier, seen: Seen, now: datetime) -> LookupResult:
    if not seen.facts:
        return LookupResult(identifier, False, 0, (), (), 0, None, None, (), seen.hit_any)
    return LookupResult(
        identifier,
        True,
        risk(seen.facts, now),
        seen.categories,
        seen.countries,
        len(seen.facts),
        seen.first_seen,
        seen.last_seen,
        seen.visible,
        True,
    )


def summarize(
    identifier: Identifier, reports: Sequence[IndexedReport], viewer: Viewer, now: datetime
) -> LookupResult:
    return result_of(identifier, seen(reports, viewer, now.timestamp()), now)
