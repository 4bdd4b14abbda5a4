"""Concurrent checkouts on the real PostgreSQL never oversell and never double-book a key."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text

from adapters.db.engine import create_engine
from domains.inventory import repository, service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.errors import InsufficientStock
from domains.inventory.model import Reservation
from domains.inventory.service import ReservationRequest
from tests.conftest import EngineFactory
from tests.integration.inventory.conftest import new_sku, open_domain, seed_locations, stock
from tests.services import require_postgres

pytestmark = pytest.mark.postgres

REPLICAS = 4


@pytest.fixture
def backend() -> str:
    # Only PostgreSQL is concurrent for real; SQLite serialises every writer by design.
    return "postgresql"


@pytest.fixture
async def replicas(make_engine: EngineFactory) -> AsyncIterator[list[InventoryDomain]]:
    """Several domain instances, each with its own engine and pool, on one private schema.

    The pools are small on purpose: the shared server allows 100 clients in all, and 4 x 5
    connections still keep 20 transactions in flight at once.
    """
    private = await make_engine()
    async with private.connect() as conn:
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    engines = [
        create_engine(require_postgres(), schema=schema, pool_size=5, max_overflow=0)
        for _ in range(REPLICAS)
    ]
    domains = [await open_domain(engine) for engine in engines]
    await seed_locations(domains[0])
    yield domains
    for engine in engines:
        await engine.dispose()


async def _reserve(domain: InventoryDomain, sku: str, key: str) -> Reservation | str:
    try:
        return await service.reserve_stock(
            domain.uow(), sku=sku, location_id="DC", quantity=1, idempotency_key=key
        )
    except InsufficientStock as error:
        return error.code


async def _reservation_count(domain: InventoryDomain, sku: str) -> int:
    query = select(func.count()).select_from(tables.reservations)
    async with domain.engine.connect() as conn:
        return int((await conn.execute(query.where(tables.reservations.c.sku == sku))).scalar_one())


async def test_100_concurrent_reservations_of_30_units_make_exactly_30(
    replicas: list[InventoryDomain],
) -> None:
    sku = new_sku()
    await stock(replicas[0], sku, on_hand=35, safety_stock=5)
    results = await asyncio.gather(
        *(_reserve(replicas[i % REPLICAS], sku, f"{sku}-{i}") for i in range(100))
    )
    outcomes = Counter("reserved" if isinstance(r, Reservation) else r for r in results)
    assert outcomes == {"reserved": 30, "INSUFFICIENT_STOCK": 70}
    assert await _reservation_count(replicas[0], sku) == 30
    async with replicas[0].engine.connect() as conn:
        (level,) = await repository.load_levels(conn, [sku], replicas[0].clock.now())
    assert (level.reserved, level.available) == (30, 0)


async def test_20_concurrent_calls_with_one_key_make_one_reservation(
    replicas: list[InventoryDomain],
) -> None:
    sku = new_sku()
    await stock(replicas[0], sku, on_hand=100)
    results = await asyncio.gather(
        *(_reserve(replicas[i % REPLICAS], sku, f"{sku}-once") for i in range(20))
    )
    assert all(isinstance(r, Reservation) for r in results)
    assert len({r.id for r in results if isinstance(r, Reservation)}) == 1
    assert await _reservation_count(replicas[0], sku) == 1


async def test_concurrent_replays_of_one_movement_batch_apply_it_once(
    replicas: list[InventoryDomain],
) -> None:
    from domains.inventory.model import Movement, MovementType

    sku = new_sku()
    batch = [
        Movement(MovementType.RECEIPT, sku, "DC", 3, f"GRN-{sku}", line) for line in range(1, 6)
    ]

    async def apply(domain: InventoryDomain) -> int:
        return len((await service.apply_stock_movements(domain.uow(), batch)).applied)

    applied = await asyncio.gather(*(apply(replicas[i % REPLICAS]) for i in range(8)))
    assert sum(applied) == 5
    async with replicas[0].engine.connect() as conn:
        (level,) = await repository.load_levels(conn, [sku], replicas[0].clock.now())
    assert level.on_hand == 15


async def test_concurrent_two_line_orders_in_either_order_never_oversell_or_deadlock(
    replicas: list[InventoryDomain],
) -> None:
    shirt, socks = new_sku(), new_sku()
    await stock(replicas[0], shirt, on_hand=15)
    await stock(replicas[0], socks, on_hand=30)

    async def order(number: int) -> str:
        lines = [
            ReservationRequest(shirt, "DC", 1, f"{shirt}-{number}:a"),
            ReservationRequest(socks, "DC", 1, f"{shirt}-{number}:b"),
        ]
        try:
            await service.reserve_stock_lines(
                replicas[number % REPLICAS].uow(), lines[:: 1 if number % 2 else -1]
            )
        except InsufficientStock as error:
            return error.code
        return "reserved"

    outcomes = Counter(await asyncio.gather(*(order(n) for n in range(40))))
    assert outcomes == {"reserved": 15, "INSUFFICIENT_STOCK": 25}
    async with replicas[0].engine.connect() as conn:
        levels = {
            lvl.sku: lvl
            for lvl in await repository.load_levels(conn, [shirt, socks], replicas[0].clock.now())
        }
    assert (levels[shirt].available, levels[socks].reserved) == (0, 15)
