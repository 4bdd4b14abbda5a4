"""What the order use cases need of storage: the orders of one transaction, and the
transaction itself (``OrdersUnitOfWork`` on a database, or an in-memory one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from domains.orders.model import Order
from kernel.events import Event
from kernel.transaction import Transaction


class OrdersRepository(Protocol):
    """The orders a transaction sees; the idempotency key is unique among them."""

    async def add(self, order: Order) -> None:
        """Store a new order and give it its sequence (and so its number); raises
        ``DuplicateOrder`` when another order holds its idempotency key."""
        ...

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        """The order, locked against concurrent steps until the transaction ends when
        ``for_update``."""
        ...

    async def get_by_idempotency_key(self, key: str) -> Order | None: ...
    async def get_by_number(self, number: str) -> Order | None: ...

    async def save(self, order: Order) -> None:
        """Write back a loaded order: its status, history, references and quantities."""
        ...

    async def step_request(self, key: str) -> str | None:
        """The fingerprint of the lifecycle step made under idempotency key ``key``."""
        ...

    async def remember_step(
        self,
        key: str,
        order_id: str,
        fingerprint: str,
        *,
        correlation_id: str | None,
        at: datetime,
    ) -> None:
        """Keep ``key`` with the step it made; raises ``StepKeyTaken`` when another
        step holds the key."""
        ...


class OrdersUnit(Transaction, Protocol):
    """One transaction: the orders it sees, its clock, and the events it commits with them.

    Leaving the block without ``commit`` keeps nothing; ``rollback`` discards what was
    done so far and lets the block read again.
    """

    @property
    def orders(self) -> OrdersRepository: ...
    async def rollback(self) -> None: ...

    async def add_order(self, order: Order, announced_by: Callable[[Order], Event]) -> None:
        """Store a new order, the unit's only write, with the event that announces it
        (``announced_by``, called once the order has its sequence and so its number),
        committed; raises ``DuplicateOrder``, storing nothing, when another order holds
        its idempotency key."""
        ...
