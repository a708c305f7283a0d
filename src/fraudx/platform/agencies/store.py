"""Tables and queries for agencies and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from fraudx.platform.agencies.model import Agency, AgencyDraft, AgencyKind, ApiToken, Role
from fraudx.platform.db import UTCDateTime, metadata

agencies = Table(
    "agencies",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(2), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(40), ForeignKey("agencies.code"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    Index("ix_api_tokens_agency_code", "agency_code"),
)


def _agency(row: Row[tuple[object, ...]]) -> Agency:
    m = row._mapping
    return Agency(
        m["code"], m["name"], m["country"], AgencyKind(m["kind"]), m["timezone"], m["created_at"]
    )


def _token(row: Row[tuple[object, ...]]) -> ApiToken:
    m = row._mapping
    return ApiToken(
        m["id"],
        m["agency_code"],
        Role(m["role"]),
        m["name"],
        m["prefix"],
        m["created_at"],
        m["last_used_at"],
        m["revoked_at"],
    )


def insert_agency(session: Session, draft: AgencyDraft, created_at: datetime) -> Agency:
    session.execute(
        insert(agencies).values(
            code=draft.code,
            name=draft.name,
            country=draft.country,
            kind=draft.kind.value,
            timezone=draft.timezone,
            created_at=created_at,
        )
    )
    return Agency(draft.code, draft.name, draft.country, draft.kind, draft.timezone, created_at)


def get_agency(session: Session, code: str) -> Agency | None:
    row = session.execute(select(agencies).where(agencies.c.code == code)).first()
    return _agency(row) if row else None


def list_agencies(session: Session, country: str | None = None) -> list[Agency]:
    query = select(agencies).order_by(agencies.c.country, agencies.c.code)
    if country:
        query = query.where(agencies.c.country == country)
    return [_agency(r) for r in session.execute(query)]


def insert_token(session: Session, token: ApiToken, digest: str) -> None:
    session.execute(
        insert(api_tokens).values(
            id=token.id,
            agency_code=token.agency_code,
            role=token.role.value,
            name=token.name,
            prefix=token.prefix,
            digest=digest,
            created_at=token.created_at,
        )
    )


def get_token(session: Session, token_id: str) -> ApiToken | None:
    row = session.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return _token(row) if row else None


def find_token_by_digest(session: Session, digest: str) -> ApiToken | None:
    row = session.execute(select(api_tokens).where(api_tokens.c.digest == digest)).first()
    return _token(row) if row else None


def list_tokens(session: Session, agency_code: str | None = None) -> list[ApiToken]:
    query = select(api_tokens).order_by(api_tokens.c.agency_code, api_tokens.c.id)
    if agency_code:
        query = query.where(api_tokens.c.agency_code == agency_code)
    return [_token(r) for r in session.execute(query)]


def mark_revoked(session: Session, token_id: str, when: datetime) -> None:
    session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=when))


def mark_used(session: Session, token_id: str, when: datetime) -> None:
    session.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=when))
