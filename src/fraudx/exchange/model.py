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
from typing import Annotated, Any, Literal, NamedTuple

import msgspec
import orjson

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
    """``obj[key]`` as an aware datetime (see ``_instant``)."""
    return _instant(obj.get(key), key, memo)


def _instant(raw: Any, key: str, memo: dict[str, datetime]) -> datetime:
    """``raw`` as an aware datetime. ``memo`` keeps the texts already read: a page's
    reports share a handful of instants (a bulk import's), and parsing is most of the cost."""
    if raw.__class__ is str:
        found = memo.get(raw)
        if found is not None:
            return found
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is None:
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(key, "not an RFC 3339 timestamp") from None
    memo[raw] = value
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
    extensions = obj.get("extensions")
    ext = extensions.get(stix.EXTENSION_ID) if isinstance(extensions, Mapping) else None
    if ext.__class__ is not dict and not isinstance(ext, Mapping):  # dict: no ABC check
        raise InvalidInput("extensions", "no FraudX provenance extension")
    origin = _text(ext, "origin_node")
    if origin != signer:
        raise InvalidInput("origin_node", f"{origin!r} is not the signing node {signer!r}")
    origin_id = _text(ext, "origin_id")
    refs = obj.get("object_marking_refs")
    tlp: str | None
    if refs.__class__ is list and len(refs) == 1 and _TLP_OF_MARKING.get(str(refs[0])):
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
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidInput("extensions", str(exc)) from None
    if obj.get("revoked") is True:
        status = Status.REVOKED
    memo = {} if memo is None else memo
    modified = _time(obj, "modified", memo)
    tags = ext.get("tags")
    tags = tags if tags.__class__ is list else ()
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
        if str(obj.get("type")) in CONTEXT_TYPES:
            continue  # context every bundle may carry
        try:
            report(peer_report(obj, signer, memo))
            success(stix_id)
        except InvalidInput as exc:
            parsed.failures.append((stix_id, exc.detail))
    return parsed


CONTEXT_TYPES = frozenset({"identity", "extension-definition", "marking-definition"})


class Envelope(NamedTuple):
    """A TAXII envelope of a peer's objects, read into reports."""

    parsed: Parsed
    received: int  # objects in the envelope, whatever they were
    more: bool


def read_envelope(signer: str, body: bytes) -> Envelope:
    """The reports in an envelope ``signer`` sent (its signature already checked).

    A clean page, every object of it a report ``peer_report`` accepts, is read straight
    into typed structs: no dict for each object and no string for the fields FraudX
    does not read, which was half of a receiving node's reading. Anything else is read
    again object by object, so that each refusal says what is wrong."""
    try:
        return _read_clean(signer, body)
    except (msgspec.ValidationError, msgspec.DecodeError, InvalidInput):
        pass
    try:
        envelope = orjson.loads(body)
        objects = envelope.get("objects") or []
        if not isinstance(objects, list):
            raise TypeError
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        raise InvalidInput("objects", "not a TAXII envelope with a list of objects") from None
    return Envelope(parse_objects(signer, objects), len(objects), bool(envelope.get("more")))


# The fields of a FraudX peer's indicator that ``peer_report`` reads, with the types it
# accepts without a second look; times stay texts, read as ``peer_report`` reads them.
# Not tracked by the cycle collector (``gc=False``): they hold no containers of their own
# but the tags' list of texts.
_Text = Annotated[str, msgspec.Meta(min_length=1)]


class _Provenance(msgspec.Struct, gc=False):
    origin_node: _Text
    origin_id: _Text
    agency: _Text
    country: _Text
    kind: IdentifierKind
    value: _Text
    category: _Text
    tlp: str
    status: Status
    first_seen: str
    last_seen: str
    agency_kind: str = ""
    agency_name: str = ""
    tags: list[str] = []
    region: str | None = None


class _Extensions(msgspec.Struct, gc=False):
    fraudx: _Provenance = msgspec.field(name=stix.EXTENSION_ID)


class _Indicator(msgspec.Struct, gc=False):
    type: Literal["indicator"]
    id: str
    created: str
    modified: str
    valid_from: str
    valid_until: str
    object_marking_refs: list[str]
    extensions: _Extensions
    confidence: Annotated[int, msgspec.Meta(ge=0, le=100)] = 50
    revoked: bool = False
    description: str | None = None


class _Envelope(msgspec.Struct, gc=False):
    objects: list[_Indicator] = []
    more: bool = False


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def _read_clean(signer: str, body: bytes) -> Envelope:
    """``body`` read as a clean page; ValidationError, DecodeError or InvalidInput at the
    first object ``peer_report`` would refuse or read differently."""
    envelope = _ENVELOPE.decode(body)
    memo: dict[str, datetime] = {}
    reports: list[PeerReport] = []
    report = reports.append
    for obj in envelope.objects:
        ext = obj.extensions.fraudx
        refs = obj.object_marking_refs
        tlp = _TLP_OF_MARKING.get(refs[0]) if len(refs) == 1 else None
        if ext.origin_node != signer or tlp is None or tlp != ext.tlp or tlp == "RED":
            raise InvalidInput("objects", "not a clean page")
        tags = ext.tags
        # In PeerReport's order, as ``peer_report`` makes it.
        report(
            PeerReport._make(
                (
                    ext.origin_node,
                    ext.origin_id,
                    ext.kind,
                    ext.value,
                    ext.category[:40],
                    obj.confidence,
                    _TLPS[tlp],
                    Status.REVOKED if obj.revoked else ext.status,
                    ext.agency[:40],
                    ext.country[:2],
                    _instant(obj.valid_from, "valid_from", memo),
                    _instant(obj.valid_until, "valid_until", memo),
                    _instant(ext.first_seen, "first_seen", memo),
                    _instant(ext.last_seen, "last_seen", memo),
                    _instant(obj.created, "created", memo),
                    _instant(obj.modified, "modified", memo),
                    obj.description,
                    tuple([t[:64] for t in tags][:20]) if tags else (),
                    ext.region,
                    ext.agency_kind,
                    ext.agency_name,
                )
            )
        )
    successes = [obj.id for obj in envelope.objects]
    return Envelope(Parsed(reports, successes, []), len(successes), envelope.more)


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
