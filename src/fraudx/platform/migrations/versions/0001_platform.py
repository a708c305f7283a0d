"""Platform: agencies, API tokens, audit log, event outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fraudx.platform.db import JSONDoc, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigSeq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_agencies"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_code"], ["agencies.code"], name="fk_api_tokens_agency_code_agencies"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
    )
    op.create_index("ix_api_tokens_agency_code", "api_tokens", ["agency_code"])
    op.create_table(
        "audit_log",
        sa.Column("seq", BigSeq, autoincrement=False, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("agency_code", sa.String(40), nullable=True),
        sa.Column("token_id", sa.String(36), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("target", sa.String(300), nullable=True),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("id", name="uq_audit_log_id"),
    )
    op.create_index("ix_audit_log_agency_code_at", "audit_log", ["agency_code", "at"])
    op.create_index("ix_audit_log_action_at", "audit_log", ["action", "at"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", BigSeq, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    _make_audit_append_only()
    op.create_table(
        "outbox",
        sa.Column("seq", BigSeq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(80), nullable=False),
        sa.Column("key", sa.String(300), nullable=True),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("id", name="uq_outbox_id"),
    )
    op.create_index("ix_outbox_topic_seq", "outbox", ["topic", "seq"])
    op.create_table(
        "consumer_positions",
        sa.Column("consumer", sa.String(120), nullable=False),
        sa.Column("seq", BigSeq, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name="pk_consumer_positions"),
    )


def _make_audit_append_only() -> None:
    """The database itself refuses to change or remove audit entries: whoever wants to must
    first drop these triggers, which takes the database owner, and the chain still shows it."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION fraudx_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION fraudx_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION fraudx_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def downgrade() -> None:
    op.drop_table("consumer_positions")
    op.drop_index("ix_outbox_topic_seq", table_name="outbox")
    op.drop_table("outbox")
    op.drop_table("audit_head")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS fraudx_audit_append_only()")
    op.drop_index("ix_audit_log_action_at", table_name="audit_log")
    op.drop_index("ix_audit_log_agency_code_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_api_tokens_agency_code", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("agencies")
