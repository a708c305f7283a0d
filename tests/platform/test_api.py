"""The HTTP API of the platform: authentication, roles, problem+json, health and docs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fraudx.platform.agencies.model import Role
from tests.conftest import Agencies, bearer

PROBLEM = "application/problem+json"

NEW_AGENCY = {"code": "VN-VCB", "name": "Vietcombank", "country": "VN", "kind": "bank"}

# endpoint × role × expected status: every role is checked on every platform endpoint.
PERMISSIONS = [
    ("GET", "/api/v1/me", None, {r: 200 for r in Role}),
    ("GET", "/api/v1/agencies", None, {r: 200 for r in Role}),
    ("GET", "/api/v1/agencies/TH-CCIB", None, {r: 200 for r in Role}),
    ("POST", "/api/v1/agencies", NEW_AGENCY, {r: 403 for r in Role} | {Role.ADMIN: 201}),
    ("GET", "/api/v1/audit", None, {r: 403 for r in Role} | {Role.ADMIN: 200}),
    ("GET", "/api/v1/tokens", None, {r: 403 for r in Role} | {Role.ADMIN: 200}),
    (
        "POST",
        "/api/v1/tokens",
        {"agency": "TH-AIS", "role": "partner"},
        {r: 403 for r in Role} | {Role.ADMIN: 201},
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    PERMISSIONS,
    ids=[f"{m} {p}" for m, p, _, _ in PERMISSIONS],
)
def test_permissions(
    client: TestClient,
    agencies: Agencies,
    method: str,
    path: str,
    body: dict[str, str] | None,
    expected: dict[Role, int],
) -> None:
    # Admin last: its successful create must not turn the other roles' attempts into 409s.
    for role, status in sorted(expected.items(), key=lambda item: item[0] is Role.ADMIN):
        token = agencies.token("TH-CCIB", role)
        response = client.request(method, path, json=body, headers=bearer(token))
        assert response.status_code == status, (role, response.text)
        if status >= 400:
            assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer fxt_not-a-real-token"},
        {"Authorization": "Bearer something-else"},
    ],
)
def test_missing_or_bad_token_is_401(
    client: TestClient, agencies: Agencies, headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert problem["title"] == "Not authenticated"
    assert problem["detail"]


def test_revoked_token_is_401(client: TestClient, agencies: Agencies) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    analyst = agencies.token("TH-CCIB", Role.ANALYST)
    me = client.get("/api/v1/me", headers=bearer(analyst)).json()
    revoked = client.post(f"/api/v1/tokens/{me['token_id']}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    response = client.get("/api/v1/me", headers=bearer(analyst))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_me(client: TestClient, agencies: Agencies) -> None:
    response = client.get("/api/v1/me", headers=bearer(agencies.token("TH-KBANK", "partner")))
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "partner"
    assert body["agency"]["code"] == "TH-KBANK"
    assert body["agency"]["kind"] == "bank"
    assert body["agency"]["timezone"] == "Asia/Bangkok"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "country": "VN", "kind": "bank"}, "code"),
        ({**NEW_AGENCY, "kind": "army"}, "kind"),
        ({**NEW_AGENCY, "country": "VNM"}, "country"),
        ({**NEW_AGENCY, "country": "XX"}, "country"),
        ({**NEW_AGENCY, "timezone": "Mars/Base"}, "timezone"),
        ({**NEW_AGENCY, "code": "V"}, "code"),
    ],
)
def test_malformed_body_is_422_naming_the_field(
    client: TestClient, agencies: Agencies, body: dict[str, str], field: str
) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    response = client.post("/api/v1/agencies", json=body, headers=bearer(admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert problem["errors"][0]["reason"]
    assert field in problem["detail"]
    listed = client.get("/api/v1/agencies", headers=bearer(admin)).json()["items"]
    assert "VN-VCB" not in [a["code"] for a in listed]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.PARTNER, Role.OBSERVER])
def test_wrong_role_gets_403_even_with_a_bad_body(
    client: TestClient, agencies: Agencies, role: Role
) -> None:
    token = agencies.token("TH-CCIB", role)
    for path in ("/api/v1/agencies", "/api/v1/tokens"):
        response = client.post(path, json={}, headers=bearer(token))
        assert response.status_code == 403, (path, response.text)


def test_broken_json_is_422(client: TestClient, agencies: Agencies) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    response = client.post(
        "/api/v1/agencies",
        content=b'{"code": "VN-X",',
        headers={**bearer(admin), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_duplicate_agency_is_409(client: TestClient, agencies: Agencies) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    response = client.post(
        "/api/v1/agencies", json={**NEW_AGENCY, "code": "TH-CCIB"}, headers=bearer(admin)
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM


def test_create_agency_and_read_it_back(client: TestClient, agencies: Agencies) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    created = client.post("/api/v1/agencies", json=NEW_AGENCY, headers=bearer(admin))
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/agencies/VN-VCB"
    assert created.json()["timezone"] == "Asia/Ho_Chi_Minh"
    fetched = client.get("/api/v1/agencies/vn-vcb", headers=bearer(admin))
    assert fetched.json()["name"] == "Vietcombank"
    assert client.get("/api/v1/agencies/XX-NONE", headers=bearer(admin)).status_code == 404


def test_audit_records_who_what_where_and_filters(client: TestClient, agencies: Agencies) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    client.post("/api/v1/agencies", json=NEW_AGENCY, headers=bearer(admin))
    page = client.get(
        "/api/v1/audit", params={"action": "agency.create"}, headers=bearer(admin)
    ).json()
    newest = page["items"][0]
    assert newest["target"] == "VN-VCB"
    assert newest["agency_code"] == "TH-CCIB"
    assert newest["role"] == "admin"
    assert newest["address"] == "testclient"
    assert newest["token_id"]
    assert all(e["action"] == "agency.create" for e in page["items"])
    tokens_only = client.get(
        "/api/v1/audit", params={"action": "token."}, headers=bearer(admin)
    ).json()
    assert tokens_only["items"]
    assert {e["action"] for e in tokens_only["items"]} == {"token.create"}
    by_agency = client.get(
        "/api/v1/audit", params={"agency": "TH-CCIB", "limit": 1}, headers=bearer(admin)
    ).json()
    assert len(by_agency["items"]) == 1
    assert by_agency["next_cursor"]
    following = client.get(
        "/api/v1/audit",
        params={"agency": "TH-CCIB", "limit": 1, "cursor": by_agency["next_cursor"]},
        headers=bearer(admin),
    ).json()
    assert following["items"][0]["seq"] < by_agency["items"][0]["seq"]
    bad = client.get("/api/v1/audit", params={"limit": 0}, headers=bearer(admin))
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "limit"


def test_token_issued_through_the_api_works_once_shown(
    client: TestClient, agencies: Agencies
) -> None:
    admin = agencies.token("TH-CCIB", Role.ADMIN)
    issued = client.post(
        "/api/v1/tokens", json={"agency": "TH-AIS", "role": "partner"}, headers=bearer(admin)
    ).json()
    me = client.get("/api/v1/me", headers=bearer(issued["token"])).json()
    assert me["agency"]["code"] == "TH-AIS"
    listed = client.get("/api/v1/tokens", headers=bearer(admin)).json()["items"]
    assert all("token" not in t for t in listed)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "node": "test-th"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_openapi_and_offline_docs(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/agencies" in spec["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    html = docs.text
    assert "/docs/static/swagger-ui-bundle.js" in html
    # Agency networks are often offline: nothing may come from another host.
    assert "cdn" not in html.lower()
    assert "https://" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"/docs/static/{asset}")
        assert response.status_code == 200
        assert len(response.content) > 10_000
