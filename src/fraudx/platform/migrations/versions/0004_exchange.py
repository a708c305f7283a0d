"""Exchange: published STIX objects, peers, cursors, approvals, statuses; report origins.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudx.platform.db import JSONDoc, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("indicators") as batch:
        batch.add_column(sa.Column("origin_node", sa.String(64), nullable=True))
        batch.add_column(sa.Column("origin_id", sa.String(36), nullable=True))
    op.create_index("uq_indicators_origin", "indicators", ["origin_node", "origin_id"], unique=True)
    op.create_table(
        "exchange_objects",
        sa.Column("stix_id", sa.String(80), nullable=False),
        sa.Column("indicator_id", sa.String(36), nullable=False),
        sa.Column("sharing_group", sa.String(40), nullable=False),
        sa.Column("tlp", sa.String(12), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("modified", UTCDateTime(), nullable=False),
        sa.Column("date_added", UTCDateTime(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("stix_id", name="pk_exchange_objects"),
    )
    op.create_index(
        "ix_exchange_objects_sharing_group_date_added",
        "exchange_objects",
        ["sharing_group", "date_added"],
    )
    op.create_index("ix_exchange_objects_date_added", "exchange_objects", ["date_added"])
    op.create_index("ix_exchange_objects_indicator_id", "exchange_objects", ["indicator_id"])
    op.create_table(
        "exchange_peers",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("public_key", sa.String(100), nullable=False),
        sa.Column("groups", sa.String(400), nullable=True),
        sa.Column("node_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_sync_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_exchange_peers"),
    )
    op.create_table(
        "exchange_cursors",
        sa.Column("peer", sa.String(64), nullable=False),
        sa.Column("collection", sa.String(64), nullable=False),
        sa.Column("added_after", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("peer", "collection", name="pk_exchange_cursors"),
    )
    op.create_table(
        "exchange_approvals",
        sa.Column("indicator_id", sa.String(36), nullable=False),
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("indicator_id", name="pk_exchange_approvals"),
    )
    op.create_table(
        "exchange_statuses",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("body", JSONDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exchange_statuses"),
    )


def downgrade() -> None:
    op.drop_table("exchange_statuses")
    op.drop_table("exchange_approvals")
    op.drop_table("exchange_cursors")
    op.drop_table("exchange_peers")
    op.drop_table("exchange_objects")
    op.drop_index("uq_indicators_origin", table_name="indicators")
    with op.batch_alter_table("indicators") as batch:
        batch.drop_column("origin_id")
        batch.drop_column("origin_node")
