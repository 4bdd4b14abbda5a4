from __future__ import annotations

import datetime
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from erp.port import (
    Cancellation,
    ErpRejected,
    ErpUnavailable,
    OrderLine,
    SalesOrder,
    dedupe_moves,
)
from erp.tryton.erp import TrytonErp
from retailgraph.demo.catalog import demo_catalog
from tests.integration.erp.seed_tryton import SKUS, STOCK_PER_SKU
from tests.integration.erp.tryton_server import running_server

pytestmark = pytest.mark.tryton

CUSTOMER = "RetailGraph Web Shop"


def order(*lines: tuple[str, int], reference: str | None = None) -> SalesOrder:
    return SalesOrder(
        reference=reference or f"RG-{uuid.uuid4().hex[:12]}",
        customer_ref=CUSTOMER,
        currency="EUR",
        lines=tuple(OrderLine(sku, Decimal(q), Decimal("19.99")) for sku, q in lines),
        correlation_id=uuid.uuid4().hex,
    )


async def test_sales_order_is_confirmed_in_tryton_and_found_by_reference(
    tryton: TrytonErp,
) -> None:
    posted = order((SKUS[0], 2), (SKUS[1], 1))
    document_id = await tryton.post_sales_order(posted)
    sale = await tryton.find_sale(posted.reference)
    assert sale is not None
    assert sale.document_id == document_id
    assert sale.state in ("confirmed", "processing")
    assert sorted((line.sku, line.quantity) for line in sale.lines) == [
        (SKUS[0], Decimal(2)),
        (SKUS[1], Decimal(1)),
    ]
    assert await tryton.find_sale(f"RG-missing-{uuid.uuid4().hex}") is None


async def test_sales_order_ships_from_the_chosen_demo_location(tryton: TrytonErp) -> None:
    item = demo_catalog().items[0]
    posted = replace(order((item.sku, 1)), location="DC-SOUTH")
    await tryton.post_sales_order(posted)
    sale = await tryton.find_sale(posted.reference)
    assert sale is not None
    assert sale.location == "DC-SOUTH"
    assert [line.sku for line in sale.lines] == [item.sku]


async def test_sales_order_posted_twice_is_one_tryton_sale(tryton: TrytonErp) -> None:
    posted = order((SKUS[0], 1))
    first = await tryton.post_sales_order(posted)
    second = await tryton.post_sales_order(posted)
    assert first == second
    sales = await tryton.call(
        "sale.sale.search_read", [("reference", "=", posted.reference)], 0, None, None, ["id"]
    )
    assert len(sales) == 1


async def test_draft_left_by_a_crash_is_resumed_not_duplicated(tryton: TrytonErp) -> None:
    posted = order((SKUS[1], 1))
    draft_id = await tryton._create_sale(posted)
    document_id = await tryton.post_sales_order(posted)
    assert document_id == str(draft_id)
    sale = await tryton.find_sale(posted.reference)
    assert sale is not None
    assert sale.state in ("confirmed", "processing")


async def test_quotation_left_by_a_crash_is_confirmed_on_retry(tryton: TrytonErp) -> None:
    posted = order((SKUS[2], 1))
    quoted_id = await tryton._create_sale(posted)
    await tryton.call("sale.sale.quote", [quoted_id])
    assert await tryton.post_sales_order(posted) == str(quoted_id)
    sale = await tryton.find_sale(posted.reference)
    assert sale is not None
    assert sale.state in ("confirmed", "processing")


async def test_sale_carries_the_correlation_id(tryton: TrytonErp) -> None:
    posted = order((SKUS[0], 1))
    document_id = await tryton.post_sales_order(posted)
    (sale,) = await tryton.call("sale.sale.read", [int(document_id)], ["comment"])
    assert posted.correlation_id in sale["comment"]


async def test_cancelled_draft_is_not_sold_again_by_a_replayed_post(tryton: TrytonErp) -> None:
    posted = order((SKUS[1], 1))
    draft_id = await tryton._create_sale(posted)
    await tryton.post_cancellation(Cancellation(posted.reference))
    await tryton.post_cancellation(Cancellation(posted.reference))
    assert await tryton.post_sales_order(posted) == str(draft_id)
    sale = await tryton.find_sale(posted.reference)
    assert sale is not None
    assert sale.state == "cancelled"


async def quantity_at(tryton: TrytonErp, sku: str, location: str) -> Decimal:
    (level,) = await tryton.stock_levels(skus=[sku], locations=[location])
    return level.quantity


async def test_return_is_a_tryton_sale_with_negative_quantities(tryton: TrytonErp) -> None:
    sold = order((SKUS[2], 3))
    await tryton.post_sales_order(sold)
    # Received at a demo store: the stock at WH is other tests' to count.
    store = "STORE-BERLIN"
    before = await quantity_at(tryton, SKUS[2], store)
    returned = replace(order((SKUS[2], 3), reference=f"{sold.reference}/R1"), location=store)
    posted = await tryton.post_return(returned)
    assert await tryton.post_return(returned) == posted  # a retry finds it, receives nothing
    sale = await tryton.find_sale(returned.reference)
    assert sale is not None
    assert [line.quantity for line in sale.lines] == [Decimal(-3)]
    assert sale.location == store
    # Tryton's return shipment is received and done: the units are in the store's stock.
    assert await quantity_at(tryton, SKUS[2], store) == before + 3


async def _line_states(tryton: TrytonErp, reference: str) -> dict[str, set[str]]:
    """Per SKU, the states of the sale's moves that Tryton still expects to happen."""
    sale = await tryton.find_sale(reference)
    assert sale is not None
    lines = await tryton.call(
        "sale.line.search_read", [("sale", "=", int(sale.document_id))], 0, None, None,
        ["product.code", "moves", "moves_ignored"],
    )  # fmt: skip
    states: dict[str, set[str]] = {}
    for line in lines:
        live = [m for m in line["moves"] if m not in line["moves_ignored"]]
        moves = await tryton.call("stock.move.read", live, ["state"]) if live else []
        states[line["product."]["code"]] = {move["state"] for move in moves} - {"cancelled"}
    return states


async def test_cancelling_some_lines_of_a_confirmed_sale_keeps_the_others(
    tryton: TrytonErp,
) -> None:
    posted = order((SKUS[0], 1), (SKUS[1], 2))
    await tryton.post_sales_order(posted)
    cancellation = Cancellation(posted.reference, skus=(SKUS[1],))
    await tryton.post_cancellation(cancellation)
    await tryton.post_cancellation(cancellation)  # a retry changes nothing
    states = await _line_states(tryton, posted.reference)
    assert states[SKUS[1]] == set()
    assert states[SKUS[0]], "the kept line still has a move to ship"
    assert states[SKUS[0]] <= {"draft", "assigned"}


async def test_cancelling_a_whole_confirmed_sale_stops_all_its_moves(tryton: TrytonErp) -> None:
    posted = order((SKUS[0], 1), (SKUS[2], 1))
    await tryton.post_sales_order(posted)
    await tryton.post_cancellation(Cancellation(posted.reference))
    assert await _line_states(tryton, posted.reference) == {SKUS[0]: set(), SKUS[2]: set()}


async def test_unknown_sku_is_rejected_with_the_reason(tryton: TrytonErp) -> None:
    with pytest.raises(ErpRejected, match="NOT-A-SKU"):
        await tryton.post_sales_order(order(("NOT-A-SKU", 1)))


async def test_stock_levels_per_sku_and_warehouse(tryton: TrytonErp) -> None:
    levels = await tryton.stock_levels(skus=list(SKUS), locations=["WH"])
    assert sorted(level.sku for level in levels) == sorted(SKUS)
    assert {level.location for level in levels} == {"WH"}
    for level in levels:
        # Sales only plan moves; the stock stays until a shipment is done.
        assert level.quantity == Decimal(STOCK_PER_SKU)


async def test_stock_levels_match_the_demo_catalog_locations(tryton: TrytonErp) -> None:
    catalog = demo_catalog()
    rows = [row for row in catalog.stock if row.sku in {i.sku for i in catalog.items[:3]}]
    levels = await tryton.stock_levels(
        skus=sorted({row.sku for row in rows}), locations=[loc.id for loc in catalog.locations]
    )
    found = {(level.sku, level.location): level.quantity for level in levels if level.quantity}
    assert found == {
        (row.sku, row.location_id): Decimal(row.on_hand) for row in rows if row.on_hand
    }


async def test_stock_moves_since_watermark_include_new_sales_once(tryton: TrytonErp) -> None:
    first = await tryton.stock_moves_since(None)
    assert first.watermark is not None
    seen: set[str] = set()
    dedupe_moves(list(first.moves), seen)

    posted = order((SKUS[0], 4))
    await tryton.post_sales_order(posted)
    page = await tryton.stock_moves_since(first.watermark, overlap=datetime.timedelta(seconds=5))
    fresh = dedupe_moves(list(page.moves), seen)
    # The sale plans its shipment: storage to output (picking) and output to the customer.
    assert sorted((m.sku, m.quantity, m.from_location, m.to_location) for m in fresh) == [
        (SKUS[0], Decimal(4), "OUT", "CUS"),
        (SKUS[0], Decimal(4), "STO", "OUT"),
    ]
    assert page.watermark is not None
    assert page.watermark >= first.watermark

    again = await tryton.stock_moves_since(page.watermark)
    assert len(again.moves) >= 2, "the overlap window re-reads the latest moves"
    assert dedupe_moves(list(again.moves), seen) == []


async def test_item_master_and_price_lists_come_from_tryton(tryton: TrytonErp) -> None:
    items = {item.sku: item for item in await tryton.items()}
    assert set(SKUS) <= items.keys()
    assert {item.sku for item in demo_catalog().items} <= items.keys()
    assert items[SKUS[0]].list_price == Decimal("19.99")
    prices = await tryton.price_lists()
    assert {(p.price_list, p.sku, p.currency) for p in prices} >= {
        ("list", sku, "EUR") for sku in SKUS
    }


@pytest.mark.slow
async def test_outage_is_retryable_and_posting_resumes_after_restart(
    tryton_template: Path, tmp_path: Path
) -> None:
    with running_server(tryton_template, tmp_path) as server:
        erp = TrytonErp(
            server.url, server.database, server.login, server.password, default_warehouse="WH"
        )
        try:
            posted = order((SKUS[0], 1))
            await erp.find_sale(posted.reference)  # logged in before the outage
            server.process.stop()
            with pytest.raises(ErpUnavailable):
                await erp.post_sales_order(posted)
            server.process.start()
            document_id = await erp.post_sales_order(posted)
            sale = await erp.find_sale(posted.reference)
        finally:
            await erp.close()
    assert sale is not None
    assert sale.document_id == document_id
