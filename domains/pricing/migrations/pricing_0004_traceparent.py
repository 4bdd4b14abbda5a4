"""Pricing: each outbox event keeps the trace context of the request that wrote it.

Rows written before have none: the work they cause starts a trace of its own.

Revision ID: pricing_0004
Revises: pricing_0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "pricing_0004"
down_revision = "pricing_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pricing_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pricing_outbox", schema=None) as batch_op:
        batch_op.drop_column("traceparent")
