"""Inventory's reads for GraphQL: per-request DataLoaders, each batch one SQL statement
(or one cache round trip), and the location search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory import repository
from domains.inventory.model import (
    ChannelAvailability,
    Divergence,
    Location,
    LocationKind,
    Reconciliation,
    Reservation,
    StockLevel,
)
from domains.inventory.read_models import AvailabilityReadModel


class StockLevelsBySkuLoader(DataLoader[str, list[StockLevel]]):
    def __init__(self, engine: AsyncEngine, now: datetime) -> None:
        super().__init__()
        self.engine = engine
        self.now = now

    async def batch_load_fn(self, skus: Sequence[str]) -> list[list[StockLevel]]:
        async with self.engine.connect() as conn:
            levels = await repository.load_levels(conn, set(skus), self.now)
        by_sku: dict[str, list[StockLevel]] = defaultdict(list)
        for level in levels:
            by_sku[level.sku].append(level)
        return [by_sku.get(sku, []) for sku in skus]


class ChannelAvailabilityBySkuAndChannelLoader(DataLoader[tuple[str, str], ChannelAvailability]):
    def __init__(self, read_model: AvailabilityReadModel) -> None:
        super().__init__()
        self.read_model = read_model

    async def batch_load_fn(self, keys: Sequence[tuple[str, str]]) -> list[ChannelAvailability]:
        return await self.read_model.get_many(list(keys))


class LocationByIdLoader(DataLoader[str, Location | None]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def batch_load_fn(self, ids: Sequence[str]) -> list[Location | None]:
        async with self.engine.connect() as conn:
            found = {loc.id: loc for loc in await repository.load_locations(conn, ids=ids)}
        return [found.get(id) for id in ids]


class ReservationByIdLoader(DataLoader[str, Reservation | None]):
    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def batch_load_fn(self, ids: Sequence[str]) -> list[Reservation | None]:
        async with self.engine.connect() as conn:
            found = {r.id: r for r in await repository.load_reservations(conn, ids=ids)}
        return [found.get(id) for id in ids]


class DivergencesLoader(DataLoader[tuple[str, int], list[Divergence]]):
    """The first divergences of reconciliations, keyed by (reconciliation id, how many)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine

    async def batch_load_fn(self, keys: Sequence[tuple[str, int]]) -> list[list[Divergence]]:
        wanted: dict[int, set[str]] = defaultdict(set)
        for reconciliation_id, first in keys:
            wanted[first].add(reconciliation_id)
        found: dict[tuple[str, int], list[Divergence]] = {}
        async with self.engine.connect() as conn:
            for first, ids in wanted.items():
                loaded = await repository.load_divergences(conn, ids, first)
                for reconciliation_id in ids:
                    found[(reconciliation_id, first)] = loaded.get(reconciliation_id, [])
        return [found[key] for key in keys]


@dataclass(frozen=True, slots=True)
class InventoryLoaders:
    now: datetime
    stock_levels_by_sku: StockLevelsBySkuLoader
    availability_by_sku_and_channel: ChannelAvailabilityBySkuAndChannelLoader
    location_by_id: LocationByIdLoader
    reservation_by_id: ReservationByIdLoader
    divergences: DivergencesLoader


def make_loaders(
    engine: AsyncEngine, read_model: AvailabilityReadModel, now: datetime
) -> InventoryLoaders:
    """Fresh loaders for one request; ``now`` is the request's moment for expiry checks."""
    return InventoryLoaders(
        now=now,
        stock_levels_by_sku=StockLevelsBySkuLoader(engine, now),
        availability_by_sku_and_channel=ChannelAvailabilityBySkuAndChannelLoader(read_model),
        location_by_id=LocationByIdLoader(engine),
        reservation_by_id=ReservationByIdLoader(engine),
        divergences=DivergencesLoader(engine),
    )


async def find_locations(
    engine: AsyncEngine,
    *,
    kind: LocationKind | None = None,
    region: str | None = None,
    channel: str | None = None,
) -> list[Location]:
    """The locations of ``kind`` in ``region`` serving ``channel`` (each when given)."""
    async with engine.connect() as conn:
        return await repository.load_locations(conn, kind=kind, region=region, channel=channel)


async def last_reconciliations(engine: AsyncEngine, last: int) -> list[Reconciliation]:
    async with engine.connect() as conn:
        return await repository.load_reconciliations(conn, last)
