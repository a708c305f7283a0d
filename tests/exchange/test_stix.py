"""Every object FraudX writes passes the OASIS stix2-validator; reading it back is exact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_instance

from fraudx.exchange import stix
from fraudx.exchange.model import peer_report
from fraudx.identifiers import IdentifierKind
from fraudx.platform.errors import InvalidInput
from fraudx.registry.model import Status, Tlp

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
VALUES = {
    "phone": "+855123456789",
    "bank_account": "KH:ABAAKHPP:000123456",
    "ip": "203.0.113.7",
    "url": "https://kbank-secure.example/login?a='b'",
    "domain": "kbank-secure.example",
    "email": "refund@scam.example",
    "crypto_wallet": "tron:TXYZabcdefghijklmnopqrstuvwxyz1234",
    "imei": "490154203237518",
    "imsi": "456011234567890",
}
PROVENANCE = stix.Provenance(
    "kh", "0193a0b0-0000-7000-8000-000000000001", "KH-GCNP", "police", "GCNP", "KH"
)


def _report(kind: str, tlp: str = "AMBER") -> dict[str, Any]:
    return {
        "kind": kind,
        "value": VALUES[kind],
        "tlp": tlp,
        "category": "scam_call",
        "confidence": 70,
        "first_seen": NOW,
        "last_seen": NOW,
        "created_at": NOW,
        "updated_at": NOW + timedelta(seconds=1),
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=90),
        "tags": ";myawaddy;group:cn-mm-th;",
        "description": "calls posing as the bank",
        "region": "KH",
    }


def _valid(obj: dict[str, Any]) -> None:
    result = validate_instance(obj, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]


def _objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = list(stix.static_objects())
    for kind in VALUES:
        objects.append(stix.observable_object(kind, VALUES[kind]))
        for tlp in stix.TLP_MARKINGS:
            objects.append(stix.indicator_object(_report(kind, tlp), PROVENANCE, "active"))
        objects.append(stix.indicator_object(_report(kind), PROVENANCE, "revoked"))
    objects.append(stix.observable_object("ip", "2001:db8::1"))
    for kind in ("police", "bank", "telco", "observer"):
        objects.append(stix.identity_object("KH-X", "x", kind))
    return objects


def test_every_object_type_passes_the_validator() -> None:
    objects = _objects()
    assert {o["type"] for o in objects} >= {
        "indicator",
        "identity",
        "extension-definition",
        "marking-definition",
        "ipv4-addr",
        "ipv6-addr",
        "url",
        "domain-name",
        "email-addr",
        *stix.CUSTOM_TYPES,
    }
    for obj in objects:
        _valid(obj)


def test_ids_are_the_same_on_every_node_and_modified_advances() -> None:
    a = stix.indicator_object(_report("phone"), PROVENANCE, "active")
    b = stix.indicator_object(
        _report("phone") | {"updated_at": NOW + timedelta(hours=1)}, PROVENANCE, "revoked"
    )
    assert a["id"] == b["id"] == stix.indicator_id("kh", PROVENANCE.origin_id)
    assert b["modified"] > a["modified"]
    assert b["revoked"] is True
    assert "revoked" not in a


@pytest.mark.parametrize("kind", list(VALUES))
def test_read_back_exactly(kind: str) -> None:
    obj = stix.indicator_object(_report(kind), PROVENANCE, "active")
    assert stix.parse_simple_pattern(obj["pattern"]) == (kind, VALUES[kind])
    back = peer_report(obj, "kh").indicator
    assert (back.identifier.kind.value, back.identifier.value) == (kind, VALUES[kind])
    assert (back.agency_code, back.country, back.tlp.value) == ("KH-GCNP", "KH", "AMBER")
    assert (back.origin_node, back.origin_id) == ("kh", PROVENANCE.origin_id)
    assert back.updated_at == NOW + timedelta(seconds=1)
    assert back.tags == ("myawaddy", "group:cn-mm-th")


def test_every_field_is_read_into_its_own_place() -> None:
    # peer_report builds its tuple by position: distinct values catch a field misplaced.
    obj = stix.indicator_object(_report("phone") | {"confidence": 61}, PROVENANCE, "active")
    ext = obj["extensions"][stix.EXTENSION_ID]
    at = {k: NOW + timedelta(minutes=i) for i, k in enumerate(("vf", "vu", "fs", "ls", "c", "m"))}
    obj |= {"valid_from": stix.timestamp(at["vf"]), "valid_until": stix.timestamp(at["vu"])}
    obj |= {"created": stix.timestamp(at["c"]), "modified": stix.timestamp(at["m"])}
    ext |= {"first_seen": stix.timestamp(at["fs"]), "last_seen": stix.timestamp(at["ls"])}
    assert peer_report(obj, "kh")._asdict() == {
        "origin_node": "kh",
        "origin_id": PROVENANCE.origin_id,
        "kind": IdentifierKind.PHONE,
        "value": VALUES["phone"],
        "category": "scam_call",
        "confidence": 61,
        "tlp": Tlp.AMBER,
        "status": Status.ACTIVE,
        "agency_code": "KH-GCNP",
        "country": "KH",
        "valid_from": at["vf"],
        "valid_until": at["vu"],
        "first_seen": at["fs"],
        "last_seen": at["ls"],
        "created_at": at["c"],
        "updated_at": at["m"],
        "description": "calls posing as the bank",
        "tags": ("myawaddy", "group:cn-mm-th"),
        "region": "KH",
        "agency_kind": "police",
        "agency_name": "GCNP",
    }


def test_a_peer_cannot_speak_for_another_node_or_send_red() -> None:
    obj = stix.indicator_object(_report("phone"), PROVENANCE, "active")
    with pytest.raises(InvalidInput, match="not the signing node"):
        peer_report(obj, "th")
    red = stix.indicator_object(_report("phone", "RED"), PROVENANCE, "active")
    with pytest.raises(InvalidInput, match="RED"):
        peer_report(red, "kh")


def test_derived_ids_are_uuid5_with_v4_version_bits() -> None:
    for name in ("kh/0193a0b0-0000-7000-8000-000000000001", "agency/KH-GCNP", "vn/é"):
        expected = uuid.UUID(bytes=uuid.uuid5(stix.NAMESPACE, name).bytes, version=4)
        assert stix.derived_uuid(name) == str(expected)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "fax"}, "extensions"),
        ({"status": "lost"}, "extensions"),
        ({"value": ""}, "value"),
        ({"first_seen": "yesterday"}, "first_seen"),
        ({"last_seen": "2026-11-26T08:00:00"}, "last_seen"),  # no offset
        ({"agency": 7}, "agency"),
    ],
)
def test_malformed_provenance_is_refused_with_its_field(change: dict[str, Any], field: str) -> None:
    obj = stix.indicator_object(_report("phone"), PROVENANCE, "active")
    obj["extensions"][stix.EXTENSION_ID].update(change)
    with pytest.raises(InvalidInput) as caught:
        peer_report(obj, "kh", {})
    assert caught.value.field == field


def test_objects_of_a_page_share_read_instants_but_not_mistakes() -> None:
    memo: dict[str, datetime] = {}
    first = stix.indicator_object(_report("phone"), PROVENANCE, "active")
    later = stix.indicator_object(
        _report("ip") | {"updated_at": NOW + timedelta(hours=2)}, PROVENANCE, "revoked"
    )
    a, b = peer_report(first, "kh", memo).indicator, peer_report(later, "kh", memo).indicator
    assert a.created_at == b.created_at == NOW
    assert (a.updated_at, b.updated_at) == (NOW + timedelta(seconds=1), NOW + timedelta(hours=2))
    assert b.status.value == "revoked"
    assert b.revoked_at == NOW + timedelta(hours=2)
    bad = stix.indicator_object(_report("phone"), PROVENANCE, "active") | {"modified": 5}
    with pytest.raises(InvalidInput, match="RFC 3339"):
        peer_report(bad, "kh", memo)


def test_sqlite_times_are_written_as_the_datetimes_would_be() -> None:
    assert stix.timestamp_of_sqlite("2026-11-26 08:00:00.000000") == stix.timestamp(NOW)
    assert stix.timestamp_of_sqlite("2026-11-26 08:00:00") == stix.timestamp(NOW)
    later = NOW + timedelta(microseconds=123456)
    assert stix.timestamp_of_sqlite("2026-11-26 08:00:00.123456") == stix.timestamp(later)
