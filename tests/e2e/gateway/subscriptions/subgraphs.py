"""Two small strawberry subgraphs with a subscription, fed by the test.

``stock`` owns ``Subscription.stockChanged`` (events the test publishes through a
``StockFeed``) and extends ``Product`` by key; ``catalog`` owns ``Product.name``. So a
stock event's ``product { name }`` can only come from another subgraph, per event.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.applications import Starlette
from strawberry.types import Info

from adapters.graphql.subgraph import FederatedSchema, subgraph_app


@dataclass
class StockEvent:
    sku: str
    location_id: str
    on_hand: int


@dataclass
class StockFeed:
    """What the ``stock`` subgraph publishes; counts the subscriptions open on it."""

    queues: list[tuple[str, asyncio.Queue[StockEvent]]] = field(default_factory=list)
    opened: int = 0

    @property
    def active(self) -> int:
        return len(self.queues)

    def publish(self, event: StockEvent) -> None:
        for location_id, queue in self.queues:
            if location_id == event.location_id:
                queue.put_nowait(event)


@strawberry.federation.type(keys=["sku"], name="Product")
class ProductStub:
    sku: strawberry.ID


@strawberry.type
class StockLevel:
    sku: strawberry.ID
    location_id: strawberry.ID
    on_hand: int

    @strawberry.field
    def product(self) -> ProductStub:
        return ProductStub(sku=self.sku)


@strawberry.type
class StockQuery:
    @strawberry.field
    def stock_level(self, sku: strawberry.ID) -> StockLevel:
        return StockLevel(sku=sku, location_id=strawberry.ID("DC-1"), on_hand=7)


@strawberry.type
class StockMutation:
    @strawberry.mutation
    def count_stock(self, sku: strawberry.ID, on_hand: int) -> StockLevel:
        return StockLevel(sku=sku, location_id=strawberry.ID("DC-1"), on_hand=on_hand)


@strawberry.type
class StockSubscription:
    @strawberry.subscription
    async def stock_changed(
        self, info: Info, location_id: strawberry.ID
    ) -> AsyncGenerator[StockLevel, None]:
        feed: StockFeed = info.context["feed"]
        queue: asyncio.Queue[StockEvent] = asyncio.Queue()
        entry = (str(location_id), queue)
        feed.queues.append(entry)
        feed.opened += 1
        try:
            while True:
                event = await queue.get()
                yield StockLevel(
                    sku=strawberry.ID(event.sku),
                    location_id=strawberry.ID(event.location_id),
                    on_hand=event.on_hand,
                )
        finally:
            feed.queues.remove(entry)

    @strawberry.subscription
    async def countdown(self, start: int) -> AsyncGenerator[int, None]:
        for number in range(start, 0, -1):
            yield number


@strawberry.federation.type(keys=["sku"])
class Product:
    sku: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, sku: strawberry.ID) -> Product:
        return Product(sku=sku, name=f"Name of {sku}")


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def product(self, sku: strawberry.ID) -> Product:
        return Product(sku=sku, name=f"Name of {sku}")


def subgraph_apps(feed: StockFeed) -> dict[str, Starlette]:
    async def context() -> dict[str, Any]:
        return {"feed": feed}

    stock = FederatedSchema(
        query=StockQuery,
        mutation=StockMutation,
        subscription=StockSubscription,
        types=[ProductStub],
    )
    catalog = FederatedSchema(query=CatalogQuery, types=[Product])
    return {"stock": subgraph_app(stock, context), "catalog": subgraph_app(catalog, context)}
