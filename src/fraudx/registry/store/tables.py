"""The registry's tables, and reports as records and as rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Column,
    ForeignKey,
    Index,
    Integer,
    Row,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from fraudx.identifiers import Identifier, IdentifierKind
from fraudx.platform.db import JSONDoc, UTCDateTime, metadata
from fraudx.registry.model import Indicator, RevokeReason, Status, Tlp
from fraudx.registry.rows import _tags, tags_column

indicators = Table(
    "indicators",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(2100), nullable=False),
    Column("agency_code", String(40), ForeignKey("agencies.code"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("category", String(40), nullable=False),
    Column("confidence", SmallInteger, nullable=False),
    Column("tlp", String(12), nullable=False),
    Column("status", String(10), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_until", UTCDateTime(), nullable=False),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("region", String(2)),
    Column("case_ref", String(200)),
    Column("description", Text),
    # Tags as ";a;b;" so that "has tag t" is LIKE '%;t;%' on every backend.
    Column("tags", String(1400), nullable=False, server_default=""),
    Column("revoked_reason", String(20)),
    Column("revoked_at", UTCDateTime()),
    Column("revoked_by", String(200)),
    Column("revoked_note", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    # Reports imported from a peer node (fraudx.exchange): where they come from.
    Column("origin_node", String(64)),
    Column("origin_id", String(36)),
    Index("uq_indicators_origin", "origin_node", "origin_id", unique=True),
    Index("ix_indicators_value_kind", "value", "kind"),
    Index("ix_indicators_status_valid_until", "status", "valid_until"),
    # One active report per agency, identifier and category: re-reporting updates it.
    Index(
        "uq_indicators_active_report",
        "kind",
        "value",
        "agency_code",
        "category",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

indicator_history = Table(
    "indicator_history",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("indicator_id", String(36), ForeignKey("indicators.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("action", String(40), nullable=False),
    Column("agency_code", String(40)),
    Column("actor", String(200), nullable=False),
    Column("detail", JSONDoc, nullable=False),
    Index("ix_indicator_history_indicator_id", "indicator_id"),
)

sightings = Table(
    "sightings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(2100), nullable=False),
    Column("observed_at", UTCDateTime(), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("agency_code", String(40)),
    Column("role", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(40), nullable=False),
    Column("note", Text),
    #: Look-ups by one caller of one identifier within a short window are one row: how
    #: many, and the last one's time (null when there was one).
    Column("times", Integer, nullable=False, server_default=text("1")),
    Column("last_observed_at", UTCDateTime()),
    Index("ix_sightings_value_kind", "value", "kind"),
    Index("ix_sightings_agency_code", "agency_code"),
)


def indicator_of(row: Row[Any] | Any) -> Indicator:
    m = row._mapping
    return Indicator(
        id=m["id"],
        identifier=Identifier(IdentifierKind(m["kind"]), m["value"]),
        category=m["category"],
        confidence=int(m["confidence"]),
        tlp=Tlp(m["tlp"]),
        status=Status(m["status"]),
        agency_code=m["agency_code"],
        country=m["country"],
        valid_from=m["valid_from"],
        valid_until=m["valid_until"],
        first_seen=m["first_seen"],
        last_seen=m["last_seen"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        case_ref=m["case_ref"],
        description=m["description"],
        tags=_tags(m["tags"] or ""),
        region=m["region"],
        revoked_reason=RevokeReason(m["revoked_reason"]) if m["revoked_reason"] else None,
        revoked_at=m["revoked_at"],
        revoked_note=m["revoked_note"],
        origin_node=m.get("origin_node"),
        origin_id=m.get("origin_id"),
    )


def row_of(indicator: Indicator) -> dict[str, Any]:
    return {
        "id": indicator.id,
        "kind": indicator.identifier.kind.value,
        "value": indicator.identifier.value,
        "agency_code": indicator.agency_code,
        "country": indicator.country,
        "category": indicator.category,
        "confidence": indicator.confidence,
        "tlp": indicator.tlp.value,
        "status": indicator.status.value,
        "valid_from": indicator.valid_from,
        "valid_until": indicator.valid_until,
        "first_seen": indicator.first_seen,
        "last_seen": indicator.last_seen,
        "created_at": indicator.created_at,
        "updated_at": indicator.updated_at,
        "region": indicator.region,
        "case_ref": indicator.case_ref,
        "description": indicator.description,
        "tags": tags_column(indicator.tags),
        "revoked_reason": indicator.revoked_reason.value if indicator.revoked_reason else None,
        "revoked_at": indicator.revoked_at,
    }
