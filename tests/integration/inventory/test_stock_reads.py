"""Reading stock sums each stock row's live reservations through the reservation index:
a read of some SKUs fetches their reservations and no others, however many other SKUs
hold live reservations, with statistics the planner took before a burst of checkouts
added them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domains.inventory import repository, service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import ReservationStatus, StockLevel
from tests.integration.inventory.conftest import new_sku, seed_locations

pytestmark = pytest.mark.postgres

# Tuples this transaction fetched from a table, as PostgreSQL counts them.
_FETCHED = text(
    "SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0)"
    " FROM pg_stat_xact_user_tables WHERE schemaname = current_schema() AND relname = :table"
)
_READS: dict[str, Callable[[AsyncConnection, list[str], datetime], Awaitable[Any]]] = {
    "levels": repository.load_levels,
    "picture": repository.load_picture,
    "availability": lambda conn, skus, now: repository.load_availability(
        conn, [(sku, "web") for sku in skus], now
    ),
}


@pytest.fixture
def backend() -> str:
    return "postgresql"


_Row = tuple[str, str, int, ReservationStatus, datetime]  # sku, location, units, status, expiry


async def _store_reservations(domain: InventoryDomain, rows: list[_Row], now: datetime) -> None:
    """Reservations written as rows, made at ``now``."""
    async with domain.engine.begin() as conn:
        await conn.execute(
            tables.reservations.insert(),
            [
                {
                    "id": f"{sku}-{n}",
                    "idempotency_key": f"{sku}-{n}",
                    "sku": sku,
                    "location_id": location,
                    "quantity": quantity,
                    "status": status.value,
                    "expires_at": expires,
                    "created_at": now,
                    "updated_at": now,
                }
                for n, (sku, location, quantity, status, expires) in enumerate(rows)
            ],
        )


async def _fetched_by(domain: InventoryDomain, read: str, skus: list[str], now: datetime) -> int:
    async with domain.engine.connect() as conn:
        await conn.begin()
        await _READS[read](conn, skus, now)
        fetched: int = (await conn.execute(_FETCHED, {"table": tables.reservations.name})).scalar()
        return fetched


@pytest.mark.parametrize("read", sorted(_READS))
async def test_a_stock_read_fetches_only_the_reservations_of_its_skus(
    domain: InventoryDomain, read: str
) -> None:
    """2,000 live reservations of 40 other SKUs, added after the table's statistics
    were taken."""
    await seed_locations(domain)
    wanted, others = [new_sku(), new_sku()], [new_sku() for _ in range(40)]
    await service.import_stock_levels(
        domain.uow(), [StockLevel(sku, "DC", on_hand=100_000) for sku in wanted + others]
    )
    # Autovacuum would analyse the table once it grows, at a moment of its own choosing;
    # this test reads it with the statistics of before the reservations, as a burst of
    # checkouts does.
    async with domain.engine.begin() as conn:
        await conn.execute(
            text(f"ALTER TABLE {tables.reservations.name} SET (autovacuum_enabled = false)")
        )
    now = domain.clock.now()
    live = (ReservationStatus.ACTIVE, now + timedelta(minutes=15))
    held = {sku: 3 for sku in wanted} | {sku: 50 for sku in others}
    await _store_reservations(
        domain, [(sku, "DC", 1, *live) for sku, count in held.items() for _ in range(count)], now
    )

    fetched = await _fetched_by(domain, read, wanted, now)

    assert fetched == 6, "the two SKUs' own three reservations each, and no others"


async def test_a_stock_read_sums_each_rows_live_reservations(domain: InventoryDomain) -> None:
    await seed_locations(domain)
    sku = new_sku()
    await service.import_stock_levels(
        domain.uow(),
        [StockLevel(sku, "DC", on_hand=100), StockLevel(sku, "ST", on_hand=100)],
    )
    now = domain.clock.now()
    later, active = now + timedelta(minutes=5), ReservationStatus.ACTIVE
    await _store_reservations(
        domain,
        [
            (sku, "DC", 2, active, later),
            (sku, "DC", 3, active, later),
            (sku, "DC", 7, active, now - timedelta(seconds=1)),  # lapsed
            (sku, "DC", 11, ReservationStatus.RELEASED, later),
            (sku, "ST", 4, active, later),
        ],
        now,
    )
    async with domain.engine.connect() as conn:
        picture = await repository.load_picture(conn, [sku], now)
        levels = await repository.load_levels(conn, [sku], now)

    assert {pair: level.reserved for pair, level in picture.levels.items()} == {
        (sku, "DC"): 5,
        (sku, "ST"): 4,
    }
    assert sorted((level.location_id, level.reserved) for level in levels) == [("DC", 5), ("ST", 4)]
