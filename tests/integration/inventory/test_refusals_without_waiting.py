"""A reservation the committed stock cannot hold is refused without queueing on the stock
row's lock (ADR 0015); one it can hold waits for the lock and decides under it.

A holder here is a transaction of the test's own that locks the stock row (``FOR
UPDATE``) and keeps it. The answers are ordered against the holder by events, never by
time: a reservation that ends up waiting for the holder is seen in ``pg_blocking_pids``.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import insert

from domains.inventory import repository, service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.errors import InsufficientStock
from domains.inventory.model import Reservation, ReservationStatus, StockLevel
from tests.integration.inventory.conftest import (
    counted_statements,
    holder,
    new_sku,
    someone_waits_for,
    stock,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    # SQLite has no row locks: its BEGIN IMMEDIATE serialises every writer, unchanged.
    return "postgresql"


async def first_of(answer: asyncio.Task[object], waits: asyncio.Task[None]) -> str:
    """Which came first: the reservation's answer, or its wait for the holder."""
    done, _ = await asyncio.wait({answer, waits}, return_when=asyncio.FIRST_COMPLETED)
    first = "answer" if answer in done else "wait"
    waits.cancel()
    return first


async def _reserve(domain: InventoryDomain, sku: str, quantity: int, key: str) -> Reservation:
    return await service.reserve_stock(
        domain.uow(), sku=sku, location_id="DC", quantity=quantity, idempotency_key=key
    )


async def _level(domain: InventoryDomain, sku: str) -> StockLevel:
    async with domain.engine.connect() as conn:
        (level,) = await repository.load_levels(conn, [sku], domain.clock.now())
    return level


async def test_a_refusal_the_committed_stock_decides_does_not_wait_for_the_lock(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    await _reserve(domain, sku, 3, f"{sku}:first")
    async with holder(domain, sku) as (conn, pid):
        with counted_statements(domain.engine) as statements:
            answer = asyncio.create_task(_reserve(domain, sku, 4, f"{sku}:second"))
            waits = asyncio.create_task(someone_waits_for(domain, pid))
            assert await first_of(answer, waits) == "answer", "the refusal waited for the lock"
        assert conn.in_transaction(), "the holder still holds the row"
        with pytest.raises(InsufficientStock) as refused:
            await answer
    assert refused.value.details == {
        "sku": sku,
        "locationId": "DC",
        "requested": 4,
        "available": 2,
    }
    # The lock skipping its held row, the committed stock, the keys: none of them a wait.
    reservation_statements = [s for s in statements if "pg_stat_activity" not in s]
    assert len(reservation_statements) == 3, "\n".join(reservation_statements)
    assert (await _level(domain, sku)).reserved == 3


async def test_a_whole_repeat_is_answered_while_the_stock_row_is_held(
    domain: InventoryDomain,
) -> None:
    """The repeat finds the stock short as a new request would; its keys answer it."""
    sku = new_sku()
    await stock(domain, sku, on_hand=3)
    first = await _reserve(domain, sku, 3, f"{sku}:1")
    async with holder(domain, sku) as (conn, pid):
        answer = asyncio.create_task(_reserve(domain, sku, 3, f"{sku}:1"))
        waits = asyncio.create_task(someone_waits_for(domain, pid))
        assert await first_of(answer, waits) == "answer", "the repeat waited for the lock"
        assert conn.in_transaction()
        assert (await answer).id == first.id
    assert (await _level(domain, sku)).reserved == 3


async def test_a_reservation_the_committed_stock_can_hold_waits_and_holds_after_the_holder(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    async with holder(domain, sku) as (conn, pid):
        answer = asyncio.create_task(_reserve(domain, sku, 2, f"{sku}:1"))
        waits = asyncio.create_task(someone_waits_for(domain, pid))
        assert await first_of(answer, waits) == "wait"
        assert not answer.done()
        await conn.commit()
        reservation = await answer
    assert reservation.quantity == 2
    assert (await _level(domain, sku)).reserved == 2


async def test_units_the_holder_took_before_committing_refuse_the_waiting_reservation(
    domain: InventoryDomain,
) -> None:
    """The committed stock showed enough; under the lock, after the holder, it is short."""
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    async with holder(domain, sku) as (conn, pid):
        now = domain.clock.now()
        await conn.execute(
            insert(tables.reservations).values(
                id=f"held-{sku}",
                idempotency_key=f"{sku}:holder",
                sku=sku,
                location_id="DC",
                quantity=4,
                status=ReservationStatus.ACTIVE.value,
                expires_at=now + timedelta(minutes=15),
                created_at=now,
                updated_at=now,
            )
        )
        answer = asyncio.create_task(_reserve(domain, sku, 3, f"{sku}:1"))
        waits = asyncio.create_task(someone_waits_for(domain, pid))
        assert await first_of(answer, waits) == "wait"
        await conn.commit()
        with pytest.raises(InsufficientStock) as refused:
            await answer
    assert refused.value.details["available"] == 1
    level = await _level(domain, sku)
    assert (level.reserved, level.available) == (4, 1)


def _batch_order(key: str, sku: str) -> list[service.ReservationRequest]:
    return [service.ReservationRequest(sku, "DC", 1, f"{key}:1", order_reference=key)]


async def test_orders_of_a_batch_with_a_held_stock_row_are_reserved_alone(
    domain: InventoryDomain,
) -> None:
    """A batch of reservations (docs/adr/0016) never waits for another transaction's
    locks: the order whose stock row is held waits for it alone, and the batch's other
    order is answered meanwhile."""
    held_sku, free_sku = new_sku(), new_sku()
    await stock(domain, held_sku, on_hand=10)
    await stock(domain, free_sku, on_hand=10)
    async with holder(domain, held_sku) as (_conn, pid):
        waiting = asyncio.create_task(domain.reservations.reserve(_batch_order("w", held_sku)))
        free = asyncio.create_task(domain.reservations.reserve(_batch_order("f", free_sku)))
        await someone_waits_for(domain, pid)
        assert [r.sku for r in await asyncio.wait_for(free, 30)] == [free_sku]
        assert not waiting.done()
    assert [r.sku for r in await waiting] == [held_sku]
