"""Inventory: the stock moves owed to the ERP for movements it has not seen.

Revision ID: inventory_0007
Revises: inventory_0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inventory_0007"
down_revision = "inventory_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_erp_posting",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("source_document_id", sa.String(length=200), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erp_document_id", sa.String(length=200), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("traceparent", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("inventory_erp_posting", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inventory_erp_posting_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inventory_erp_posting_sku"), ["sku"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inventory_erp_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inventory_erp_posting_sku"))
        batch_op.drop_index("ix_inventory_erp_posting_due")
    op.drop_table("inventory_erp_posting")
