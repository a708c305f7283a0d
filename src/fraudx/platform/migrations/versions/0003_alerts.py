"""Alerts: subscriptions, watchlists, alerts, deliveries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudx.platform.db import JSONDoc, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("filters", JSONDoc, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("secret_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_subscriptions"),
    )
    op.create_index("ix_alert_subscriptions_agency_code", "alert_subscriptions", ["agency_code"])
    op.create_table(
        "watchlists",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_watchlists"),
        sa.UniqueConstraint("agency_code", "name", name="uq_watchlists_agency_code_name"),
    )
    op.create_table(
        "watchlist_items",
        sa.Column("watchlist_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(2100), nullable=False),
        sa.PrimaryKeyConstraint("watchlist_id", "key", name="pk_watchlist_items"),
    )
    op.create_index("ix_watchlist_items_key", "watchlist_items", ["key"])
    op.create_table(
        "alerts",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("rule", sa.String(30), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.String(2100), nullable=False),
        sa.Column("indicator_id", sa.String(36), nullable=True),
        sa.Column("body", JSONDoc, nullable=False),
        sa.Column("source_event", sa.String(36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acked_at", UTCDateTime(), nullable=True),
        sa.Column("acked_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_alerts"),
        sa.UniqueConstraint("id", name="uq_alerts_id"),
    )
    op.create_index("ix_alerts_agency_code_seq", "alerts", ["agency_code", "seq"])
    op.create_index("ix_alerts_indicator_id", "alerts", ["indicator_id"])
    op.create_table(
        "alert_deliveries",
        sa.Column("seq", _SEQ, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_alert_deliveries"),
        sa.UniqueConstraint("id", name="uq_alert_deliveries_id"),
    )
    op.create_index(
        "ix_alert_deliveries_status_subscription_id_seq",
        "alert_deliveries",
        ["status", "subscription_id", "seq"],
    )


def downgrade() -> None:
    for table in ("alert_deliveries", "alerts", "watchlist_items", "watchlists"):
        op.drop_table(table)
    op.drop_table("alert_subscriptions")
