"""The orders unit of work: one transaction, the order repository, the outbox and the
ERP postings its events call for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import outbox
from adapters.db.engine import is_sqlite, one_statement
from adapters.db.uow import SqlUnitOfWork
from domains.orders import erp_postings, new_order_statement, tables
from domains.orders.errors import DuplicateOrder
from domains.orders.model import Order
from domains.orders.repository import OrderRepository, order_id_by_idempotency_key
from kernel.clock import Clock
from kernel.events import Event

Announcement = Callable[[Order], Event]


class OrdersUnitOfWork(SqlUnitOfWork):
    orders: OrderRepository

    def __init__(
        self, sessions: Any, *, engine: AsyncEngine, clock: Clock, on_commit: Any = None
    ) -> None:
        super().__init__(sessions, tables.outbox, clock=clock, on_commit=on_commit)
        self._engine = engine
        # One way to store a new order per backend, chosen once (see ``add_order``).
        self._store_new_order = (
            self._store_in_transaction if is_sqlite(engine) else self._store_in_one_statement
        )

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

    async def add_order(self, order: Order, announced_by: Announcement) -> None:
        """Store a new order, the only write of this unit, with the event that announces
        it (``announced_by``, called once the order has its number) and its ERP posting,
        committed; DuplicateOrder, storing nothing, when another order holds its key.

        On PostgreSQL that is two statements outside any transaction: the order's
        ``seq``, then the order, its lines, its posting and its event in one statement
        (``new_order_statement``), where the transaction took six round trips. SQLite
        writes them in this unit's transaction, as every other change.
        """
        await self._store_new_order(order, announced_by)

    async def commit(self) -> None:
        # In the same transaction as the order change: a committed order always owes
        # its ERP document, and a rolled-back one never does.
        await erp_postings.enqueue(self.session, self._events, self.clock.now())
        await super().commit()

    async def _store_in_transaction(self, order: Order, announced_by: Announcement) -> None:
        await self.orders.add(order)
        self.record(announced_by(order))
        await self.commit()

    async def _store_in_one_statement(self, order: Order, announced_by: Announcement) -> None:
        if self.session.in_transaction():
            # What the session wrote would commit apart from the order, or not at all.
            raise RuntimeError("a new order is stored in one statement, alone in its unit")
        async with one_statement(self._engine) as conn:
            order.sequence = await new_order_statement.next_sequence(conn)
            self.record(announced_by(order))
            events = self.events_to_store()
            stored = await new_order_statement.store(
                conn,
                order,
                erp_postings.new_order_rows(events, self.clock.now()),
                outbox.rows(events),
            )
        if not stored:
            raise DuplicateOrder(order.idempotency_key)
        self._stored(events)
