"""Exchange: published objects are no longer indexed by their report. An approval finds
its object by the STIX id, which is derived from the report's; the index cost every
published object one more write.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_exchange_objects_indicator_id", table_name="exchange_objects")


def downgrade() -> None:
    op.create_index("ix_exchange_objects_indicator_id", "exchange_objects", ["indicator_id"])
