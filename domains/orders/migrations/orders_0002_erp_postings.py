"""Orders: the ERP posting queue.

Revision ID: orders_0002
Revises: orders_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "orders_0002"
down_revision = "orders_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders_erp_postings",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erp_document_id", sa.String(length=100), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders_orders.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("orders_erp_postings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_erp_postings_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_orders_erp_postings_order_id"), ["order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("orders_erp_postings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_erp_postings_order_id"))
        batch_op.drop_index("ix_orders_erp_postings_due")
    op.drop_table("orders_erp_postings")
