"""Starting the orders domain: its database and outbox relay.

Orders have no cached read model: an order is read by id through per-request loaders
(two statements per batch), and order pages are keyset queries on an index.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import DomainBase, Runtime, open_database
from domains.orders import tables
from domains.orders.give_back import GiveBacks
from domains.orders.peers import SubgraphCheckout
from domains.orders.uow import OrdersUnitOfWork


class OrdersDomain(DomainBase):
    """What the orders subgraph, the demo loader and checkout work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        super().__init__(engine, runtime, tables.outbox, owns_engine=owns_engine)
        # Checkout's ports: pricing and inventory as the runtime reaches them.
        self.checkout = SubgraphCheckout(runtime.subgraphs)
        # What failed checkouts owe inventory, given back in the background meanwhile.
        self.give_backs = GiveBacks(runtime.clock)

    def uow(self) -> OrdersUnitOfWork:
        return OrdersUnitOfWork(
            self._sessions, engine=self.engine, clock=self.clock, on_commit=self.wake_relay
        )

    async def close(self) -> None:
        await self.give_backs.close()
        await self.checkout.aclose()
        await super().close()


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> OrdersDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    engine, owns_engine = await open_database(runtime, "orders", tables.metadata, engine)
    domain = OrdersDomain(engine, runtime, owns_engine=owns_engine)
    domain.relay.start()
    return domain
