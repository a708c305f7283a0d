"""Look-up results as JSON documents, built by hand: this is the hot path, and a pydantic
model per result would cost more than the look-up itself. ``api.LookupResultPublic``
documents the same shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from fraudx.registry.events import from_ts
from fraudx.registry.lookup import LookupResult

_NOT_LISTED = (
    b'},"listed":false,"risk":0,"categories":[],"countries":[],"reports":0,'
    b'"first_seen":null,"last_seen":null}'
)


def not_listed_json(kind: str, value: str) -> bytes:
    """The answer for an identifier that is not listed (to the caller): the same bytes
    but for the identifier, so batches keep it ready-made (``lookups.Spelling``)."""
    return b'{"identifier":{"kind":"%s","value":%s%s' % (
        kind.encode(),
        orjson.dumps(value),
        _NOT_LISTED,
    )


def error_json(kind: str, value: str, field: str, reason: str) -> bytes:
    """The answer for a batch item that could not be looked up."""
    return orjson.dumps(
        {"identifier": {"kind": kind, "value": value}, "error": reason, "field": field}
    )


class Answered(Protocol):
    """A batch answer already in JSON (``spellings.Spelling``)."""

    @property
    def answer(self) -> bytes: ...


def batch_json(answers: Sequence[Answered | LookupResult]) -> bytes:
    """``{"results": [...]}`` for a batch: answers already in JSON go in as they are."""
    parts = [
        _result_json(answer) if type(answer) is LookupResult else answer.answer  # type: ignore[union-attr]
        for answer in answers
    ]
    return b'{"results":[' + b",".join(parts) + b"]}"


def _result_json(result: LookupResult) -> bytes:
    if result.listed:
        return orjson.dumps(lookup_json(result))
    return not_listed_json(result.identifier.kind, result.identifier.value)


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
