"""HTTP: who am I, agencies, and API tokens."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from fraudx.platform.agencies.model import Agency, AgencyKind, ApiToken, Role
from fraudx.platform.http import CurrentPrincipal, PlatformDep, roles

router = APIRouter(prefix="/api/v1", tags=["agencies"])


class AgencyPublic(BaseModel):
    code: str
    name: str
    country: str
    kind: AgencyKind
    timezone: str
    created_at: datetime

    @classmethod
    def of(cls, agency: Agency) -> AgencyPublic:
        return cls(
            code=agency.code,
            name=agency.name,
            country=agency.country,
            kind=agency.kind,
            timezone=agency.timezone,
            created_at=agency.created_at,
        )


class AgenciesPublic(BaseModel):
    items: list[AgencyPublic]


class AgencyCreate(BaseModel):
    code: str = Field(examples=["TH-CCIB"], max_length=40)
    name: str = Field(examples=["Cyber Crime Investigation Bureau"], max_length=200)
    country: str = Field(examples=["TH"], min_length=2, max_length=2)
    kind: AgencyKind
    timezone: str | None = Field(default=None, examples=["Asia/Bangkok"])


class MePublic(BaseModel):
    role: Role
    actor: str
    token_id: str | None
    agency: AgencyPublic | None


class TokenPublic(BaseModel):
    id: str
    agency_code: str
    role: Role
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenPublic:
        return cls(
            id=token.id,
            agency_code=token.agency_code,
            role=token.role,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokensPublic(BaseModel):
    items: list[TokenPublic]


class TokenCreate(BaseModel):
    agency: str = Field(examples=["TH-CCIB"])
    role: Role
    name: str | None = Field(default=None, max_length=200)


class TokenIssued(TokenPublic):
    token: str = Field(description="The bearer token. Shown this once; FraudX keeps only a hash.")


@router.get("/me", summary="The caller's agency and role")
def me(principal: CurrentPrincipal, platform: PlatformDep) -> MePublic:
    agency = (
        platform.agencies.get(principal, principal.agency_code) if principal.agency_code else None
    )
    return MePublic(
        role=principal.role,
        actor=principal.actor,
        token_id=principal.token_id,
        agency=AgencyPublic.of(agency) if agency else None,
    )


@router.get("/agencies", summary="Agencies known to this node")
def list_agencies(
    principal: CurrentPrincipal, platform: PlatformDep, country: str | None = None
) -> AgenciesPublic:
    return AgenciesPublic(
        items=[AgencyPublic.of(a) for a in platform.agencies.list(principal, country)]
    )


@router.post(
    "/agencies",
    status_code=status.HTTP_201_CREATED,
    summary="Register an agency (admin only)",
    dependencies=[roles(Role.ADMIN)],
)
def create_agency(
    body: AgencyCreate, principal: CurrentPrincipal, platform: PlatformDep, response: Response
) -> AgencyPublic:
    agency = platform.agencies.add(
        principal, body.code, body.name, body.country, body.kind.value, body.timezone
    )
    response.headers["Location"] = f"/api/v1/agencies/{agency.code}"
    return AgencyPublic.of(agency)


@router.get("/agencies/{code}", summary="One agency")
def get_agency(code: str, principal: CurrentPrincipal, platform: PlatformDep) -> AgencyPublic:
    return AgencyPublic.of(platform.agencies.get(principal, code))


@router.get("/tokens", summary="API tokens (admin only; secrets are never shown again)")
def list_tokens(
    principal: CurrentPrincipal, platform: PlatformDep, agency: str | None = None
) -> TokensPublic:
    return TokensPublic(items=[TokenPublic.of(t) for t in platform.tokens.list(principal, agency)])


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    summary="Issue a token (admin only)",
    dependencies=[roles(Role.ADMIN)],
)
def create_token(
    body: TokenCreate, principal: CurrentPrincipal, platform: PlatformDep
) -> TokenIssued:
    issued = platform.tokens.create(principal, body.agency, body.role.value, body.name)
    return TokenIssued(**TokenPublic.of(issued.token).model_dump(), token=issued.secret)


@router.post("/tokens/{token_id}/revoke", summary="Revoke a token at once (admin only)")
def revoke_token(token_id: str, principal: CurrentPrincipal, platform: PlatformDep) -> TokenPublic:
    return TokenPublic.of(platform.tokens.revoke(principal, token_id))
