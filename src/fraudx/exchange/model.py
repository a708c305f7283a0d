"""Reading peers' STIX back into FraudX reports; TAXII resources. Pure: no I/O.

A FraudX peer's indicator carries its provenance in FraudX's property extension; the
signer of the bundle must be the indicator's origin node, so that no peer can speak for
another. Indicators made by other tools (MISP, OpenCTI) are read from their pattern,
marking and confidence where that can be done (see ``interop.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from fraudx.exchange import stix
from fraudx.identifiers import IdentifierKind
from fraudx.platform.errors import InvalidInput
from fraudx.registry.model import Status, Tlp
from fraudx.registry.origin import PeerReport

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
COLLECTION_NAMESPACE = uuid.UUID("8f0c1f3e-3b8e-4d2a-9f57-2f6b6c1d9a40")


def collection_id(group: str) -> str:
    return str(uuid.uuid5(COLLECTION_NAMESPACE, group))


@dataclass(frozen=True, slots=True)
class ObjectsPage:
    """A page of objects as stored JSON texts, oldest first."""

    records: list[tuple[str, str, datetime, datetime]]  # stix id, body, date_added, modified
    more: bool

    @property
    def first(self) -> datetime | None:
        return self.records[0][2] if self.records else None

    @property
    def last(self) -> datetime | None:
        return self.records[-1][2] if self.records else None


class PageText(NamedTuple):
    """A page of objects as one text: their bodies, comma-separated, oldest first, in
    UTF-8 (as it is sent)."""

    objects: bytes
    size: int  # how many objects
    first: datetime | None
    last: datetime | None
    more: bool


def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if value.__class__ is not str or not value:
        raise InvalidInput(key, "missing or not text")
    return value


def _time(obj: Mapping[str, Any], key: str, memo: dict[str, datetime]) -> datetime:
    """``obj[key]`` as an aware datetime. ``memo`` keeps the texts already read: a page's
    reports share a handful of instants (a bulk import's), and parsing is most of the cost."""
    raw = obj.get(key)
    if raw.__class__ is str:
        found = memo.get(raw)
        if found is not None:
            return found
    try:
        value = datetime.fromisoformat(raw)  # type: ignore[arg-type]
        if value.tzinfo is None:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(key, "not an RFC 3339 timestamp") from None
    memo[raw] = value  # type: ignore[index]
    return value


# Enum members by value: a dict look-up, not the enum machinery, for each of 100,000 objects.
_KINDS = {k.value: k for k in IdentifierKind}
_STATUSES = {s.value: s for s in Status}
_TLPS = {t.value: t for t in Tlp}
_TLP_OF_MARKING = stix.TLP_OF_MARKING


def peer_report(
    obj: Mapping[str, Any], signer: str, memo: dict[str, datetime] | None = None
) -> PeerReport:
    """The report in a FraudX peer's indicator; InvalidInput says what is wrong with it."""
    if obj.get("type") != "indicator":
        raise InvalidInput("type", f"{obj.get('type')!r}: only indicators are exchanged")
    ext = (obj.get("extensions") or {}).get(stix.EXTENSION_ID)
    if ext.__class__ is not dict and not isinstance(ext, Mapping):  # dict: no ABC check
        raise InvalidInput("extensions", "no FraudX provenance extension")
    origin = _text(ext, "origin_node")
    if origin != signer:
        raise InvalidInput("origin_node", f"{origin!r} is not the signing node {signer!r}")
    origin_id = _text(ext, "origin_id")
    refs = obj.get("object_marking_refs")
    tlp: str | None
    if refs.__class__ is list and len(refs) == 1 and refs[0] in _TLP_OF_MARKING:
        tlp = _TLP_OF_MARKING[refs[0]]  # the usual single marking, without the ranking
    else:
        tlp = stix.tlp_of(obj)
    if tlp is None or tlp != ext.get("tlp"):
        raise InvalidInput("object_marking_refs", "no TLP marking, or not the extension's")
    if tlp == "RED":
        raise InvalidInput("object_marking_refs", "TLP:RED never leaves its node")
    kind = _KINDS.get(_text(ext, "kind"))
    if kind is None:
        raise InvalidInput("extensions", f"{ext['kind']!r} is not a valid IdentifierKind")
    status = _STATUSES.get(_text(ext, "status"))
    if status is None:
        raise InvalidInput("extensions", f"{ext['status']!r} is not a valid Status")
    confidence = obj.get("confidence", 50)
    if confidence.__class__ is not int or not 0 <= confidence <= 100:
        try:
            confidence = max(0, min(100, int(confidence)))
        except (TypeError, ValueError) as exc:
            raise InvalidInput("extensions", str(exc)) from None
    if obj.get("revoked") is True:
        status = Status.REVOKED
    memo = {} if memo is None else memo
    modified = _time(obj, "modified", memo)
    tags = ext.get("tags") or []
    description = obj.get("description")
    region = ext.get("region")
    # Fields in the order they were always read, so that the first bad one is reported;
    # by position, in PeerReport's order (a 21-field NamedTuple built by name costs more
    # than the rest of reading an object).
    return PeerReport._make(
        (
            origin,  # origin_node
            origin_id,
            kind,
            _text(ext, "value"),
            _text(ext, "category")[:40],
            confidence,
            _TLPS[tlp],
            status,
            _text(ext, "agency")[:40],  # agency_code
            _text(ext, "country")[:2],
            _time(obj, "valid_from", memo),
            _time(obj, "valid_until", memo),
            _time(ext, "first_seen", memo),
            _time(ext, "last_seen", memo),
            _time(obj, "created", memo),  # created_at
            modified,  # updated_at
            description if isinstance(description, str) else None,
            tuple([t[:64] for t in tags if isinstance(t, str)][:20]) if tags else (),
            region if isinstance(region, str) else None,
            str(ext.get("agency_kind") or ""),
            str(ext.get("agency_name") or ""),
        ),
    )


@dataclass
class Parsed:
    """A page of a peer's objects read into reports, before they are stored."""

    reports: list[PeerReport]
    successes: list[str]
    failures: list[tuple[str, str]]


def parse_objects(signer: str, objects: Sequence[Any]) -> Parsed:
    """Read a peer's objects; what cannot be read is listed with its reason."""
    parsed = Parsed([], [], [])
    memo: dict[str, datetime] = {}
    report, success = parsed.reports.append, parsed.successes.append
    for obj in objects:
        if obj.__class__ is not dict and not isinstance(obj, dict):
            parsed.failures.append(("?", InvalidInput("objects", "not a JSON object").detail))
            continue
        stix_id = obj.get("id")
        if stix_id.__class__ is not str:
            stix_id = str(stix_id)
        if obj.get("type") in CONTEXT_TYPES:
            continue  # context every bundle may carry
        try:
            report(peer_report(obj, signer, memo))
            success(stix_id)
        except InvalidInput as exc:
            parsed.failures.append((stix_id, exc.detail))
    return parsed


CONTEXT_TYPES = frozenset({"identity", "extension-definition", "marking-definition"})


def taxii_error(status: int, title: str, description: str) -> dict[str, Any]:
    """The TAXII 2.1 error resource."""
    return {"title": title, "description": description, "http_status": str(status)}


def status_resource(
    id_: str, now: datetime, successes: list[str], failures: list[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "id": id_,
        "status": "complete",
        "request_timestamp": stix.timestamp(now),
        "total_count": len(successes) + len(failures),
        "success_count": len(successes),
        "successes": [{"id": s, "version": "last"} for s in successes][:1000],
        "failure_count": len(failures),
        "failures": [{"id": i, "message": m} for i, m in failures][:1000],
        "pending_count": 0,
    }
