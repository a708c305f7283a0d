"""Exchange: published objects are no longer indexed by ``date_added`` alone. Every TAXII
read asks for one sharing group in ``date_added`` order (the group's index); the latest
``date_added`` of all is the latest of each group's, found through that index too. The
index cost every published object one more write.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_exchange_objects_date_added", table_name="exchange_objects")


def downgrade() -> None:
    op.create_index("ix_exchange_objects_date_added", "exchange_objects", ["date_added"])
