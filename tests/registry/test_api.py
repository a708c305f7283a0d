"""The registry's HTTP API: exact interfaces, roles, TLP on every read path, problem+json."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fraudx.node import Node
from fraudx.platform.agencies.model import Role
from tests.conftest import Agencies, bearer

PROBLEM = "application/problem+json"
PHONE = {"kind": "phone", "value": "+66812345678", "category": "scam_call", "confidence": 70}


def _submit(client: TestClient, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/indicators", json=body, headers=bearer(token))
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


# endpoint × role × expected status, before any data exists.
PERMISSIONS = [
    ("POST", "/api/v1/indicators", PHONE, {Role.ADMIN: 201, Role.ANALYST: 200}),
    ("GET", "/api/v1/indicators", None, {Role.ADMIN: 200, Role.ANALYST: 200, Role.LIAISON: 200}),
    (
        "GET",
        "/api/v1/indicators/export",
        None,
        {Role.ADMIN: 200, Role.ANALYST: 200, Role.LIAISON: 200},
    ),
    ("GET", "/api/v1/indicators/stats", None, {r: 200 for r in Role} | {Role.PEER: 403}),
    (
        "GET",
        "/api/v1/lookup?kind=phone&value=%2B66812345678",
        None,
        {r: 200 for r in Role} | {Role.OBSERVER: 403, Role.PEER: 403},
    ),
    (
        "POST",
        "/api/v1/lookup",
        {"items": [{"kind": "phone", "value": "+66812345678"}]},
        {r: 200 for r in Role} | {Role.OBSERVER: 403, Role.PEER: 403},
    ),
    (
        "POST",
        "/api/v1/sightings",
        {"kind": "phone", "value": "+66812345678", "source": "call_seen"},
        {r: 201 for r in Role} | {Role.OBSERVER: 403, Role.PEER: 403},
    ),
    (
        "GET",
        "/api/v1/sightings",
        None,
        {r: 200 for r in Role} | {Role.OBSERVER: 403, Role.PEER: 403},
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    PERMISSIONS,
    ids=[f"{m} {p.split('?')[0]}" for m, p, _, _ in PERMISSIONS],
)
def test_permissions(
    client: TestClient,
    agencies: Agencies,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[Role, int],
) -> None:
    agency_of = {Role.PARTNER: "TH-KBANK", Role.OBSERVER: "TH-UNODC"}
    for role in Role:
        token = agencies.token(agency_of.get(role, "TH-CCIB"), role)
        response = client.request(method, path, json=body, headers=bearer(token))
        want = expected.get(role, 403)
        assert response.status_code == want, f"{role}: {response.status_code} {response.text}"
        if want == 403:
            assert response.headers["content-type"] == PROBLEM


def test_submit_answers_201_with_id_and_canonical_identifier(
    client: TestClient, agencies: Agencies
) -> None:
    token = agencies.token("TH-CCIB", Role.ANALYST)
    response = client.post(
        "/api/v1/indicators",
        json={
            "kind": "bank_account",
            "value": "KASITHBK:123-4-56789-0",
            "category": "mule_account",
        },
        headers=bearer(token),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["identifier"] == {"kind": "bank_account", "value": "TH:004:1234567890"}
    assert response.headers["location"] == f"/api/v1/indicators/{body['id']}"
    assert body["tlp"] == "AMBER"
    assert body["status"] == "active"
    again = client.post(
        "/api/v1/indicators",
        json={"kind": "bank_account", "value": "th:004:1234567890", "category": "mule_account"},
        headers=bearer(token),
    )
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]


def test_bad_input_is_problem_json_naming_the_field(client: TestClient, agencies: Agencies) -> None:
    token = agencies.token("TH-CCIB", Role.ANALYST)
    for body, field in [
        (PHONE | {"value": "+66 1"}, "value"),
        (PHONE | {"category": "gossip"}, "category"),
        (PHONE | {"tlp": "PURPLE"}, "tlp"),
        (PHONE | {"confidence": 300}, "confidence"),
        ({"value": "+66812345678", "category": "scam_call"}, "kind"),
    ]:
        response = client.post("/api/v1/indicators", json=body, headers=bearer(token))
        assert response.status_code == 422, body
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["field"] == field


def test_lookup_shapes_by_role(client: TestClient, agencies: Agencies) -> None:
    _submit(
        client,
        agencies.token("TH-CCIB", Role.ANALYST),
        PHONE | {"case_ref": "CCIB-42", "tlp": "GREEN"},
    )
    _submit(client, agencies.token("KH-GCNP", Role.ANALYST), PHONE | {"confidence": 60})
    partner = client.get(
        "/api/v1/lookup",
        params={"kind": "phone", "value": "081 234 5678"},
        headers=bearer(agencies.token("TH-KBANK", Role.PARTNER)),
    ).json()
    assert partner["identifier"] == {"kind": "phone", "value": "+66812345678"}
    assert partner["listed"] is True
    assert partner["reports"] == 2
    assert partner["countries"] == ["KH", "TH"]
    assert 0 < partner["risk"] <= 100
    # Partners never learn who reported, nor any case.
    assert "indicators" not in partner
    assert "TH-CCIB" not in json.dumps(partner)

    analyst = client.get(
        "/api/v1/lookup",
        params={"kind": "phone", "value": "+66812345678"},
        headers=bearer(agencies.token("TH-NBTC", Role.LIAISON)),
    ).json()
    assert sorted(i["agency"] for i in analyst["indicators"]) == ["KH-GCNP", "TH-CCIB"]


def test_batch_lookup_keeps_order_and_answers_bad_items(
    client: TestClient, agencies: Agencies
) -> None:
    _submit(client, agencies.token("TH-CCIB", Role.ANALYST), PHONE)
    response = client.post(
        "/api/v1/lookup",
        json={
            "items": [
                {"kind": "phone", "value": "0812345678"},
                {"kind": "phone", "value": "not a number"},
                {"kind": "ip", "value": "010.1.1.1"},
                {"kind": "phone", "value": "+66812345679"},
            ]
        },
        headers=bearer(agencies.token("TH-KBANK", Role.PARTNER)),
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r.get("listed") for r in results] == [True, None, None, False]
    assert results[1]["identifier"] == {"kind": "phone", "value": "not a number"}
    assert results[1]["error"]
    assert "leading zero" in results[2]["error"]
    for bad in [b"not json", b'{"items": 3}', b'{"items": [1]}', b"[]"]:
        refused = client.post(
            "/api/v1/lookup",
            content=bad,
            headers=bearer(agencies.token("TH-KBANK", Role.PARTNER)),
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == PROBLEM


def test_every_read_path_applies_tlp(client: TestClient, agencies: Agencies) -> None:
    """RED only to its reporter; AMBER+STRICT to law enforcement; AMBER to all agencies."""
    police = agencies.token("TH-CCIB", Role.ANALYST)
    red = _submit(client, police, PHONE | {"value": "+66812345670", "tlp": "RED"})
    strict = _submit(client, police, PHONE | {"value": "+66812345671", "tlp": "AMBER+STRICT"})
    amber = _submit(client, police, PHONE | {"value": "+66812345672", "tlp": "AMBER"})
    viewers = {
        "reporter": (agencies.token("TH-CCIB", Role.LIAISON), [red, strict, amber]),
        "regulator": (agencies.token("TH-NBTC", Role.ANALYST), [strict, amber]),
        "foreign police": (agencies.token("KH-GCNP", Role.ANALYST), [strict, amber]),
        "telco analyst": (agencies.token("TH-AIS", Role.ANALYST), [amber]),
    }
    for name, (token, visible) in viewers.items():
        ids = {i["id"] for i in visible}
        headers = bearer(token)
        listed = client.get("/api/v1/indicators", headers=headers).json()["items"]
        assert {i["id"] for i in listed} == ids, name
        exported = client.get("/api/v1/indicators/export?format=jsonl", headers=headers).text
        assert {json.loads(line)["id"] for line in exported.splitlines()} == ids, name
        for indicator in (red, strict, amber):
            one = client.get(f"/api/v1/indicators/{indicator['id']}", headers=headers)
            assert one.status_code == (200 if indicator["id"] in ids else 404), name
            hit = client.get(
                "/api/v1/lookup",
                params={"kind": "phone", "value": indicator["identifier"]["value"]},
                headers=headers,
            ).json()
            assert hit["listed"] is (indicator["id"] in ids), name
        counted = client.get("/api/v1/indicators/stats", headers=headers).json()["items"]
        assert sum(r["count"] for r in counted) == len(ids), name
    # The bank sees AMBER in look-ups only.
    bank = bearer(agencies.token("TH-KBANK", Role.PARTNER))
    answers = client.post(
        "/api/v1/lookup",
        json={
            "items": [
                {"kind": "phone", "value": i["identifier"]["value"]} for i in (red, strict, amber)
            ]
        },
        headers=bank,
    ).json()["results"]
    assert [a["listed"] for a in answers] == [False, False, True]


def test_import_over_http_in_both_formats(client: TestClient, agencies: Agencies) -> None:
    headers = bearer(agencies.token("TH-CCIB", Role.ANALYST))
    body = (
        "kind,value,category,confidence\n"
        "phone,0812345678,scam_call,80\n"
        "phone,0812,scam_call,80\n"
        "bank_account,KBANK:1234567890,mule_account,90\n"
    )
    response = client.post(
        "/api/v1/indicators/import",
        content=body.encode(),
        headers=headers | {"Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] == 2
    assert result["rejected"] == [{"line": 3, "field": "value", "reason": "too short"}]

    lines = [
        {"kind": "domain", "value": "Lucky-Parcel.example.", "category": "scam_website"},
        {"kind": "email", "value": "refund@Lucky-Parcel.example", "category": "phishing_url"},
        {"kind": "url", "value": "https://lucky-parcel.example", "category": "phishing"},
    ]
    jsonl = "\n".join(json.dumps(line) for line in lines)
    atomic = client.post(
        "/api/v1/indicators/import?atomic=true",
        content=jsonl.encode(),
        headers=headers | {"Content-Type": "application/x-ndjson"},
    ).json()
    assert atomic["stored"] is False
    assert atomic["accepted"] == 0
    assert atomic["rejected"][0]["line"] == 3
    assert atomic["rejected"][0]["field"] == "category"
    relaxed = client.post(
        "/api/v1/indicators/import",
        content=jsonl.encode(),
        headers=headers | {"Content-Type": "application/x-ndjson"},
    ).json()
    assert relaxed["accepted"] == 2

    wrong = client.post(
        "/api/v1/indicators/import",
        content=b"{}",
        headers=headers | {"Content-Type": "application/json"},
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "Content-Type"


def test_export_reads_back_through_import(
    client: TestClient, agencies: Agencies, node: Node
) -> None:
    headers = bearer(agencies.token("TH-CCIB", Role.ANALYST))
    _submit(client, agencies.token("TH-CCIB", Role.ANALYST), PHONE | {"tags": ["a", "b"]})
    exported = client.get("/api/v1/indicators/export?format=csv", headers=headers)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["value"] == "+66812345678"
    assert rows[0]["tags"] == "a;b"
    # Another agency imports the export as its own reports.
    khmer = bearer(agencies.token("KH-GCNP", Role.ANALYST))
    result = client.post(
        "/api/v1/indicators/import",
        content=exported.content,
        headers=khmer | {"Content-Type": "text/csv"},
    ).json()
    assert result["accepted"] == 1
    assert result["rejected"] == []


def test_revoke_over_http_shows_in_history(client: TestClient, agencies: Agencies) -> None:
    token = agencies.token("TH-CCIB", Role.ANALYST)
    indicator = _submit(client, token, PHONE)
    response = client.post(
        f"/api/v1/indicators/{indicator['id']}/revoke",
        json={"reason": "false_positive", "note": "number reassigned"},
        headers=bearer(token),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "revoked"
    assert body["history"][-1]["action"] == "revoked"
    bad = client.post(
        f"/api/v1/indicators/{indicator['id']}/revoke", json={}, headers=bearer(token)
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "reason"


def test_sightings_over_http(client: TestClient, agencies: Agencies) -> None:
    _submit(client, agencies.token("TH-CCIB", Role.ANALYST), PHONE)
    telco = bearer(agencies.token("TH-AIS", Role.PARTNER))
    client.get("/api/v1/lookup", params={"kind": "phone", "value": "+66812345678"}, headers=telco)
    posted = client.post(
        "/api/v1/sightings",
        json={"kind": "phone", "value": "0812345678", "source": "call_seen"},
        headers=telco,
    )
    assert posted.status_code == 201
    seen = client.get(
        "/api/v1/sightings", headers=bearer(agencies.token("TH-CCIB", Role.ANALYST))
    ).json()["items"]
    assert [(s["agency"], s["source"]) for s in seen] == [
        ("TH-AIS", "call_seen"),
        ("TH-AIS", "lookup"),
    ]
    future = client.post(
        "/api/v1/sightings",
        json={"kind": "phone", "value": "0812345678", "observed_at": "2999-01-01T00:00:00Z"},
        headers=telco,
    )
    assert future.status_code == 422


def test_lookups_and_reads_are_audited(client: TestClient, agencies: Agencies, node: Node) -> None:
    _submit(client, agencies.token("TH-CCIB", Role.ANALYST), PHONE)
    client.get(
        "/api/v1/lookup",
        params={"kind": "phone", "value": "+66812345678"},
        headers=bearer(agencies.token("TH-KBANK", Role.PARTNER)),
    )
    node.recorder.flush()
    admin = bearer(agencies.token("TH-CCIB", Role.ADMIN))
    entries = client.get("/api/v1/audit?action=registry.lookup", headers=admin).json()["items"]
    assert entries[0]["agency_code"] == "TH-KBANK"
    assert entries[0]["target"] == "phone:+66812345678"
    assert node.platform.audit.verify().ok
