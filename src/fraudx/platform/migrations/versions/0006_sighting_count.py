"""Sightings: a row stands for every look-up of one identifier by one caller within a
short window (how many, and when the last was), so that a bank screening the same
payees again and again does not write a row per look-up.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudx.platform.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(
            sa.Column("times", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        batch.add_column(sa.Column("last_observed_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("last_observed_at")
        batch.drop_column("times")
