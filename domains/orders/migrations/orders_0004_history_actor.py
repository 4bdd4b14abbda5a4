"""Orders: every history step names who made it.

Steps are kept in the order's ``history`` JSON; from now on each names its actor (the
client of the request, or the system). Steps recorded before are given the system's name,
``system``: who made them was never recorded.

Revision ID: orders_0004
Revises: orders_0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "orders_0004"
down_revision = "orders_0003"
branch_labels = None
depends_on = None

_ORDERS = sa.table("orders_orders", sa.column("id", sa.String), sa.column("history", sa.JSON))
_UNRECORDED = {"client": "system", "subject": None}

Entry = dict[str, Any]


def upgrade() -> None:
    _rewrite(lambda entry: {**entry, "actor": entry.get("actor") or _UNRECORDED})


def downgrade() -> None:
    _rewrite(lambda entry: {k: v for k, v in entry.items() if k != "actor"})


def _rewrite(change: Callable[[Entry], Entry]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_ORDERS.c.id, _ORDERS.c.history)).all()
    for order_id, history in rows:
        rewritten = [change(entry) for entry in history]
        if rewritten != history:
            connection.execute(
                _ORDERS.update().where(_ORDERS.c.id == order_id).values(history=rewritten)
            )
