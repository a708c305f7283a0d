"""Alerts: subscriptions made before 0005 get the role of the token that made them, from
the audit log's entry of their making, so that their pushed alerts follow the sharing
rules for that role. Any left without one are pushed as to a partner (``delivery``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE alert_subscriptions SET role = ("
        "SELECT a.role FROM audit_log a WHERE a.action = 'alerts.subscribe' "
        "AND a.target = alert_subscriptions.id ORDER BY a.seq LIMIT 1"
        ") WHERE role IS NULL"
    )


def downgrade() -> None:
    pass  # the roles filled in are true; nothing to undo
