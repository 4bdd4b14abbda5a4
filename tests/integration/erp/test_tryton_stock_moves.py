"""A WMS's movements posted to the real Tryton as done stock moves between the right
locations, found again by reference on retry, and told apart from Tryton's own moves by
the stock-move feed."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from erp.port import CUSTOMER, LOST_FOUND, STORAGE, SUPPLIER, TRANSIT, StockMovePosting
from erp.sync.moves import Skipped, is_our_movement, movements_for
from erp.tryton.erp import TrytonErp
from retailgraph.demo.catalog import demo_catalog

pytestmark = pytest.mark.tryton

DC, STORE = "DC-NORTH", "STORE-BERLIN"


def _reference() -> str:
    return f"MV-{uuid.uuid4().hex[:20]}/1"


async def _levels(tryton: TrytonErp, sku: str) -> dict[str, Decimal]:
    found = await tryton.stock_levels(skus=[sku], locations=[DC, STORE])
    return {level.location: level.quantity for level in found}


async def test_each_kind_of_movement_is_a_done_move_between_the_right_locations_once(
    tryton: TrytonErp,
) -> None:
    sku = demo_catalog().items[7].sku
    before = await _levels(tryton, sku)
    watermark = (await tryton.stock_moves_since(None)).watermark
    posted = [
        # received from a supplier at the DC: 6
        StockMovePosting(_reference(), sku, Decimal(6), None, DC, from_kind=SUPPLIER),
        # 4 leave the DC for the store: in transit, then landed
        StockMovePosting(_reference(), sku, Decimal(4), DC, None, to_kind=TRANSIT),
        StockMovePosting(_reference(), sku, Decimal(4), None, STORE, from_kind=TRANSIT),
        # the store counts one fewer, and a customer brings one back
        StockMovePosting(_reference(), sku, Decimal(1), STORE, None, to_kind=LOST_FOUND),
        StockMovePosting(_reference(), sku, Decimal(1), None, STORE, from_kind=CUSTOMER),
    ]
    documents = [await tryton.post_stock_move(move) for move in posted]

    after = await _levels(tryton, sku)
    assert after == {DC: before[DC] + 6 - 4, STORE: before[STORE] + 4 - 1 + 1}
    # A retry finds each document by its reference and moves nothing again.
    assert [await tryton.post_stock_move(move) for move in posted] == documents
    assert await _levels(tryton, sku) == after

    page = await tryton.stock_moves_since(watermark)
    ours = [move for move in page.moves if move.sku == sku and move.reference]
    assert {move.reference for move in ours} == {move.reference for move in posted}
    assert all(move.state == "done" for move in ours)
    # Each crosses into or out of a warehouse of ours the way its movement did (a shipment
    # from outside also puts the goods away inside the warehouse, which crosses nothing).
    crossing = {
        (m.from_kind, m.from_warehouse, m.to_kind, m.to_warehouse)
        for m in ours
        if m.from_warehouse != m.to_warehouse
    }
    assert crossing == {
        (SUPPLIER, None, STORAGE, DC),
        (STORAGE, DC, TRANSIT, None),
        (TRANSIT, None, STORAGE, STORE),
        (STORAGE, STORE, LOST_FOUND, None),
        (CUSTOMER, None, STORAGE, STORE),
    }
    # The feed recognises them as ours and changes none of our stock for them.
    for move in ours:
        assert is_our_movement(move)
        assert isinstance(movements_for(move, {DC, STORE}), Skipped)


async def test_a_move_for_an_unknown_product_is_refused_for_good(tryton: TrytonErp) -> None:
    from erp.port import ErpRejected

    with pytest.raises(ErpRejected):
        await tryton.post_stock_move(
            StockMovePosting(_reference(), "NO-SUCH-SKU", Decimal(1), None, DC, SUPPLIER)
        )
