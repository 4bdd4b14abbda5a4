"""Orders that wait while a batch of reservations runs are decided together, in one
transaction, each every line or none, in the order they arrived; one the batch cannot
decide is reserved alone, as it would have been without batches.

Concurrent callers here are tasks started together: each joins the queue before the
batch work that the first started runs, so they form one batch.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest

from domains.inventory import repository, service
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.errors import (
    IdempotencyKeyReused,
    InsufficientStock,
    InvalidInventoryInput,
)
from domains.inventory.model import Reservation, StockLevel
from domains.inventory.service import ReservationRequest
from tests.conftest import EngineFactory
from tests.integration.inventory.conftest import (
    counted_statements,
    new_sku,
    open_domain,
    seed_locations,
    stock,
)


def _order(key: str, *lines: tuple[str, int]) -> list[ReservationRequest]:
    return [
        ReservationRequest(sku, "DC", quantity, f"{key}:{n}", order_reference=key, channel="web")
        for n, (sku, quantity) in enumerate(lines, start=1)
    ]


async def _together(
    domain: InventoryDomain, *orders: Sequence[ReservationRequest]
) -> list[list[Reservation] | BaseException]:
    return await asyncio.gather(
        *(domain.reservations.reserve(order) for order in orders), return_exceptions=True
    )


async def _level(domain: InventoryDomain, sku: str) -> StockLevel:
    async with domain.engine.connect() as conn:
        (level,) = await repository.load_levels(conn, [sku], domain.clock.now())
    return level


async def test_orders_that_arrive_together_are_reserved_in_one_transaction_of_three_statements(
    domain: InventoryDomain,
) -> None:
    skus = [new_sku() for _ in range(4)]
    for sku in skus:
        await stock(domain, sku, on_hand=50)
    first = _order("first", (skus[0], 1))
    waiting = [_order(f"o{n}", (skus[n % 4], 2), (skus[(n + 1) % 4], 1)) for n in range(6)]

    with counted_statements(domain.engine) as statements:
        answers = await _together(domain, first, *waiting)

    assert [[(r.sku, r.quantity) for r in answer] for answer in answers] == [  # type: ignore[union-attr]
        [(r.sku, r.quantity) for r in order] for order in [first, *waiting]
    ]
    # The lock, the stock, the reservations with their events (SQLite: no lock, and the
    # events apart), for the seven orders as for one.
    assert len(statements) == 3, "\n".join(statements)
    for sku in skus:
        assert (await _level(domain, sku)).reserved == sum(
            r.quantity for order in [first, *waiting] for r in order if r.sku == sku
        )


async def test_a_batch_sells_no_more_than_the_stock_in_the_order_the_orders_arrived(
    domain: InventoryDomain,
) -> None:
    """Each order takes every line or none: the third finds one unit for its two, and the
    fourth's second line is short though its first is not."""
    scarce, plenty = new_sku(), new_sku()
    await stock(domain, scarce, on_hand=5)
    await stock(domain, plenty, on_hand=50)
    orders = [
        _order("a", (plenty, 1)),
        _order("b", (scarce, 2)),
        _order("c", (scarce, 2), (plenty, 3)),
        _order("d", (scarce, 2)),
        _order("e", (plenty, 4), (scarce, 1)),
    ]

    answers = await _together(domain, *orders)

    assert [type(a).__name__ for a in answers] == [
        "list",
        "list",
        "list",
        "InsufficientStock",
        "list",
    ]
    refusal = answers[3]
    assert isinstance(refusal, InsufficientStock)
    assert refusal.details["available"] == 1
    assert (await _level(domain, scarce)).reserved == 5
    assert (await _level(domain, plenty)).reserved == 8
    with pytest.raises(InsufficientStock):
        await domain.reservations.reserve(_order("f", (plenty, 1), (scarce, 1)))
    assert (await _level(domain, plenty)).reserved == 8


async def test_a_repeat_in_a_batch_is_answered_with_the_reservations_made_before(
    domain: InventoryDomain,
) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=4)
    placed = await domain.reservations.reserve(_order("placed", (sku, 3)))

    again, other, twice_a, twice_b = await _together(
        domain,
        _order("placed", (sku, 3)),
        _order("other", (sku, 1)),
        _order("twice", (sku, 5)),
        _order("twice", (sku, 5)),
    )

    assert [r.id for r in again] == [r.id for r in placed]  # type: ignore[union-attr]
    assert [r.quantity for r in other] == [1]  # type: ignore[union-attr]
    assert isinstance(twice_a, InsufficientStock)
    assert isinstance(twice_b, InsufficientStock)
    assert (await _level(domain, sku)).reserved == 4


async def test_two_callers_with_one_key_in_a_batch_get_one_reservation(
    domain: InventoryDomain,
) -> None:
    """The batch's insert meets the key twice: every order of it is reserved alone, the
    first of the two callers to get there makes the reservation and the other gets it."""
    sku = new_sku()
    await stock(domain, sku, on_hand=10)

    one, same, other = await _together(
        domain, _order("k", (sku, 2)), _order("k", (sku, 2)), _order("m", (sku, 1))
    )

    assert [r.id for r in one] == [r.id for r in same]  # type: ignore[union-attr]
    assert [r.quantity for r in other] == [1]  # type: ignore[union-attr]
    assert (await _level(domain, sku)).reserved == 3
    with pytest.raises(IdempotencyKeyReused):
        await domain.reservations.reserve(_order("k", (sku, 3)))


async def test_an_invalid_order_is_refused_to_its_caller_alone(domain: InventoryDomain) -> None:
    sku = new_sku()
    await stock(domain, sku, on_hand=10)
    bad = [*_order("bad", (sku, 1)), *_order("bad", (sku, 1))]  # one key twice

    good, refused, also_good = await _together(
        domain, _order("g1", (sku, 1)), bad, _order("g2", (sku, 2))
    )

    assert isinstance(refused, InvalidInventoryInput)
    assert [r.quantity for r in good] == [1]  # type: ignore[union-attr]
    assert [r.quantity for r in also_good] == [2]  # type: ignore[union-attr]
    assert (await _level(domain, sku)).reserved == 3


async def test_reserving_together_decides_each_order_as_one_after_the_other(
    domain: InventoryDomain,
) -> None:
    """The service call itself: reservations, a refusal, or None for an order to be
    reserved alone (here a repeat that the stock no longer holds)."""
    sku = new_sku()
    await stock(domain, sku, on_hand=3)
    await service.reserve_stock_lines(domain.uow(), _order("r", (sku, 2)))

    decisions = await service.reserve_together(
        domain.uow(), [_order("n", (sku, 1)), _order("r", (sku, 2)), _order("m", (sku, 1))]
    )

    held, repeat, short = decisions
    assert isinstance(held, list)
    assert [r.quantity for r in held] == [1]
    assert repeat is None
    assert isinstance(short, InsufficientStock)
    assert (await _level(domain, sku)).reserved == 3


async def test_batches_on_two_engines_sell_each_unit_once_and_every_order_whole(
    make_engine: EngineFactory,
) -> None:
    """Two processes' batches (one per engine, as two replicas) meet on the same stock
    rows: 60 orders of one to three lines over three scarce SKUs, each line 1 to 3 units.
    Every order is reserved whole or refused whole, and no SKU is sold beyond its stock."""
    first = await open_domain(await make_engine())
    second = await open_domain(await make_engine())
    await seed_locations(first)
    skus = [new_sku() for _ in range(3)]
    for sku in skus:
        await stock(first, sku, on_hand=20)
    rng = random.Random(16)
    orders = [
        _order(f"o{n}", *((sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 3))))
        for n in range(60)
    ]

    answers = await asyncio.gather(
        *((first, second)[n % 2].reservations.reserve(order) for n, order in enumerate(orders)),
        return_exceptions=True,
    )

    for order, answer in zip(orders, answers, strict=True):
        if isinstance(answer, BaseException):
            assert isinstance(answer, InsufficientStock), repr(answer)
        else:
            assert [(r.sku, r.quantity) for r in answer] == [(r.sku, r.quantity) for r in order]
    for sku in skus:
        held = sum(
            r.quantity
            for answer in answers
            if not isinstance(answer, BaseException)
            for r in answer
            if r.sku == sku
        )
        level = await _level(first, sku)
        assert level.reserved == held <= 20
    assert any(isinstance(answer, InsufficientStock) for answer in answers), "stock ran short"
