"""The orders unit of work: one transaction, the order repository, the outbox and the
ERP postings its events call for."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import one_statement
from adapters.db.uow import SqlUnitOfWork
from domains.orders import erp_postings, tables
from domains.orders.model import Order
from domains.orders.repository import OrderRepository, order_id_by_idempotency_key
from kernel.clock import Clock


class OrdersUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository

    def __init__(
        self, sessions: Any, *, engine: AsyncEngine, clock: Clock, on_commit: Any = None
    ) -> None:
        super().__init__(sessions, tables.outbox, clock=clock, on_commit=on_commit)
        self._engine = engine

    def _start(self) -> None:
        self.orders = OrderRepository(self.session)

    async def placed_order(self, idempotency_key: str) -> Order | None:
        """The order holding ``idempotency_key``, if one does: what checkout asks first.

        A new key, nearly every checkout's, costs one statement outside any transaction
        (``one_statement``): on PostgreSQL one round trip where BEGIN, SELECT and
        ROLLBACK were three. A key that is taken loads its order, lines and all, in a
        transaction of this unit, so the order is read in one snapshot.
        """
        async with one_statement(self._engine) as conn:
            order_id = await order_id_by_idempotency_key(conn, idempotency_key)
        if order_id is None:
            return None
        async with self:
            return await self.orders.get_by_idempotency_key(idempotency_key)

    async def commit(self) -> None:
        # In the same transaction as the order change: a committed order always owes
        # its ERP document, and a rolled-back one never does.
        await erp_postings.enqueue(self.session, self._events, self.clock.now())
        await super().commit()
