"""The ERP simulator kept in a file: processes that open it see one ERP, and concurrent
writers lose nothing."""

from __future__ import annotations

import asyncio
import multiprocessing
from decimal import Decimal
from pathlib import Path

import pytest

from erp.port import ErpUnavailable, Item, OrderLine, SalesOrder
from erp.simulator import SimulatedErp
from erp.simulator_store import StoredSimulator
from tests.support import suite_clock

SKU = "ST-0001-01"


def _seed() -> SimulatedErp:
    return SimulatedErp(
        items=[Item(SKU, "Tee", Decimal(10))], stock={(SKU, "DC-NORTH"): Decimal(100)}
    )


def _order(reference: str) -> SalesOrder:
    return SalesOrder(reference, "C-1", "EUR", (OrderLine(SKU, Decimal(1), Decimal(10)),))


def _open(path: Path) -> StoredSimulator:
    return StoredSimulator(path, clock=suite_clock(), seed=_seed)


async def test_two_openers_of_one_file_see_each_others_documents_stock_and_outage(
    tmp_path: Path,
) -> None:
    path = tmp_path / "erp.db"
    shop, office = _open(path), _open(path)
    document = await shop.post_sales_order(_order("SO-1"))
    assert (await office.find_sale("SO-1")) is not None
    assert (await office.find_sale("SO-1")).document_id == document  # type: ignore[union-attr]
    office.adjust_stock(SKU, "DC-NORTH", Decimal(5))
    [level] = await shop.stock_levels([SKU])
    assert level.quantity == 104
    assert len((await shop.stock_moves_since(None)).moves) == 2

    office.outage = True
    with pytest.raises(ErpUnavailable):
        await shop.post_sales_order(_order("SO-2"))
    office.outage = False
    second = await shop.post_sales_order(_order("SO-2"))
    assert int(second) == int(document) + 1
    assert [(p.operation, p.reference) for p in office.posts()] == [
        ("post_sales_order", "SO-1"),
        ("post_sales_order", "SO-2"),
    ]
    await shop.close()
    await office.close()


async def test_a_reopened_file_keeps_its_state_and_is_not_seeded_again(tmp_path: Path) -> None:
    path = tmp_path / "erp.db"
    first = _open(path)
    await first.post_sales_order(_order("SO-1"))
    await first.close()
    again = StoredSimulator(path, clock=suite_clock(), seed=lambda: SimulatedErp())
    assert [s.reference for s in again.sales()] == ["SO-1"]
    assert [item.sku for item in await again.items()] == [SKU]
    await again.close()


def _post_many(path: str, prefix: str, count: int) -> None:
    async def post() -> None:
        erp = _open(Path(path))
        for number in range(count):
            await erp.post_sales_order(_order(f"{prefix}-{number}"))
        await erp.close()

    asyncio.run(post())


def test_processes_posting_at_once_lose_no_document_and_no_unit(tmp_path: Path) -> None:
    path = tmp_path / "erp.db"
    _open(path).sales()  # seeded once, before the writers start
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_post_many, args=(str(path), f"P{n}", 25)) for n in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    erp = _open(path)
    sales = erp.sales()
    assert len(sales) == 75
    assert len({s.document_id for s in sales}) == 75
    [level] = asyncio.run(erp.stock_levels([SKU]))
    assert level.quantity == 25
