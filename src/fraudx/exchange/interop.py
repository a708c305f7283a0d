"""Reading STIX 2.1 bundles made by other tools (MISP through ``misp-stix``, OpenCTI).

What can be mapped becomes import rows for the registry (kind, value, category,
confidence, TLP, validity); everything else is reported with its id and the reason, never
dropped silently. Pure: no database, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fraudx.exchange import stix

#: Object types other tools use in patterns, and the FraudX kind they are.
FOREIGN_TYPES: dict[str, str] = {
    **stix.KIND_OF_TYPE,
    "phone-number": "phone",  # OpenCTI
    "x-opencti-phone-number": "phone",
    "cryptocurrency-wallet": "crypto_wallet",  # OpenCTI
    "x-opencti-cryptocurrency-wallet": "crypto_wallet",
}

#: A category for each kind when the caller names none.
DEFAULT_CATEGORY = {
    "phone": "scam_call",
    "bank_account": "mule_account",
    "ip": "scam_compound_network",
    "url": "phishing_url",
    "domain": "scam_website",
    "email": "scam_website",
    "crypto_wallet": "cashout_wallet",
    "imei": "sim_box",
    "imsi": "sim_box",
}

#: Objects that only give context: read for markings, neither mapped nor reported.
CONTEXT_TYPES = frozenset(
    {"identity", "marking-definition", "extension-definition", "relationship", "report", "note"}
)


@dataclass
class Mapped:
    """Rows for ``RegistryService.import_records`` and what could not be mapped."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the STIX id of each row
    unmapped: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)


def _tlp_markings(objects: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Marking ids of this bundle that are TLP, by the TLP they stand for."""
    found = dict(stix.TLP_OF_MARKING) | dict(stix.TLP1_MARKINGS)
    for obj in objects:
        if obj.get("type") != "marking-definition":
            continue
        definition = obj.get("definition") or {}
        name = str(definition.get("tlp") or obj.get("name") or "").upper().removeprefix("TLP:")
        name = {"WHITE": "CLEAR"}.get(name, name)
        if name in stix.TLP_MARKINGS:
            found[str(obj.get("id"))] = name
    return found


_EQUALITY = re.compile(
    r"^\[\s*([a-z0-9-]+):([a-zA-Z0-9_.\[\]\-']+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]$"
)


def _split_pattern(pattern: str) -> tuple[str, str, str] | None:
    """(object type, property path, value) of a one-comparison equality pattern."""
    match = _EQUALITY.match(pattern.strip())
    if not match:
        return None
    return match.group(1), match.group(2), re.sub(r"\\(.)", r"\1", match.group(3))


def map_bundle(bundle: Mapping[str, Any], now: datetime, category: str | None = None) -> Mapped:
    """Map the indicators of a STIX 2.1 bundle to registry import rows."""
    mapped = Mapped()
    if bundle.get("type") != "bundle" or not isinstance(bundle.get("objects"), list):
        mapped.unmapped.append(("bundle", "not a STIX 2.1 bundle with a list of objects"))
        return mapped
    objects: list[Mapping[str, Any]] = [o for o in bundle["objects"] if isinstance(o, Mapping)]
    tlps = _tlp_markings(objects)
    for obj in objects:
        type_, id_ = str(obj.get("type")), str(obj.get("id"))
        if type_ in CONTEXT_TYPES:
            continue
        if type_ != "indicator":
            mapped.unmapped.append((id_, f"{type_}: only indicators are imported"))
            continue
        reason = _map_indicator(obj, tlps, now, category, mapped)
        if reason:
            mapped.unmapped.append((id_, reason))
    return mapped


def _map_indicator(
    obj: Mapping[str, Any],
    tlps: Mapping[str, str],
    now: datetime,
    category: str | None,
    mapped: Mapped,
) -> str | None:
    if obj.get("revoked") is True:
        return "revoked by its producer"
    if obj.get("pattern_type", "stix") != "stix":
        return f"pattern type {obj.get('pattern_type')!r} is not STIX"
    split = _split_pattern(str(obj.get("pattern") or ""))
    if split is None:
        return "the pattern is not one equality (compound patterns are not mapped)"
    object_type, path, value = split
    kind = FOREIGN_TYPES.get(object_type)
    if kind is None or path != "value":
        return f"{object_type}:{path} is not an identifier kind FraudX keeps"
    until = obj.get("valid_until")
    if isinstance(until, str) and stix.parse_timestamp(until) <= now:
        return "expired (valid_until has passed)"
    marking = next((tlps[m] for m in obj.get("object_marking_refs") or () if m in tlps), None)
    confidence = obj.get("confidence")
    if not isinstance(confidence, int):
        score = obj.get("x_opencti_score")
        confidence = score if isinstance(score, int) else None
    mapped.rows.append(
        {
            "kind": kind,
            "value": value,
            "category": category or DEFAULT_CATEGORY[kind],
            "confidence": max(0, min(100, confidence)) if confidence is not None else "",
            "tlp": marking or "",
            "valid_until": until or "",
            "description": (str(obj.get("name") or obj.get("description") or "") or None),
            "tags": [
                str(label).lower()[:64].replace(";", ",") for label in obj.get("labels") or []
            ][:20],
        }
    )
    mapped.sources.append(str(obj.get("id")))
    return None


def utcnow() -> datetime:
    return datetime.now(UTC)
