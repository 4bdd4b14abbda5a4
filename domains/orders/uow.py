"""The orders unit of work: one transaction, the order repository, the outbox and the
ERP postings its events call for."""

from __future__ import annotations

from adapters.db.uow import SqlUnitOfWork
from domains.orders import erp_postings
from domains.orders.repository import OrderRepository


class OrdersUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository

    def _start(self) -> None:
        self.orders = OrderRepository(self.session)

    async def commit(self) -> None:
        # In the same transaction as the order change: a committed order always owes
        # its ERP document, and a rolled-back one never does.
        await erp_postings.enqueue(self.session, self._events, self.clock.now())
        await super().commit()
