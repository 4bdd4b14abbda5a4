"""Per-request DataLoaders: each batch of keys costs a fixed number of SQL statements."""

from __future__ import annotations

from dataclasses import dataclass

from aiodataloader import DataLoader

from domains.orders import repository
from domains.orders.bootstrap import OrdersDomain
from domains.orders.erp_sync_graphql import ErpSyncByOrderLoader
from domains.orders.model import Order


class OrderByIdLoader(DataLoader[str, Order | None]):
    """Orders by id: one statement for the orders and one for their lines, per batch."""

    def __init__(self, domain: OrdersDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, ids: list[str]) -> list[Order | None]:
        async with self.domain.engine.connect() as conn:
            found = await repository.load_orders(conn, ids)
        return [found.get(order_id) for order_id in ids]


class OrderByNumberLoader(DataLoader[str, Order | None]):
    """Orders by number (``RG-0000042``): one statement finds the ids for the whole
    batch, then ``by_id`` loads the orders in its own batch."""

    def __init__(self, domain: OrdersDomain, by_id: OrderByIdLoader) -> None:
        super().__init__()
        self.domain = domain
        self.by_id = by_id

    async def batch_load_fn(self, numbers: list[str]) -> list[Order | None]:
        async with self.domain.engine.connect() as conn:
            ids = await repository.order_ids_by_number(conn, numbers)
        wanted = list(dict.fromkeys(ids.values()))
        loaded = dict(zip(wanted, await self.by_id.load_many(wanted), strict=True))
        found = [loaded.get(ids[number]) if number in ids else None for number in numbers]
        # "RG-42" and "RG-0000042" share a sequence; only the number as written is one.
        return [
            order if order is not None and order.number == number else None
            for order, number in zip(found, numbers, strict=True)
        ]


class RecentOrdersBySkuLoader(DataLoader[tuple[str, int], list[Order]]):
    """The newest orders holding each SKU: one statement finds the ids for the whole
    batch (ranked per SKU), then ``by_id`` loads the orders in its own batch."""

    def __init__(self, domain: OrdersDomain, by_id: OrderByIdLoader) -> None:
        super().__init__()
        self.domain = domain
        self.by_id = by_id

    async def batch_load_fn(self, keys: list[tuple[str, int]]) -> list[list[Order]]:
        skus = list(dict.fromkeys(sku for sku, _ in keys))
        deepest = max(first for _, first in keys)
        async with self.domain.engine.connect() as conn:
            ids_by_sku = await repository.recent_order_ids_by_sku(conn, skus, deepest)
        wanted = list(dict.fromkeys(i for ids in ids_by_sku.values() for i in ids))
        loaded = dict(zip(wanted, await self.by_id.load_many(wanted), strict=True))
        results: list[list[Order]] = []
        for sku, first in keys:
            orders = [loaded[i] for i in ids_by_sku.get(sku, [])[:first]]
            results.append([order for order in orders if order is not None])
        return results


class RecentOrdersByLocationLoader(DataLoader[tuple[str, str | None, int], list[Order]]):
    """The newest orders fulfilled at each location: one statement per status asked
    for in the batch (usually one), then ``by_id`` loads the orders."""

    def __init__(self, domain: OrdersDomain, by_id: OrderByIdLoader) -> None:
        super().__init__()
        self.domain = domain
        self.by_id = by_id

    async def batch_load_fn(self, keys: list[tuple[str, str | None, int]]) -> list[list[Order]]:
        ids: dict[tuple[str, str | None], list[str]] = {}
        async with self.domain.engine.connect() as conn:
            for status in dict.fromkeys(status for _, status, _ in keys):
                asked = [key for key in keys if key[1] == status]
                locations = list(dict.fromkeys(location for location, _, _ in asked))
                deepest = max(first for _, _, first in asked)
                found = await repository.recent_order_ids_by_location(
                    conn, locations, deepest, status
                )
                ids.update({(location, status): found[location] for location in locations})
        wanted = list(dict.fromkeys(i for found_ids in ids.values() for i in found_ids))
        loaded = dict(zip(wanted, await self.by_id.load_many(wanted), strict=True))
        results: list[list[Order]] = []
        for location, status, first in keys:
            orders = [loaded[i] for i in ids[(location, status)][:first]]
            results.append([order for order in orders if order is not None])
        return results


@dataclass(frozen=True, slots=True)
class OrderLoaders:
    order_by_id: OrderByIdLoader
    order_by_number: OrderByNumberLoader
    recent_orders_by_sku: RecentOrdersBySkuLoader
    recent_orders_by_location: RecentOrdersByLocationLoader
    erp_sync_by_order: ErpSyncByOrderLoader


def make_loaders(domain: OrdersDomain) -> OrderLoaders:
    by_id = OrderByIdLoader(domain)
    return OrderLoaders(
        order_by_id=by_id,
        order_by_number=OrderByNumberLoader(domain, by_id),
        recent_orders_by_sku=RecentOrdersBySkuLoader(domain, by_id),
        recent_orders_by_location=RecentOrdersByLocationLoader(domain, by_id),
        erp_sync_by_order=ErpSyncByOrderLoader(domain),
    )
