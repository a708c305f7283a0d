"""A peer's page read from its bytes: the typed reading of a clean page gives exactly what
reading it object by object gives, and anything else is read object by object."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fraudx.exchange import stix
from fraudx.exchange.model import Envelope, _read_clean, parse_objects, read_envelope
from fraudx.platform.errors import InvalidInput

NOW = datetime(2026, 11, 26, 8, 0, 0, 123456, tzinfo=UTC)
VALUES = {
    "phone": "+855123456789",
    "bank_account": "KH:ABAAKHPP:000123456",
    "ip": "203.0.113.7",
    "url": "https://kbank-secure.example/login?a='b'&c=\"d\"",
    "domain": "kbank-secure.example",
    "email": "refund@scam.example",
    "crypto_wallet": "tron:TXYZabcdefghijklmnopqrstuvwxyz1234",
    "imei": "490154203237518",
    "imsi": "456011234567890",
}


def _indicator(n: int, kind: str, tlp: str = "AMBER", status: str = "active") -> dict[str, Any]:
    report = {
        "kind": kind,
        "value": VALUES[kind],
        "tlp": tlp,
        "category": "mule_account" if n % 2 else "scam_call",
        "confidence": n % 101,
        "first_seen": NOW - timedelta(days=n),
        "last_seen": NOW,
        "created_at": NOW,
        "updated_at": NOW + timedelta(seconds=n),
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=90),
        "tags": ";myawaddy;group:cn-mm-th;" if n % 3 else None,
        "description": 'ស្កែម "ธนาคาร" \\ calls' if n % 4 else None,
        "region": "KH" if n % 5 else None,
    }
    origin_id = f"0193a0b0-0000-7000-8000-{n:012d}"
    provenance = stix.Provenance("kh", origin_id, "KH-GCNP", "police", "GCNP", "KH")
    return stix.indicator_object(report, provenance, status)


def _page() -> list[dict[str, Any]]:
    """Every kind, every TLP that travels, revoked and active, optional fields on and off."""
    tlps = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"]
    objects = [
        _indicator(n, kind, tlps[n % 4], "revoked" if n % 7 == 0 else "active")
        for n, kind in enumerate(list(VALUES) * 3)
    ]
    del objects[1]["confidence"]  # STIX's default, 50
    return objects


def _body(objects: list[Any], more: bool = False) -> bytes:
    return orjson.dumps({"more": more, "objects": objects})


def _by_object(signer: str, body: bytes) -> Envelope:
    """The reading every page had before the typed one: a dict per object."""
    envelope = orjson.loads(body)
    objects = envelope.get("objects") or []
    return Envelope(parse_objects(signer, objects), len(objects), bool(envelope.get("more")))


def test_a_clean_page_is_read_typed_into_the_same_reports() -> None:
    body = _body(_page(), more=True)
    typed = _read_clean("kh", body)
    assert typed == _by_object("kh", body)
    assert read_envelope("kh", body) == typed
    assert typed.received == len(typed.parsed.reports) == 27
    assert typed.more is True
    assert {r.status for r in typed.parsed.reports} == {"active", "revoked"}
    assert {r.tlp for r in typed.parsed.reports} == {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"}


def _set(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj.get(key)  # type: ignore[assignment]
        if not isinstance(obj, dict):
            return  # a change made the way there something else
    if value is _DELETE:
        obj.pop(path[-1], None)
    else:
        obj[path[-1]] = value


_DELETE = object()
_EXT = ("extensions", stix.EXTENSION_ID)


@pytest.mark.parametrize(
    ("path", "value", "refusal"),
    [
        (("type",), "identity", None),  # context, passed over
        (("type",), "malware", "type"),
        ((*_EXT, "origin_node"), "cn", "origin_node"),  # speaking for another node
        (("object_marking_refs",), [stix.TLP_MARKINGS["RED"]], "object_marking_refs"),
        ((*_EXT, "tlp"), "GREEN", "object_marking_refs"),  # marking and extension differ
        (("valid_until",), "2026-13-01T00:00:00Z", "valid_until"),
        (("modified",), "2026-11-26T08:00:00", "modified"),  # no time zone
        ((*_EXT, "kind"), "pager", "extensions"),
        ((*_EXT, "value"), "", "value"),
        (("extensions",), {}, "extensions"),
    ],
)
def test_a_page_with_a_refused_object_is_read_object_by_object(
    path: tuple[str, ...], value: Any, refusal: str | None
) -> None:
    objects = _page()
    _set(objects[4], path, value)
    body = _body(objects)
    with pytest.raises((msgspec.ValidationError, InvalidInput)):
        _read_clean("kh", body)
    read = read_envelope("kh", body)
    assert read == _by_object("kh", body)
    assert read.received == 27
    if refusal is None:
        assert len(read.parsed.reports) == 26
        assert not read.parsed.failures
    else:
        assert len(read.parsed.reports) == 26
        [(stix_id, reason)] = read.parsed.failures
        assert stix_id == objects[4]["id"]
        assert reason.startswith(refusal)


def test_lenient_values_are_read_as_before() -> None:
    """What the per-object reading mends (a confidence out of range, a tag that is not
    text, a null agency name) it still mends: such a page is read that way."""
    objects = _page()
    objects[2]["confidence"] = 150
    objects[3]["extensions"][stix.EXTENSION_ID]["tags"] = ["myawaddy", 7]
    objects[5]["extensions"][stix.EXTENSION_ID]["agency_name"] = None
    body = _body(objects)
    read = read_envelope("kh", body)
    assert read == _by_object("kh", body)
    assert [r.confidence for r in read.parsed.reports][2] == 100
    assert read.parsed.reports[3].tags == ("myawaddy",)
    assert read.parsed.reports[5].agency_name == ""


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"objects": 5}', b'"objects"'])
def test_what_is_no_envelope_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidInput, match="not a TAXII envelope"):
        read_envelope("kh", body)


def test_an_envelope_without_objects_is_empty() -> None:
    assert read_envelope("kh", b"{}") == Envelope(parse_objects("kh", []), 0, False)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)
_PATHS = [(key,) for key in _indicator(0, "phone")] + [
    (*_EXT, key) for key in _indicator(1, "phone")["extensions"][stix.EXTENSION_ID]
]


@settings(max_examples=300, deadline=None)
@given(
    changes=st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from(_PATHS),
            _JSON | st.just(_DELETE) | st.sampled_from(["2026-11-26T08:00:00+07:00", "ip"]),
        ),
        max_size=3,
    )
)
def test_any_page_is_read_as_object_by_object(changes: list[tuple[int, Any, Any]]) -> None:
    """Whatever a page holds, the reading from its bytes is the per-object reading."""
    objects = copy.deepcopy(_page()[:4])
    for index, path, value in changes:
        _set(objects[index], path, value)
    body = _body(objects)
    assert read_envelope("kh", body) == _by_object("kh", body)
