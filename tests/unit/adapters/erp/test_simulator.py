from __future__ import annotations

import datetime
from dataclasses import replace
from decimal import Decimal

import pytest

from erp.port import (
    Cancellation,
    CancelledLine,
    ErpRateLimited,
    ErpRejected,
    ErpUnavailable,
    Item,
    OrderLine,
    SalesOrder,
    dedupe_moves,
)
from erp.simulator import Faults, SimulatedErp
from kernel.clock import SettableClock

START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class FakeClock(SettableClock):
    def __init__(self) -> None:
        super().__init__(START)

    def advance(self, seconds: float) -> datetime.datetime:  # type: ignore[override]
        return super().advance(datetime.timedelta(seconds=seconds))


def make_erp(**kwargs: object) -> SimulatedErp:
    items = [Item("SKU-1", "Tee", Decimal("19.99")), Item("SKU-2", "Cap", Decimal("9.99"))]
    stock = {("SKU-1", "DC-NORTH"): Decimal(10), ("SKU-2", "DC-NORTH"): Decimal(5)}
    return SimulatedErp(items=items, stock=stock, **kwargs)  # type: ignore[arg-type]


def order(reference: str = "ORD-1", *lines: tuple[str, int]) -> SalesOrder:
    return SalesOrder(
        reference=reference,
        customer_ref="CUST-1",
        currency="EUR",
        lines=tuple(OrderLine(sku, Decimal(q), Decimal("19.99")) for sku, q in lines)
        or (OrderLine("SKU-1", Decimal(2), Decimal("19.99")),),
        correlation_id="corr-1",
    )


async def test_sales_order_post_is_found_by_reference() -> None:
    erp = make_erp()
    document_id = await erp.post_sales_order(order("ORD-1"))
    sale = await erp.find_sale("ORD-1")
    assert sale is not None
    assert sale.document_id == document_id
    assert sale.lines[0].quantity == Decimal(2)
    assert await erp.find_sale("ORD-UNKNOWN") is None


async def test_sales_order_posted_twice_creates_one_sale() -> None:
    erp = make_erp()
    first = await erp.post_sales_order(order("ORD-1"))
    second = await erp.post_sales_order(order("ORD-1"))
    assert first == second
    assert len(erp.sales_by_reference("ORD-1")) == 1
    levels = await erp.stock_levels(skus=["SKU-1"])
    assert levels[0].quantity == Decimal(8)


async def test_sales_order_takes_stock_from_its_location() -> None:
    erp = make_erp()
    await erp.post_sales_order(replace(order("ORD-1"), location="STORE-BERLIN"))
    sale = await erp.find_sale("ORD-1")
    assert sale is not None
    assert sale.location == "STORE-BERLIN"
    levels = {(lv.sku, lv.location): lv.quantity for lv in await erp.stock_levels(skus=["SKU-1"])}
    assert levels == {("SKU-1", "DC-NORTH"): Decimal(10), ("SKU-1", "STORE-BERLIN"): Decimal(-2)}


async def test_sales_order_with_unknown_sku_is_rejected_for_good() -> None:
    erp = make_erp()
    with pytest.raises(ErpRejected) as error:
        await erp.post_sales_order(order("ORD-1", ("NOPE", 1)))
    assert not error.value.retryable
    assert "NOPE" in error.value.message


async def test_return_is_a_sale_with_negative_quantities_that_restocks() -> None:
    erp = make_erp()
    await erp.post_sales_order(order("ORD-1"))
    await erp.post_return(order("ORD-1/R1"))
    returned = await erp.find_sale("ORD-1/R1")
    assert returned is not None
    assert [line.quantity for line in returned.lines] == [Decimal(-2)]
    levels = await erp.stock_levels(skus=["SKU-1"], locations=["DC-NORTH"])
    assert levels[0].quantity == Decimal(10)


async def test_cancellation_of_some_lines_keeps_the_others() -> None:
    erp = make_erp()
    await erp.post_sales_order(order("ORD-1", ("SKU-1", 1), ("SKU-2", 2)))
    await erp.post_cancellation(Cancellation("ORD-1", skus=("SKU-2",)))
    sale = await erp.find_sale("ORD-1")
    assert sale is not None
    assert sale.state == "confirmed"
    assert [line.sku for line in sale.lines] == ["SKU-1"]
    await erp.post_cancellation(Cancellation("ORD-1"))
    sale = await erp.find_sale("ORD-1")
    assert sale is not None
    assert sale.state == "cancelled"
    assert (await erp.stock_levels(skus=["SKU-2"]))[0].quantity == Decimal(5)


def cut(sku: str, quantity: int, remaining: int) -> Cancellation:
    return Cancellation("ORD-1", lines=(CancelledLine(sku, Decimal(quantity), Decimal(remaining)),))


async def test_partial_cancellations_take_exactly_their_units_once_each() -> None:
    erp = make_erp()
    await erp.post_sales_order(order("ORD-1", ("SKU-1", 1), ("SKU-2", 3)))
    before = (await erp.stock_levels(skus=["SKU-2"]))[0].quantity
    for cancellation in (cut("SKU-2", 1, 2), cut("SKU-2", 1, 2), cut("SKU-2", 1, 1)):
        await erp.post_cancellation(cancellation)  # the second is a retry of the first
    sale = await erp.find_sale("ORD-1")
    assert sale is not None
    assert (sale.state, [(ln.sku, ln.quantity) for ln in sale.lines]) == (
        "confirmed",
        [("SKU-1", Decimal(1)), ("SKU-2", Decimal(1))],
    )
    assert (await erp.stock_levels(skus=["SKU-2"]))[0].quantity == before + 2
    with pytest.raises(ErpRejected, match="holds 1"):
        await erp.post_cancellation(cut("SKU-2", 2, 3))  # not what the sale holds
    await erp.post_cancellation(cut("SKU-2", 1, 0))
    await erp.post_cancellation(cut("SKU-1", 1, 0))
    sale = await erp.find_sale("ORD-1")
    assert sale is not None
    assert (sale.state, sale.lines) == ("cancelled", ())


async def test_cancellation_of_unknown_sale_is_rejected() -> None:
    erp = make_erp()
    with pytest.raises(ErpRejected):
        await erp.post_cancellation(Cancellation("ORD-MISSING"))


async def test_outage_raises_retryable_error_and_changes_nothing() -> None:
    erp = make_erp()
    erp.outage = True
    with pytest.raises(ErpUnavailable) as error:
        await erp.post_sales_order(order("ORD-1"))
    assert error.value.retryable
    erp.outage = False
    assert await erp.find_sale("ORD-1") is None


async def test_rate_limit_tells_when_to_retry() -> None:
    erp = make_erp(faults=Faults(rate_limit_rate=1.0, retry_after=2.5))
    with pytest.raises(ErpRateLimited) as error:
        await erp.items()
    assert error.value.retry_after == 2.5
    assert error.value.retryable


async def test_injected_errors_are_deterministic_for_a_seed() -> None:
    async def outcomes(seed: int) -> list[bool]:
        erp = make_erp(faults=Faults(error_rate=0.5), seed=seed)
        results = []
        for _ in range(20):
            try:
                await erp.items()
                results.append(True)
            except ErpUnavailable:
                results.append(False)
        return results

    first = await outcomes(7)
    assert first == await outcomes(7)
    assert True in first
    assert False in first


async def test_failure_after_create_is_healed_by_find_before_post() -> None:
    erp = make_erp(faults=Faults(fail_after_create_rate=1.0))
    with pytest.raises(ErpUnavailable):
        await erp.post_sales_order(order("ORD-1"))
    assert await erp.find_sale("ORD-1") is not None
    erp.faults = Faults()
    await erp.post_sales_order(order("ORD-1"))
    assert len(erp.sales_by_reference("ORD-1")) == 1


async def test_stock_moves_since_watermark_rereads_overlap_and_dedupes() -> None:
    clock = FakeClock()
    erp = make_erp(clock=clock)
    await erp.post_sales_order(order("ORD-1"))
    first = await erp.stock_moves_since(None)
    assert [m.sku for m in first.moves] == ["SKU-1"]
    assert first.watermark == START

    clock.advance(2)
    erp.adjust_stock("SKU-2", "DC-NORTH", Decimal(3))
    overlap = datetime.timedelta(seconds=5)
    second = await erp.stock_moves_since(first.watermark, overlap=overlap)
    assert len(second.moves) == 2
    assert second.watermark == START + datetime.timedelta(seconds=2)

    seen: set[str] = set()
    delivered = dedupe_moves(list(first.moves), seen) + dedupe_moves(list(second.moves), seen)
    assert [(m.sku, m.to_location) for m in delivered] == [
        ("SKU-1", "CUSTOMER"),
        ("SKU-2", "DC-NORTH"),
    ]


async def test_stock_moves_since_a_later_watermark_are_empty_and_keep_it() -> None:
    clock = FakeClock()
    erp = make_erp(clock=clock)
    await erp.post_sales_order(order("ORD-1"))
    later = START + datetime.timedelta(minutes=1)
    page = await erp.stock_moves_since(later)
    assert page.moves == ()
    assert page.watermark == later


async def test_item_master_and_price_lists_are_readable() -> None:
    erp = make_erp()
    assert [item.sku for item in await erp.items()] == ["SKU-1", "SKU-2"]
    prices = {entry.sku: entry.unit_price for entry in await erp.price_lists()}
    assert prices == {"SKU-1": Decimal("19.99"), "SKU-2": Decimal("9.99")}


async def test_stock_moves_name_their_warehouses_and_the_sale_they_ship() -> None:
    erp = make_erp()
    await erp.post_sales_order(order("ORD-1"))
    erp.adjust_stock("SKU-2", "DC-NORTH", Decimal(4))
    erp.transfer_stock("SKU-2", "DC-NORTH", "STORE-BERLIN", Decimal(1))
    shipped, received, transferred = (await erp.stock_moves_since(None)).moves
    assert (shipped.from_warehouse, shipped.to_kind) == ("DC-NORTH", "customer")
    assert shipped.order_reference == "ORD-1"
    assert shipped.shipment is not None
    assert (received.from_kind, received.to_warehouse) == ("supplier", "DC-NORTH")
    assert (transferred.from_warehouse, transferred.to_warehouse) == ("DC-NORTH", "STORE-BERLIN")
    levels = {lv.location: lv.quantity for lv in await erp.stock_levels(skus=["SKU-2"])}
    assert levels == {"DC-NORTH": Decimal(8), "STORE-BERLIN": Decimal(1)}
