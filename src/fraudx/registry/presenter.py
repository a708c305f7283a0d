"""Look-up results as JSON documents, built by hand: this is the hot path, and a pydantic
model per result would cost more than the look-up itself. ``api.LookupResultPublic``
documents the same shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fraudx.registry.events import from_ts
from fraudx.registry.lookup import LookupResult

_NOT_LISTED = (
    b',"listed":false,"risk":0,"categories":[],"countries":[],"reports":0,'
    b'"first_seen":null,"last_seen":null}'
)


def batch_json(results: Sequence[LookupResult | dict[str, Any]]) -> bytes:
    """``{"results": [...]}`` for a batch, written piecewise: most identifiers screened
    are not listed, and their answer is the same bytes but for the identifier."""
    parts = []
    dumps = orjson.dumps
    for result in results:
        if type(result) is LookupResult and not result.listed:
            identifier = result.identifier
            parts.append(
                b'{"identifier":{"kind":"%s","value":%s}%s'
                % (identifier.kind.encode(), dumps(identifier.value), _NOT_LISTED)
            )
        else:
            parts.append(dumps(result if type(result) is dict else lookup_json(result)))  # type: ignore[arg-type]
    return b'{"results":[' + b",".join(parts) + b"]}"


def lookup_json(result: LookupResult) -> dict[str, Any]:
    # The kind is a str enum: orjson writes it as its value without a lookup here.
    body: dict[str, Any] = {
        "identifier": {"kind": result.identifier.kind, "value": result.identifier.value},
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
