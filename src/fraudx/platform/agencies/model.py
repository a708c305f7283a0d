"""Agencies, roles, tokens and the principal a request acts as. Pure domain rules."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fraudx.platform.errors import InvalidInput, NotPermitted
from fraudx.platform.geo import default_timezone, is_country


class AgencyKind(StrEnum):
    POLICE = "police"
    REGULATOR = "regulator"
    BANK = "bank"
    TELCO = "telco"
    OBSERVER = "observer"
    COORDINATION = "coordination"


#: Kinds that enforce the law; AMBER+STRICT material is for their eyes only.
LAW_ENFORCEMENT_KINDS = frozenset(
    {AgencyKind.POLICE, AgencyKind.REGULATOR, AgencyKind.COORDINATION}
)


class Role(StrEnum):
    """What a token may do (see DESIGN.md, Words)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    LIAISON = "liaison"
    PARTNER = "partner"
    OBSERVER = "observer"
    PEER = "peer"  # another FraudX node: reads and pushes over TAXII, under the sharing policy


_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    country: str
    kind: AgencyKind
    timezone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AgencyDraft:
    """A validated request to register an agency."""

    code: str
    name: str
    country: str
    kind: AgencyKind
    timezone: str


def draft_agency(
    code: str, name: str, country: str, kind: str, timezone: str | None = None
) -> AgencyDraft:
    """Validate and normalise what an admin typed; raises InvalidInput naming the field."""
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            "code", "use 2 to 40 letters, digits and dashes, e.g. TH-CCIB (country first)"
        )
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InvalidInput("name", "must be 1 to 200 characters")
    country = country.strip().upper()
    if not is_country(country):
        raise InvalidInput("country", f"{country!r} is not an ISO 3166 alpha-2 country code")
    try:
        agency_kind = AgencyKind(kind.strip().lower())
    except ValueError:
        allowed = ", ".join(k.value for k in AgencyKind)
        raise InvalidInput("kind", f"{kind!r} is not one of {allowed}") from None
    zone = timezone.strip() if timezone else default_timezone(country)
    if zone is None:
        raise InvalidInput("timezone", f"no default timezone known for {country}; give one")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("timezone", f"{zone!r} is not an IANA timezone") from None
    return AgencyDraft(code, name, country, agency_kind, zone)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token's record. The secret itself is shown once and never stored."""

    id: str
    agency_code: str
    role: Role
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


TOKEN_PREFIX = "fxt_"  # noqa: S105  (a public prefix, not a secret)


def new_token_secret() -> str:
    """A bearer token: 256 random bits, recognisable by its prefix in leaked-secret scans."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(secret: str) -> str:
    """What the database keeps of a token. The secret has 256 bits of entropy, so a fast
    hash is enough: no dictionary can reach it, and verification stays on the hot path."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput("role", f"{role!r} is not one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: an agency's token, or the node's operator on the command line."""

    role: Role
    agency_code: str | None
    agency_kind: AgencyKind | None
    country: str | None
    actor: str
    token_id: str | None = None
    address: str | None = None

    def require(self, *roles: Role) -> None:
        """Raise NotPermitted unless this principal has one of ``roles``."""
        if self.role not in roles:
            needed = " or ".join(r.value for r in roles)
            raise NotPermitted(f"this needs the {needed} role; the caller is {self.role.value}")

    @property
    def law_enforcement(self) -> bool:
        return self.agency_kind in LAW_ENFORCEMENT_KINDS or self.agency_code is None


def operator(name: str = "operator", agency: Agency | None = None) -> Principal:
    """The person running commands on the node's own machine: its administrator."""
    return Principal(
        role=Role.ADMIN,
        agency_code=agency.code if agency else None,
        agency_kind=agency.kind if agency else None,
        country=agency.country if agency else None,
        actor=f"cli:{name}",
        address="local",
    )
