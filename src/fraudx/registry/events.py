"""What the registry tells the rest of the node through the outbox.

One topic, ``registry.indicators``, whose events carry a list of changes to reports, so
that a bulk import of a million rows writes a few hundred events, not a million. Each
change is a self-contained snapshot of the report after the change: the look-up index,
alerts and peers act on it without reading the registry's tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from fraudx.platform.memo import memo
from fraudx.registry.model import Indicator, IndicatorDraft, Status
from fraudx.registry.origin import PeerReport

TOPIC = "registry.indicators"
SIGHTING_TOPIC = "registry.sightings"


class Change:
    CREATED = "created"
    UPDATED = "updated"
    REVOKED = "revoked"
    EXPIRED = "expired"


def _ts(when: datetime) -> int:
    return int(when.timestamp())


def timestamps() -> Callable[[datetime], int]:
    """``_ts`` memoised, for one batch of changes whose reports share a few instants."""
    return memo(_ts)


def change_of(indicator: Indicator, change: str) -> dict[str, Any]:
    return {
        "change": change,
        "id": indicator.id,
        "kind": indicator.identifier.kind.value,
        "value": indicator.identifier.value,
        "agency": indicator.agency_code,
        "country": indicator.country,
        "category": indicator.category,
        "confidence": indicator.confidence,
        "tlp": indicator.tlp.value,
        "status": indicator.status.value,
        "first_seen": _ts(indicator.first_seen),
        "last_seen": _ts(indicator.last_seen),
        "valid_until": _ts(indicator.valid_until),
        "tags": list(indicator.tags),
    }


def change_of_draft(
    id_: str, draft: IndicatorDraft, agency: str, country: str, now: datetime
) -> dict[str, Any]:
    """``change_of`` a report just created from ``draft``, without building the record."""
    seen = _ts(now)
    return {
        "change": Change.CREATED,
        "id": id_,
        "kind": draft.identifier.kind.value,
        "value": draft.identifier.value,
        "agency": agency,
        "country": country,
        "category": draft.category,
        "confidence": draft.confidence,
        "tlp": draft.tlp.value,
        "status": Status.ACTIVE.value,
        "first_seen": seen,
        "last_seen": seen,
        "valid_until": _ts(draft.valid_until),
        "tags": list(draft.tags),
    }


def change_of_peer(
    id_: str, report: PeerReport, change: str, seconds: Callable[[datetime], int] = _ts
) -> dict[str, Any]:
    """``change_of`` a peer's report held here as ``id_``, without building the record,
    naming its ``origin`` node. ``seconds`` may be a memo of ``_ts`` (a page's reports
    share a handful of instants)."""
    return {
        "change": change,
        "id": id_,
        "kind": str(report.kind),  # a StrEnum's value, cheaper than .value
        "value": report.value,
        "agency": report.agency_code,
        "country": report.country,
        "category": report.category,
        "confidence": report.confidence,
        "tlp": str(report.tlp),
        "status": str(report.status),
        "first_seen": seconds(report.first_seen),
        "last_seen": seconds(report.last_seen),
        "valid_until": seconds(report.valid_until),
        "tags": list(report.tags),
        "origin": report.origin_node,
    }


class ReportChange(NamedTuple):
    """A change as read back from an event (see ``change_of``). A tuple: the look-up
    index reads one for each change of each event, and a frozen dataclass of 12 fields
    costs several times as much to build."""

    change: str
    id: str
    key: str
    agency: str
    country: str
    category: str
    confidence: int
    tlp: str
    active: bool
    first_seen: int
    last_seen: int
    valid_until: int

    @classmethod
    def of(cls, data: dict[str, Any]) -> ReportChange:
        return cls._make(
            (
                data["change"],
                data["id"],
                f"{data['kind']}:{data['value']}",  # key
                data["agency"],
                data["country"],
                data["category"],
                int(data["confidence"]),
                data["tlp"],
                data["status"] == _ACTIVE,  # active
                int(data["first_seen"]),
                int(data["last_seen"]),
                int(data["valid_until"]),
            ),
        )


_ACTIVE = Status.ACTIVE.value


def from_ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def created_change(
    id_: str, draft: IndicatorDraft, agency: str, country: str, now: datetime
) -> bytes:
    """``change_of_draft`` as JSON, made where the row is checked (a worker process):
    the importing process puts it into its event as it is (``orjson.Fragment``)."""
    return orjson.dumps(change_of_draft(id_, draft, agency, country, now))


def change_data(change: dict[str, Any] | bytes) -> dict[str, Any]:
    """A change as a mapping, whether made by ``change_of`` or ``created_change``."""
    return change if isinstance(change, dict) else orjson.loads(change)


def event_payload(changes: Sequence[dict[str, Any] | bytes], ids: Sequence[str]) -> dict[str, Any]:
    """An event's payload: its ``changes`` (JSON made earlier goes in unchanged) and, as
    ``own_ids``, the ids of those that are this node's own reports (not imported from a
    peer): the exchange's publisher reads that list alone, not thousands of changes.
    ``ids`` are the changes' report ids, in order."""
    own = [
        id_
        for id_, c in zip(ids, changes, strict=True)
        if isinstance(c, bytes) or not c.get("origin")
    ]
    return {
        "changes": [c if isinstance(c, dict) else orjson.Fragment(c) for c in changes],
        "own_ids": own,
    }
