"""Order queries on both backends: keyset pages, recent orders per SKU and per location."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domains.orders import repository
from domains.orders.bootstrap import OrdersDomain
from domains.orders.errors import DuplicateOrder, InvalidOrderInput
from domains.orders.model import NewLine
from tests.integration.orders.conftest import make_order

SAME_MOMENT = datetime(2026, 7, 1, 12, tzinfo=UTC)


async def test_orders_created_at_the_same_moment_page_without_gaps_or_repeats(
    domain: OrdersDomain,
) -> None:
    location = f"DC-{uuid.uuid4().hex[:6]}"
    made = [await make_order(domain, location_id=location, at=SAME_MOMENT) for _ in range(5)]
    where = repository.OrderFilter(location_id=location)
    seen: list[str] = []
    after = None
    async with domain.engine.connect() as conn:
        while True:
            page = await repository.list_orders(conn, where, first=2, after=after)
            seen += [order.id for order in page.orders]
            if not page.has_next_page:
                break
            after = page.cursors[-1]
    assert seen == [order.id for order in reversed(made)]  # ties: the later insert first


async def test_recent_orders_by_sku_count_an_order_once_when_two_lines_hold_the_sku(
    domain: OrdersDomain,
) -> None:
    sku = f"SKU-{uuid.uuid4().hex[:8]}"
    twice = [NewLine(sku, 1, Decimal("3.00")), NewLine(sku, 2, Decimal("3.00"))]
    older = await make_order(domain, lines=twice, at=datetime(2026, 7, 1, tzinfo=UTC))
    newer = await make_order(domain, lines=twice[:1], at=datetime(2026, 7, 2, tzinfo=UTC))
    async with domain.engine.connect() as conn:
        found = await repository.recent_order_ids_by_sku(conn, [sku, "NONE"], first=5)
        only_one = await repository.recent_order_ids_by_sku(conn, [sku], first=1)
    assert found == {sku: [newer.id, older.id], "NONE": []}
    assert only_one == {sku: [newer.id]}


async def test_recent_orders_by_location_rank_per_location(domain: OrdersDomain) -> None:
    north, south = (f"DC-{uuid.uuid4().hex[:6]}" for _ in range(2))
    at_north = [
        await make_order(domain, location_id=north, at=datetime(2026, 7, d, tzinfo=UTC))
        for d in (1, 2, 3)
    ]
    at_south = await make_order(domain, location_id=south)
    async with domain.engine.connect() as conn:
        found = await repository.recent_order_ids_by_location(conn, [north, south], first=2)
        pending = await repository.recent_order_ids_by_location(conn, [north], 5, "CANCELLED")
    assert found == {north: [at_north[2].id, at_north[1].id], south: [at_south.id]}
    assert pending == {north: []}


@pytest.mark.parametrize("cursor", ["", "not-base64!", "bm8tc2VwYXJhdG9y", "YXxi"])
async def test_a_cursor_we_did_not_give_out_is_bad_input(domain: OrdersDomain, cursor: str) -> None:
    async with domain.engine.connect() as conn:
        with pytest.raises(InvalidOrderInput):
            await repository.list_orders(conn, repository.OrderFilter(), first=1, after=cursor)


async def test_a_second_order_with_the_same_key_is_refused_and_the_transaction_goes_on(
    domain: OrdersDomain,
) -> None:
    first = await make_order(domain)
    clash = replace(first, id=str(uuid.uuid4()), lines=[], sequence=None)
    async with domain.uow() as uow:
        with pytest.raises(DuplicateOrder):
            await uow.orders.add(clash)
        assert (await uow.orders.get(first.id)) is not None
