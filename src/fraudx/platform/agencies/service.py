"""Use cases for agencies and their API tokens."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError

from fraudx.platform.agencies import store
from fraudx.platform.agencies.model import (
    TOKEN_PREFIX,
    Agency,
    ApiToken,
    Principal,
    Role,
    draft_agency,
    new_token_secret,
    parse_role,
    token_digest,
)
from fraudx.platform.audit.service import AuditLog
from fraudx.platform.clock import Clock
from fraudx.platform.db import Database
from fraudx.platform.errors import Conflict, InvalidInput, NotAuthenticated, NotFound
from fraudx.platform.ids import IdFactory


class AgencyService:
    def __init__(self, db: Database, clock: Clock, audit: AuditLog) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit

    def add(
        self,
        actor: Principal,
        code: str,
        name: str,
        country: str,
        kind: str,
        timezone: str | None = None,
    ) -> Agency:
        actor.require(Role.ADMIN)
        draft = draft_agency(code, name, country, kind, timezone)
        try:
            with self._db.write() as session:
                if store.get_agency(session, draft.code):
                    raise Conflict(f"agency {draft.code} already exists")
                agency = store.insert_agency(session, draft, self._clock.now())
                self._audit.record(
                    session,
                    actor,
                    "agency.create",
                    agency.code,
                    {"name": agency.name, "country": agency.country, "kind": agency.kind.value},
                )
        except IntegrityError:  # a concurrent add of the same code won the race
            raise Conflict(f"agency {draft.code} already exists") from None
        return agency

    def list(self, actor: Principal, country: str | None = None) -> list[Agency]:
        """Every role may see which agencies take part: that is what makes a request routable."""
        with self._db.read() as session:
            return store.list_agencies(session, country.upper() if country else None)

    def get(self, actor: Principal, code: str) -> Agency:
        with self._db.read() as session:
            agency = store.get_agency(session, code.upper())
        if agency is None:
            raise NotFound(f"no agency {code}")
        return agency


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the record, and the secret shown this once."""

    token: ApiToken
    secret: str


class TokenService:
    """Issues, revokes and checks bearer tokens.

    Verified tokens are remembered for ``cache_seconds`` so that the hot path does not hit
    the database per request; a revocation through this service takes effect at once here,
    and within ``cache_seconds`` in other processes.
    """

    #: How often ``last_used_at`` is written for a busy token.
    LAST_USED_RESOLUTION = 60.0

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdFactory,
        audit: AuditLog,
        *,
        cache_seconds: float = 5.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._audit = audit
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def create(
        self, actor: Principal, agency_code: str, role: str, name: str | None = None
    ) -> IssuedToken:
        actor.require(Role.ADMIN)
        token_role = parse_role(role)
        code = agency_code.strip().upper()
        secret = new_token_secret()
        with self._db.write() as session:
            if store.get_agency(session, code) is None:
                raise InvalidInput("agency", f"no agency {code}; add it first")
            token = ApiToken(
                id=self._ids.new(),
                agency_code=code,
                role=token_role,
                name=(name or f"{code} {token_role.value}").strip()[:200],
                prefix=secret[:10],
                created_at=self._clock.now(),
                last_used_at=None,
                revoked_at=None,
            )
            store.insert_token(session, token, token_digest(secret))
            self._audit.record(
                session, actor, "token.create", token.id, {"agency": code, "role": token_role}
            )
        return IssuedToken(token, secret)

    def list(self, actor: Principal, agency_code: str | None = None) -> list[ApiToken]:
        actor.require(Role.ADMIN)
        with self._db.read() as session:
            return store.list_tokens(session, agency_code.upper() if agency_code else None)

    def revoke(self, actor: Principal, token_id: str) -> ApiToken:
        actor.require(Role.ADMIN)
        with self._db.write() as session:
            token = store.get_token(session, token_id)
            if token is None:
                raise NotFound(f"no token {token_id}")
            if token.revoked_at is not None:
                return token
            now = self._clock.now()
            store.mark_revoked(session, token_id, now)
            self._audit.record(session, actor, "token.revoke", token_id)
        with self._lock:
            for digest, (_, principal) in list(self._cache.items()):
                if principal.token_id == token_id:
                    del self._cache[digest]
        return replace(token, revoked_at=now)

    def authenticate_cached(self, secret: str, address: str | None = None) -> Principal | None:
        """The principal if this token was verified recently, without touching the database."""
        cached = self._cache.get(token_digest(secret))
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return replace(cached[1], address=address)
        return None

    def authenticate(self, secret: str, address: str | None = None) -> Principal:
        """The principal a bearer token stands for, or NotAuthenticated."""
        if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
            raise NotAuthenticated("malformed bearer token")
        hit = self.authenticate_cached(secret, address)
        if hit is not None:
            return hit
        digest = token_digest(secret)
        principal = self._load(digest)
        with self._lock:
            self._cache[digest] = (time.monotonic(), principal)
        return replace(principal, address=address)

    def _load(self, digest: str) -> Principal:
        now = self._clock.now()
        with self._db.read() as session:
            token = store.find_token_by_digest(session, digest)
            agency = store.get_agency(session, token.agency_code) if token else None
        if token is None or agency is None:
            raise NotAuthenticated("unknown bearer token")
        if token.revoked_at is not None:
            raise NotAuthenticated("this token was revoked")
        last = token.last_used_at
        if last is None or (now - last).total_seconds() > self.LAST_USED_RESOLUTION:
            with self._db.write() as session:
                store.mark_used(session, token.id, now)
        return Principal(
            role=token.role,
            agency_code=agency.code,
            agency_kind=agency.kind,
            country=agency.country,
            actor=f"token:{token.name}",
            token_id=token.id,
        )
