"""Reservations hold stock until released, consumed or expired, once per idempotency key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from domains.inventory import repository, service, tables
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.errors import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidInventoryInput,
    InvalidTransition,
    ReservationNotFound,
    UnknownLocation,
    UnknownSku,
)
from domains.inventory.model import ReservationStatus, StockLevel
from domains.inventory.service import ReservationRequest
from tests.conftest import EngineFactory
from tests.integration.inventory.conftest import (
    counted_statements,
    new_sku,
    open_domain,
    seed_locations,
    stock,
)


async def _level(domain: InventoryDomain, sku: str, location_id: str = "DC") -> StockLevel:
    async with domain.engine.connect() as conn:
        levels = await repository.load_levels(conn, [sku], domain.clock.now())
    return next(level for level in levels if level.location_id == location_id)


async def _reserve(domain: InventoryDomain, sku: str, quantity: int, key: str, **options: object):
    return await service.reserve_stock(
        domain.uow(), sku=sku, location_id="DC", quantity=quantity, idempotency_key=key, **options
    )


async def test_reservation_holds_units_out_of_available(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10, safety_stock=2)
    reservation = await _reserve(domain, sku, 3, "k-1", order_reference="O-1")
    level = await _level(domain, sku)
    assert (level.reserved, level.available) == (3, 5)
    assert reservation.status is ReservationStatus.ACTIVE
    assert reservation.order_reference == "O-1"


async def test_repeat_with_the_same_key_returns_the_same_reservation(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    first = await _reserve(domain, sku, 3, "k-same")
    again = await _reserve(domain, sku, 3, "k-same")
    assert again.id == first.id
    assert (await _level(domain, sku)).reserved == 3


async def test_the_same_key_for_a_different_request_is_a_conflict(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    await _reserve(domain, sku, 3, "k-reused")
    with pytest.raises(IdempotencyKeyReused):
        await _reserve(domain, sku, 4, "k-reused")


async def test_out_of_stock_reports_what_is_available(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5, quarantined=1)
    with pytest.raises(InsufficientStock) as caught:
        await _reserve(domain, sku, 5, "k-oos")
    assert caught.value.code == "INSUFFICIENT_STOCK"
    assert caught.value.details["available"] == 4


async def test_unknown_location_and_unknown_sku_have_their_own_codes(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    with pytest.raises(UnknownLocation):
        await service.reserve_stock(
            domain.uow(), sku=sku, location_id="NOWHERE", quantity=1, idempotency_key="k-loc"
        )
    with pytest.raises(UnknownSku):
        await _reserve(domain, new_sku(), 1, "k-sku")
    with pytest.raises(InsufficientStock):
        await service.reserve_stock(
            domain.uow(), sku=sku, location_id="ST", quantity=1, idempotency_key="k-none-here"
        )


async def test_bad_reservation_input_is_refused(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    for quantity, ttl in [(0, 60), (-3, 60), (1, 0), (1, -5)]:
        with pytest.raises(InvalidInventoryInput):
            await _reserve(domain, sku, quantity, "k-bad", ttl_seconds=ttl)


async def test_expired_reservations_stop_counting_before_and_after_the_sweep(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    past = domain.clock.now() - timedelta(minutes=20)
    expired = await _reserve(domain, sku, 4, "k-old", ttl_seconds=60, now=past)
    live = await _reserve(domain, sku, 1, "k-new")
    level = await _level(domain, sku)
    assert (level.reserved, level.available) == (1, 9)
    # The full 9 can be reserved although the expired one was never swept.
    await _reserve(domain, sku, 9, "k-rest")
    swept = await service.expire_reservations(domain.uow())
    assert [r.id for r in swept] == [expired.id]
    async with domain.engine.connect() as conn:
        statuses = dict(
            (
                await conn.execute(select(tables.reservations.c.id, tables.reservations.c.status))
            ).all()
        )
    assert statuses[expired.id] == "EXPIRED"
    assert statuses[live.id] == "ACTIVE"
    assert await service.expire_reservations(domain.uow()) == []


async def test_release_gives_units_back_and_is_idempotent(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    reservation = await _reserve(domain, sku, 6, "k-rel")
    released = await service.release_reservation(domain.uow(), idempotency_key="k-rel")
    again = await service.release_reservation(domain.uow(), id=reservation.id)
    assert released.status is again.status is ReservationStatus.RELEASED
    assert (await _level(domain, sku)).available == 10


async def test_releasing_a_reservation_takes_four_statements(domain: InventoryDomain) -> None:
    """Lock the reservation, mark it released, read the stock its events report, insert
    the events."""
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    await _reserve(domain, sku, 6, f"{sku}:1")
    with counted_statements(domain.engine) as statements:
        await service.release_reservation(domain.uow(), idempotency_key=f"{sku}:1")
    assert len(statements) == 4, "\n".join(statements)


async def test_release_needs_exactly_one_known_reference(domain: InventoryDomain) -> None:
    with pytest.raises(InvalidInventoryInput):
        await service.release_reservation(domain.uow())
    with pytest.raises(ReservationNotFound):
        await service.release_reservation(domain.uow(), id="no-such-reservation")


async def test_consumed_reservation_becomes_committed_stock(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    reservation = await _reserve(domain, sku, 4, "k-con")
    consumed = await service.consume_reservation(domain.uow(), id=reservation.id)
    assert consumed.status is ReservationStatus.CONSUMED
    level = await _level(domain, sku)
    assert (level.committed, level.reserved, level.available) == (4, 0, 6)
    with pytest.raises(InvalidTransition):
        await service.release_reservation(domain.uow(), id=reservation.id)


async def test_reservation_events_go_to_the_outbox_with_the_change(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    await _reserve(domain, sku, 2, "k-ev")
    async with domain.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(tables.outbox.c.type, tables.outbox.c.partition_key, tables.outbox.c.payload)
                .where(tables.outbox.c.partition_key.like(f"{sku}@%"))
                .order_by(tables.outbox.c.seq)
            )
        ).all()
    latest = [(t, key, payload) for t, key, payload in rows][-5:]
    assert [t for t, _, _ in latest] == [
        "ReservationCreated",
        "StockChanged",
        "AvailabilityChanged",
        "AvailabilityChanged",
        "RegionalAvailabilityChanged",
    ]
    stock_changed = latest[1][2]
    assert latest[1][1] == f"{sku}@DC"
    assert stock_changed["reserved"] == 2
    assert stock_changed["available"] == 8
    assert {p["channel"]: p["available"] for _, _, p in latest[2:4]} == {"app": 4, "web": 8}
    assert latest[4][1:] == (f"{sku}@north", {"sku": sku, "region": "north", "available": 8})


def _line(sku: str, quantity: int, key: str, location_id: str = "DC") -> ReservationRequest:
    return ReservationRequest(sku, location_id, quantity, key, order_reference="O-9")


async def test_an_orders_lines_are_reserved_together(domain: InventoryDomain) -> None:
    shirt, socks = new_sku(), new_sku()
    await stock(domain, shirt, on_hand=5)
    await stock(domain, socks, on_hand=5, location_id="ST")
    lines = [_line(shirt, 2, "o:1"), _line(socks, 1, "o:2", "ST"), _line(shirt, 3, "o:3")]
    reserved = await service.reserve_stock_lines(domain.uow(), lines)
    assert [(r.sku, r.quantity) for r in reserved] == [(shirt, 2), (socks, 1), (shirt, 3)]
    again = await service.reserve_stock_lines(domain.uow(), lines)
    assert [r.id for r in again] == [r.id for r in reserved]
    assert (await _level(domain, shirt)).available == 0


async def _outbox_size(domain: InventoryDomain) -> int:
    async with domain.engine.connect() as conn:
        return len((await conn.execute(select(tables.outbox.c.seq))).all())


async def test_a_repeat_of_an_order_that_took_the_last_units_returns_its_reservations(
    domain: InventoryDomain,
) -> None:
    """The stock is short for the repeat as a new order, and it records nothing."""
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    lines = [_line(sku, 2, f"{sku}:1"), _line(sku, 3, f"{sku}:2")]
    reserved = await service.reserve_stock_lines(domain.uow(), lines)
    events = await _outbox_size(domain)
    again = await service.reserve_stock_lines(domain.uow(), lines)
    assert [r.id for r in again] == [r.id for r in reserved]
    assert await _outbox_size(domain) == events
    assert (await _level(domain, sku)).reserved == 5
    with pytest.raises(IdempotencyKeyReused):
        await service.reserve_stock_lines(
            domain.uow(), [_line(sku, 2, f"{sku}:1"), _line(sku, 4, f"{sku}:2")]
        )


async def test_a_repeat_in_stock_returns_its_reservations_and_records_nothing(
    domain: InventoryDomain,
) -> None:
    """The stock would hold the repeat again as a new order: the unique key refuses it."""
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    lines = [_line(sku, 2, f"{sku}:1"), _line(sku, 3, f"{sku}:2")]
    reserved = await service.reserve_stock_lines(domain.uow(), lines)
    events = await _outbox_size(domain)
    again = await service.reserve_stock_lines(domain.uow(), lines)
    assert [r.id for r in again] == [r.id for r in reserved]
    assert await _outbox_size(domain) == events
    assert (await _level(domain, sku)).reserved == 5
    more = await service.reserve_stock_lines(domain.uow(), [*lines, _line(sku, 4, f"{sku}:3")])
    assert [r.id for r in more[:2]] == [r.id for r in reserved]
    assert (await _level(domain, sku)).reserved == 9


async def test_reserving_a_three_line_order_at_one_location_takes_three_statements(
    domain: InventoryDomain, backend: str
) -> None:
    """Lock the three stock rows, read the stock, insert the three reservations with their
    events (ADR 0015); SQLite has no row lock to take, and inserts the events apart. New
    keys are not looked up."""
    skus = [new_sku() for _ in range(3)]
    for sku in skus:
        await stock(domain, sku, on_hand=5)
    lines = [
        ReservationRequest(sku, "DC", 2, f"{skus[0]}:{n}", order_reference="O-3", channel="web")
        for n, sku in enumerate(skus, start=1)
    ]
    with counted_statements(domain.engine) as statements:
        await service.reserve_stock_lines(domain.uow(), lines)
    assert len(statements) == 3, "\n".join(statements)


async def test_one_short_line_reserves_nothing_of_the_order(domain: InventoryDomain) -> None:
    shirt, socks = new_sku(), new_sku()
    await stock(domain, shirt, on_hand=5)
    await stock(domain, socks, on_hand=1)
    lines = [_line(shirt, 2, "p:1"), _line(socks, 1, "p:2"), _line(socks, 1, "p:3")]
    with pytest.raises(InsufficientStock) as caught:
        await service.reserve_stock_lines(domain.uow(), lines)
    assert caught.value.details == {
        "sku": socks,
        "locationId": "DC",
        "requested": 2,
        "available": 1,
    }
    assert (await _level(domain, shirt)).reserved == 0


async def test_lines_must_each_have_their_own_key_and_be_a_sane_number(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=5)
    for lines in ([], [_line(sku, 1, "same"), _line(sku, 1, "same")]):
        with pytest.raises(InvalidInventoryInput):
            await service.reserve_stock_lines(domain.uow(), lines)


async def test_concurrent_reservations_on_two_engines_never_oversell(
    make_engine: EngineFactory,
) -> None:
    first = await open_domain(await make_engine())
    second = await open_domain(await make_engine())
    await seed_locations(first)
    sku = new_sku()
    await stock(first, sku, on_hand=5)

    async def attempt(number: int) -> bool:
        try:
            await _reserve((first, second)[number % 2], sku, 1, f"{sku}-{number}")
        except InsufficientStock:
            return False
        return True

    results = await asyncio.gather(*(attempt(n) for n in range(20)))
    assert results.count(True) == 5
    assert (await _level(first, sku)).available == 0
