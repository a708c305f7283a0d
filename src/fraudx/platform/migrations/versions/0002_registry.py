"""Registry: indicators (reports), their history, sightings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudx.platform.db import JSONDoc, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Outbox events are written and read whole, never queried inside: plain JSON spares
    # PostgreSQL parsing bulk imports' events into JSONB (no change on SQLite).
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "outbox",
            "payload",
            type_=sa.JSON(),
            existing_type=JSONDoc,
            existing_nullable=False,
            postgresql_using="payload::json",
        )
    op.create_table(
        "indicators",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(2100), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("confidence", sa.SmallInteger(), nullable=False),
        sa.Column("tlp", sa.String(12), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("region", sa.String(2), nullable=True),
        sa.Column("case_ref", sa.String(200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.String(1400), server_default="", nullable=False),
        sa.Column("revoked_reason", sa.String(20), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("revoked_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name="fk_indicators_agency_code_agencies"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_indicators"),
    )
    op.create_index("ix_indicators_value_kind", "indicators", ["value", "kind"])
    op.create_index("ix_indicators_status_valid_until", "indicators", ["status", "valid_until"])
    op.create_index(
        "uq_indicators_active_report",
        "indicators",
        ["kind", "value", "agency_code", "category"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "indicator_history",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("indicator_id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"],
            ["indicators.id"],
            name="fk_indicator_history_indicator_id_indicators",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_indicator_history"),
    )
    op.create_index("ix_indicator_history_indicator_id", "indicator_history", ["indicator_id"])
    op.create_table(
        "sightings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(2100), nullable=False),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sightings"),
    )
    op.create_index("ix_sightings_value_kind", "sightings", ["value", "kind"])
    op.create_index("ix_sightings_agency_code", "sightings", ["agency_code"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "outbox",
            "payload",
            type_=JSONDoc,
            existing_type=sa.JSON(),
            existing_nullable=False,
            postgresql_using="payload::jsonb",
        )
    op.drop_table("sightings")
    op.drop_table("indicator_history")
    op.drop_table("indicators")
