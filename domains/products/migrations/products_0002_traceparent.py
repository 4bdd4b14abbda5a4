"""Products: each outbox event keeps the trace context of the request that wrote it.

Rows written before have none: the work they cause starts a trace of its own.

Revision ID: products_0002
Revises: products_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "products_0002"
down_revision = "products_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products_outbox", schema=None) as batch_op:
        batch_op.drop_column("traceparent")
