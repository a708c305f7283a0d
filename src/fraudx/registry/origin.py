"""Reports that come from peer nodes, as the registry sees them. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from fraudx.registry.model import Indicator, RevokeReason


@dataclass(frozen=True, slots=True)
class PeerReport:
    """A report as a peer node holds it (read from its STIX indicator)."""

    indicator: Indicator  # id, origin_node and origin_id as at the origin
    agency_kind: str
    agency_name: str

    @property
    def origin(self) -> tuple[str, str]:
        assert self.indicator.origin_node is not None
        assert self.indicator.origin_id is not None
        return self.indicator.origin_node, self.indicator.origin_id


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
