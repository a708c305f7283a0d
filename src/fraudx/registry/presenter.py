"""Look-up results as JSON documents, built by hand: this is the hot path, and a pydantic
model per result would cost more than the look-up itself. ``api.LookupResultPublic``
documents the same shape."""

from __future__ import annotations

from typing import Any

from fraudx.registry.events import from_ts
from fraudx.registry.lookup import LookupResult


def lookup_json(result: LookupResult) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifier": {"kind": result.identifier.kind.value, "value": result.identifier.value},
        "listed": result.listed,
        "risk": result.risk,
        "categories": list(result.categories),
        "countries": list(result.countries),
        "reports": result.reports,
        "first_seen": result.first_seen,
        "last_seen": result.last_seen,
    }
    if result.visible:
        body["indicators"] = [
            {
                "id": r.id,
                "agency": r.agency,
                "country": r.country,
                "category": r.category,
                "confidence": r.confidence,
                "tlp": r.tlp.value,
                "first_seen": from_ts(r.first_seen),
                "last_seen": from_ts(r.last_seen),
                "valid_until": from_ts(r.valid_until),
            }
            for r in result.visible
        ]
    return body
