"""STIX 2.1 mapping of FraudX reports. Pure: no database, no HTTP.

Indicators become STIX Indicator objects with STIX patterns. Phone numbers, bank
accounts, crypto wallets, IMEIs and IMSIs have no standard STIX object: they are custom
observables (``x-fraudx-*``) declared by FraudX's extension definition (STIX 2.1 §7.3),
which also carries FraudX's provenance on each indicator as a property extension. The
JSON is written directly: the ``stix2`` library is too slow for a 100,000-object sync.

STIX ids are uuid5 over FraudX's namespace, the origin node and the FraudX id, so that
the same report has the same STIX id on every node.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

NAMESPACE = uuid.UUID("5f1b8a0e-6c1d-4c1e-9a7b-6b2f0d7e3a11")
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")  # STIX 2.1 §2.9

FRAUDX_IDENTITY = "identity--2b1f6c0e-9d4a-4f0e-8c3b-7a5d1e9f0c21"
EXTENSION_ID = "extension-definition--7c1d3e5f-2a4b-4c6d-8e9f-0a1b2c3d4e5f"
EXTENSION_CREATED = "2026-11-26T00:00:00.000Z"

#: TLP 2.0 marking definitions (the OASIS TLP 2.0 extension's well-known ids).
TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS: dict[str, str] = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_OF_MARKING = {v: k for k, v in TLP_MARKINGS.items()}
#: TLP 1.0 ids still used by MISP and OpenCTI exports.
TLP1_MARKINGS = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
}

#: Where each identifier kind lives in STIX: standard observables, or FraudX's own.
OBJECT_TYPE: dict[str, str] = {
    "ip": "ipv4-addr",
    "url": "url",
    "domain": "domain-name",
    "email": "email-addr",
    "phone": "x-fraudx-phone",
    "bank_account": "x-fraudx-bank-account",
    "crypto_wallet": "x-fraudx-crypto-wallet",
    "imei": "x-fraudx-imei",
    "imsi": "x-fraudx-imsi",
}
CUSTOM_TYPES = frozenset(t for t in OBJECT_TYPE.values() if t.startswith("x-fraudx-"))
KIND_OF_TYPE = {t: k for k, t in OBJECT_TYPE.items()} | {"ipv6-addr": "ip"}


@lru_cache(maxsize=8192)
def timestamp(when: datetime) -> str:
    """RFC 3339 in UTC with microseconds, as STIX and TAXII want it. Cached: a bulk
    import's reports share a handful of instants."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@lru_cache(maxsize=8192)
def timestamp_of_sqlite(text: str) -> str:
    """``timestamp`` of a time as SQLite holds it (SQLAlchemy's naive-UTC text, e.g.
    ``2026-11-26 08:00:00.000000``), without making a datetime of it."""
    if len(text) == 26 and text[10] == " " and text[19] == ".":
        return f"{text[:10]}T{text[11:]}Z"
    return timestamp(datetime.fromisoformat(text).replace(tzinfo=UTC))


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def derived_uuid(name: str) -> str:
    """A UUID derived from ``name`` (uuid5), with the version bits of a v4 UUID: STIX asks
    for v4 ids on domain objects, and FraudX needs them the same on every node.
    Equal to ``str(uuid.UUID(bytes=uuid.uuid5(NAMESPACE, name).bytes, version=4))``,
    without building two UUID objects per published report."""
    # SHA-1 is what uuid5 is made of (RFC 4122): an identifier, not a security measure.
    h = hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8"), usedforsecurity=False).hexdigest()
    # The version's digit is 4; the variant's (RFC 4122) has its top bits 10.
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:32]}"


_NAMESPACE_BYTES = NAMESPACE.bytes
_VARIANT_DIGIT = {f"{n:x}": f"{0x8 | n & 0x3:x}" for n in range(16)}


def indicator_id(origin_node: str, fraudx_id: str) -> str:
    return "indicator--" + derived_uuid(f"{origin_node}/{fraudx_id}")


@lru_cache(maxsize=1024)
def identity_id(agency_code: str) -> str:
    return "identity--" + derived_uuid(f"agency/{agency_code}")


def object_type(kind: str, value: str) -> str:
    if kind == "ip" and ":" in value:
        return "ipv6-addr"
    return OBJECT_TYPE[kind]


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def pattern_of(kind: str, value: str) -> str:
    return f"[{object_type(kind, value)}:value = '{_quote(value)}']"


_SIMPLE_PATTERN = re.compile(r"^\[\s*([a-z0-9-]+):value\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$")


def parse_simple_pattern(pattern: str) -> tuple[str, str] | None:
    """(kind, value) of a one-comparison pattern over an object's value; None otherwise."""
    match = _SIMPLE_PATTERN.match(pattern.strip())
    if not match or match.group(1) not in KIND_OF_TYPE:
        return None
    value = re.sub(r"\\(.)", r"\1", match.group(2))
    return KIND_OF_TYPE[match.group(1)], value


class Provenance(NamedTuple):
    """Where a report comes from, as carried in FraudX's property extension (a tuple:
    made for each of 100,000 reports a bulk publish)."""

    origin_node: str
    origin_id: str
    agency: str
    agency_kind: str
    agency_name: str
    country: str


#: A report's fields in the order of the rows ``indicator_of_row`` reads (the registry's
#: columns, then its agency's kind and name): publishing reads them so from the database.
REPORT_FIELDS = (
    *("id", "kind", "value", "agency_code", "country", "category", "confidence", "tlp"),
    *("status", "valid_from", "valid_until", "first_seen", "last_seen", "created_at"),
    *("updated_at", "region", "description", "tags", "origin_node"),
    *("agency_kind", "agency_name"),
)


def indicator_object(
    report: Mapping[str, Any],
    provenance: Provenance,
    status: str,
    stamp: Callable[[Any], str] = timestamp,
) -> dict[str, Any]:
    """A STIX Indicator for one report. ``report`` has the fields of ``REPORT_FIELDS``
    that are not the provenance's (empty ones as None); ``stamp`` writes its times
    (datetimes, or SQLite's texts with ``timestamp_of_sqlite``)."""
    g = report.get
    row = (
        *(provenance.origin_id, g("kind"), g("value"), provenance.agency, provenance.country),
        *(g("category"), g("confidence"), g("tlp"), status, g("valid_from"), g("valid_until")),
        *(g("first_seen"), g("last_seen"), g("created_at"), g("updated_at"), g("region")),
        *(g("description"), g("tags"), None, provenance.agency_kind, provenance.agency_name),
    )
    return indicator_of_row(provenance.origin_node, row, stamp)


def indicator_of_row(
    origin_node: str, row: Sequence[Any], stamp: Callable[[Any], str] = timestamp
) -> dict[str, Any]:
    """``indicator_object`` of a report as a row of ``REPORT_FIELDS``, published by
    ``origin_node``: by position, as publishing reads 100,000 reports from the database
    (a dict of each row cost more than making its object)."""
    (
        origin_id, kind, value, agency, country, category, confidence, tlp, status,
        valid_from, valid_until, first_seen, last_seen, created_at, updated_at,
        region, description, tags, _, agency_kind, agency_name,
    ) = row  # fmt: skip
    extension: dict[str, Any] = {
        "extension_type": "property-extension",
        "origin_node": origin_node,
        "origin_id": origin_id,
        "agency": agency,
        "agency_kind": agency_kind,
        "agency_name": agency_name,
        "country": country,
        "kind": kind,
        "value": value,
        "category": category,
        "tlp": tlp,
        "status": status,
        "first_seen": stamp(first_seen),
        "last_seen": stamp(last_seen),
    }
    if region:
        extension["region"] = region
    if tags:  # ``;``-separated, empty ones left out
        tag_list = [t for t in tags.split(";") if t]
        if tag_list:
            extension["tags"] = tag_list
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(origin_node, origin_id),
        "created": stamp(created_at),
        "modified": stamp(updated_at),
        "created_by_ref": identity_id(agency),
        "name": f"{category}: {kind} {value}"[:250],
        "indicator_types": ["malicious-activity"],
        "pattern": pattern_of(kind, value),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": stamp(valid_from),
        "valid_until": stamp(valid_until),
        "confidence": int(confidence),
        "labels": [category],
        "object_marking_refs": [TLP_MARKINGS[tlp]],
        "extensions": {EXTENSION_ID: extension},
    }
    if description:
        obj["description"] = description
    if status == "revoked":
        obj["revoked"] = True
    return obj


def observable_object(kind: str, value: str) -> dict[str, Any]:
    """The cyber-observable for an identifier (custom ones declare FraudX's extension)."""
    type_ = object_type(kind, value)
    obj: dict[str, Any] = {
        "type": type_,
        "spec_version": "2.1",
        "id": f"{type_}--{uuid.uuid5(SCO_NAMESPACE, _canonical_value(value))}",
        "value": value,
    }
    if type_ in CUSTOM_TYPES:
        obj["extensions"] = {EXTENSION_ID: {"extension_type": "new-sco"}}
    return obj


def _canonical_value(value: str) -> str:
    # JCS of {"value": value}: the contributing property of every observable used here.
    return json.dumps({"value": value}, ensure_ascii=False, separators=(",", ":"))


def identity_object(code: str, name: str, kind: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": identity_id(code),
        "created": EXTENSION_CREATED,
        "modified": EXTENSION_CREATED,
        "name": name or code,
        "identity_class": "organization",
        "sectors": [_SECTOR.get(kind, "government")],
    }


_SECTOR = {"bank": "financial-services", "telco": "telecommunications", "observer": "non-profit"}


def fraudx_identity() -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": FRAUDX_IDENTITY,
        "created": EXTENSION_CREATED,
        "modified": EXTENSION_CREATED,
        "name": "FraudX",
        "identity_class": "system",
    }


def extension_definition() -> dict[str, Any]:
    """Declares the custom observables and the provenance property extension."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": FRAUDX_IDENTITY,
        "created": EXTENSION_CREATED,
        "modified": EXTENSION_CREATED,
        "name": "FraudX fraud intelligence",
        "description": "Custom observables x-fraudx-phone, x-fraudx-bank-account, "
        "x-fraudx-crypto-wallet, x-fraudx-imei and x-fraudx-imsi (property: value, the "
        "FraudX canonical form), and the provenance of FraudX indicators (origin node, "
        "reporting agency and its kind, category, status).",
        "schema": "https://github.com/fraudx/fraudx/blob/main/docs/exchange.md",
        "version": "1.0.0",
        "extension_types": ["new-sco", "property-extension"],
    }


def tlp_marking(tlp: str) -> dict[str, Any]:
    """A TLP 2.0 marking definition object, as the OASIS TLP 2.0 extension defines it."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[tlp],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{tlp}",
        "extensions": {
            TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.lower()}
        },
    }


def static_objects() -> list[dict[str, Any]]:
    """What every bundle may refer to: FraudX's identity, extension and the TLP markings."""
    return [fraudx_identity(), extension_definition(), *(tlp_marking(t) for t in TLP_MARKINGS)]


def tlp_of(obj: Mapping[str, Any]) -> str | None:
    """The TLP of an object from its marking refs (TLP 2.0 or 1.0 ids); None if unmarked."""
    found: str | None = None
    refs = obj.get("object_marking_refs")
    for ref in refs if isinstance(refs, list) else ():
        tlp = TLP_OF_MARKING.get(str(ref)) or TLP1_MARKINGS.get(str(ref))
        if tlp and (found is None or _TLP_RANK[tlp] > _TLP_RANK[found]):
            found = tlp
    return found


_TLP_RANK = {tlp: rank for rank, tlp in enumerate(TLP_MARKINGS)}
