"""HTTP: reading the audit log (admin only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fraudx.platform.audit.model import AuditEntry
from fraudx.platform.http import CurrentPrincipal, PlatformDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class AuditEntryPublic(BaseModel):
    seq: int
    id: str
    at: datetime
    action: str
    actor: str
    role: str
    agency_code: str | None
    token_id: str | None
    address: str | None
    target: str | None
    detail: dict[str, Any]
    hash: str
    prev_hash: str

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryPublic:
        ev = e.event
        return cls(
            seq=e.seq,
            id=e.id,
            at=e.at,
            action=ev.action,
            actor=ev.actor,
            role=ev.role,
            agency_code=ev.agency_code,
            token_id=ev.token_id,
            address=ev.address,
            target=ev.target,
            detail=ev.detail,
            hash=e.hash,
            prev_hash=e.prev_hash,
        )


class AuditPagePublic(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None


@router.get("/audit", summary="Audit entries, newest first (admin only)")
def search_audit(
    principal: CurrentPrincipal,
    platform: PlatformDep,
    agency: Annotated[str | None, Query(description="Agency code of the actor")] = None,
    action: Annotated[
        str | None, Query(description="Exact action, or a prefix ending in '.' (e.g. token.)")
    ] = None,
    actor: Annotated[
        str | None, Query(description="Exact actor, e.g. token:TH-CCIB analyst")
    ] = None,
    since: Annotated[datetime | None, Query(description="From this time (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="Up to this time (exclusive)")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPagePublic:
    page = platform.audit.search(
        principal,
        agency_code=agency.upper() if agency else None,
        action=action,
        actor_name=actor,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return AuditPagePublic(
        items=[AuditEntryPublic.of(e) for e in page.entries], next_cursor=page.next_cursor
    )
