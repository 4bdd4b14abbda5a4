"""The orders unit of work: one transaction, the order repository and the outbox."""

from __future__ import annotations

from adapters.db.uow import SqlUnitOfWork
from domains.orders.repository import OrderRepository


class OrdersUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository

    def _start(self) -> None:
        self.orders = OrderRepository(self.session)
