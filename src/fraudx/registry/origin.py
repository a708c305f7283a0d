"""Reports that come from peer nodes, as the registry sees them. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from fraudx.identifiers import Identifier, IdentifierKind
from fraudx.registry.model import Indicator, RevokeReason, Status, Tlp


class PeerReport(NamedTuple):
    """A report as a peer node holds it (read from its STIX indicator).

    A tuple of its fields rather than an ``Indicator``: a pull reads 100,000 of them, most
    stored as new rows at once, and a frozen dataclass of 23 fields costs several µs to
    build. ``indicator`` makes the record where one is needed (a newer version of a held
    report). A revoked report's reason is "other", at the time of its last version."""

    origin_node: str
    origin_id: str  # the report's id at its origin
    kind: IdentifierKind
    value: str
    category: str
    confidence: int
    tlp: Tlp
    status: Status
    agency_code: str
    country: str
    valid_from: datetime
    valid_until: datetime
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    updated_at: datetime
    description: str | None
    tags: tuple[str, ...]
    region: str | None
    agency_kind: str
    agency_name: str

    @property
    def origin(self) -> tuple[str, str]:
        return self.origin_node, self.origin_id

    @property
    def revoked_reason(self) -> RevokeReason | None:
        return RevokeReason.OTHER if self.status is Status.REVOKED else None

    @property
    def revoked_at(self) -> datetime | None:
        return self.updated_at if self.status is Status.REVOKED else None

    @property
    def indicator(self) -> Indicator:
        """The report as a record; its ``id`` is the one at the origin."""
        return Indicator(
            id=self.origin_id,
            identifier=Identifier(self.kind, self.value),
            category=self.category,
            confidence=self.confidence,
            tlp=self.tlp,
            status=self.status,
            agency_code=self.agency_code,
            country=self.country,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            created_at=self.created_at,
            updated_at=self.updated_at,
            description=self.description,
            tags=self.tags,
            region=self.region,
            revoked_reason=self.revoked_reason,
            revoked_at=self.revoked_at,
            origin_node=self.origin_node,
            origin_id=self.origin_id,
        )


@dataclass
class PeerImport:
    created: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0


def revoke_reason(raw: str | None) -> RevokeReason | None:
    if not raw:
        return None
    try:
        return RevokeReason(raw)
    except ValueError:
        return RevokeReason.OTHER
