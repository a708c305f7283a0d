"""Agencies and tokens through their services, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select, text

from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Principal, Role
from fraudx.platform.errors import Conflict, InvalidInput, NotAuthenticated, NotPermitted
from tests.conftest import Agencies


def test_add_and_list(node: Node, admin: Principal) -> None:
    agency = node.platform.agencies.add(
        admin, "th-ccib", "  Cyber Crime   Investigation Bureau ", "th", "POLICE"
    )
    assert agency.code == "TH-CCIB"
    assert agency.name == "Cyber Crime Investigation Bureau"
    assert agency.country == "TH"
    assert agency.kind is AgencyKind.POLICE
    assert agency.timezone == "Asia/Bangkok"  # the country's own zone by default
    assert [a.code for a in node.platform.agencies.list(admin)] == ["TH-CCIB"]


def test_explicit_timezone(node: Node, admin: Principal) -> None:
    agency = node.platform.agencies.add(admin, "CN-MPS", "MPS", "CN", "police", "Asia/Urumqi")
    assert agency.timezone == "Asia/Urumqi"


def test_duplicate_is_a_conflict(node: Node, admin: Principal) -> None:
    node.platform.agencies.add(admin, "TH-CCIB", "CCIB", "TH", "police")
    with pytest.raises(Conflict):
        node.platform.agencies.add(admin, "TH-CCIB", "Other", "TH", "police")
    assert len(node.platform.agencies.list(admin)) == 1


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("code", {"code": "T"}),
        ("code", {"code": "TH CCIB"}),
        ("name", {"name": "   "}),
        ("country", {"country": "XX"}),
        ("kind", {"kind": "army"}),
        ("timezone", {"timezone": "Mars/Olympus"}),
    ],
)
def test_bad_fields_are_named(
    node: Node, admin: Principal, field: str, kwargs: dict[str, str]
) -> None:
    args = {"code": "TH-X", "name": "X", "country": "TH", "kind": "police", "timezone": None}
    args.update(kwargs)
    with pytest.raises(InvalidInput) as info:
        node.platform.agencies.add(admin, **args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert node.platform.agencies.list(admin) == []


@pytest.mark.parametrize("role", [Role.ANALYST, Role.LIAISON, Role.PARTNER, Role.OBSERVER])
def test_only_admins_add_agencies(agencies: Agencies, role: Role) -> None:
    principal = agencies.principal("TH-CCIB", role)
    with pytest.raises(NotPermitted):
        agencies.node.platform.agencies.add(principal, "TH-NEW", "New", "TH", "bank")


def test_token_is_stored_hashed_only(agencies: Agencies) -> None:
    secret = agencies.token("TH-KBANK", Role.PARTNER)
    engine = create_engine(agencies.node.settings.db_url)
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                assert secret not in repr(tuple(row)), f"token in clear in {table}"
                assert secret[4:] not in repr(tuple(row)), f"token body in clear in {table}"
    engine.dispose()


def test_authenticate_and_revoke(agencies: Agencies, admin: Principal) -> None:
    tokens = agencies.node.platform.tokens
    secret = agencies.token("TH-KBANK", Role.PARTNER)
    principal = tokens.authenticate(secret, "10.0.0.1")
    assert (principal.agency_code, principal.role, principal.country) == (
        "TH-KBANK",
        Role.PARTNER,
        "TH",
    )
    assert principal.address == "10.0.0.1"
    listed = {t.id: t for t in tokens.list(admin)}
    assert listed[principal.token_id or ""].last_used_at is not None
    tokens.revoke(admin, principal.token_id or "")
    with pytest.raises(NotAuthenticated, match="revoked"):
        tokens.authenticate(secret)


def test_revocation_beats_the_cache(agencies: Agencies, admin: Principal) -> None:
    tokens = agencies.node.platform.tokens
    tokens._cache_seconds = 3600  # even with a long cache, revoking here is immediate
    secret = agencies.token("TH-CCIB", Role.ANALYST)
    token_id = tokens.authenticate(secret).token_id or ""
    tokens.revoke(admin, token_id)
    with pytest.raises(NotAuthenticated):
        tokens.authenticate(secret)


@pytest.mark.parametrize("secret", ["", "fxt_", "fxt_unknown", "Basic abc", "x" * 500])
def test_unknown_tokens_are_refused(agencies: Agencies, secret: str) -> None:
    with pytest.raises(NotAuthenticated):
        agencies.node.platform.tokens.authenticate(secret)


def test_token_for_unknown_agency(node: Node, admin: Principal) -> None:
    with pytest.raises(InvalidInput) as info:
        node.platform.tokens.create(admin, "XX-NONE", "analyst")
    assert info.value.field == "agency"


def test_every_write_is_audited(agencies: Agencies, admin: Principal) -> None:
    from fraudx.platform.audit.store import audit_log

    with agencies.node.platform.db.read() as session:
        actions = session.execute(select(audit_log.c.action).order_by(audit_log.c.seq)).scalars()
        assert list(actions) == ["agency.create"] * 6
    assert agencies.node.platform.audit.verify().ok
