"""Partial cancellations against a real Tryton: a confirmed sale's line loses exactly the
cancelled units, twice in a row; a retried amendment changes nothing, and one cut off
midway is finished once by its retry.

Tryton refuses to change a confirmed line's quantity; what the sale still sells is the
line's quantity less the units of its ignored moves, and what it still plans to ship
(its live moves, and the warehouse's forecast) drops by the cancelled units only.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from erp.port import (
    Cancellation,
    CancelledLine,
    ErpRejected,
    ErpUnavailable,
    OrderLine,
    SalesOrder,
)
from erp.tryton.erp import TrytonErp
from tests.integration.erp.seed_tryton import SKUS
from tests.integration.erp.tryton_server import TrytonServer

pytestmark = pytest.mark.tryton

CUSTOMER = "RetailGraph Web Shop"


def sale(*lines: tuple[str, int]) -> SalesOrder:
    return SalesOrder(
        reference=f"RG-{uuid.uuid4().hex[:12]}",
        customer_ref=CUSTOMER,
        currency="EUR",
        lines=tuple(OrderLine(sku, Decimal(q), Decimal("19.99")) for sku, q in lines),
    )


def cut(reference: str, n: int, sku: str, quantity: int, remaining: int) -> Cancellation:
    return Cancellation(
        reference,
        lines=(CancelledLine(sku, Decimal(quantity), Decimal(remaining)),),
        amendment=f"{reference}/C{n}",
    )


async def forecast_at_wh(tryton: TrytonErp, sku: str) -> Decimal:
    """The warehouse's forecast of ``sku``: on hand less what it plans to ship."""
    (wh,) = await tryton.call(
        "stock.location.search_read", [("code", "=", "WH")], 0, 1, None, ["id"]
    )
    (row,) = await tryton.call(
        "product.product.search_read", [("code", "=", sku)], 0, 1, None,
        ["forecast_quantity"], context={"locations": [wh["id"]], "stock_date_end": None},
    )  # fmt: skip
    return Decimal(str(row["forecast_quantity"]))


async def planned(tryton: TrytonErp, reference: str) -> dict[str, Decimal]:
    """Per SKU, the units Tryton's sale still plans to ship (its live outgoing moves)."""
    found = await tryton.find_sale(reference)
    assert found is not None
    lines = await tryton.call(
        "sale.line.search_read", [("sale", "=", int(found.document_id))], 0, None, None,
        ["product.code", "moves", "moves_ignored", "moves_recreated"],
    )  # fmt: skip
    units: dict[str, Decimal] = {}
    for line in lines:
        handled = set(line["moves_ignored"]) | set(line["moves_recreated"])
        live = [m for m in line["moves"] if m not in handled]
        moves = await tryton.call("stock.move.read", live, ["state", "quantity"]) if live else []
        units[line["product."]["code"]] = sum(
            (Decimal(str(m["quantity"])) for m in moves if m["state"] != "cancelled"), Decimal(0)
        )
    return units


async def test_two_partial_cancellations_of_one_line_cut_exactly_their_units(
    tryton: TrytonErp,
) -> None:
    kept, amended = SKUS[0], SKUS[1]
    posted = sale((kept, 2), (amended, 3))
    before = await forecast_at_wh(tryton, amended)
    await tryton.post_sales_order(posted)
    assert await forecast_at_wh(tryton, amended) == before - 3

    first = cut(posted.reference, 1, amended, 1, remaining=2)
    document = await tryton.post_cancellation(first)
    assert await tryton.post_cancellation(first) == document  # a retry cuts nothing more
    found = await tryton.find_sale(posted.reference)
    assert found is not None
    assert sorted((line.sku, line.quantity) for line in found.lines) == [
        (kept, Decimal(2)),
        (amended, Decimal(2)),
    ]
    assert await planned(tryton, posted.reference) == {kept: Decimal(2), amended: Decimal(2)}
    assert await forecast_at_wh(tryton, amended) == before - 2

    second = cut(posted.reference, 2, amended, 1, remaining=1)
    await tryton.post_cancellation(second)
    await tryton.post_cancellation(second)
    found = await tryton.find_sale(posted.reference)
    assert found is not None
    assert sorted((line.sku, line.quantity) for line in found.lines) == [
        (kept, Decimal(2)),
        (amended, Decimal(1)),
    ]
    assert found.state == "processing"
    assert await planned(tryton, posted.reference) == {kept: Decimal(2), amended: Decimal(1)}
    assert await forecast_at_wh(tryton, amended) == before - 1

    # The rest of the line, then the whole order: nothing is left to ship.
    await tryton.post_cancellation(cut(posted.reference, 3, amended, 1, remaining=0))
    await tryton.post_cancellation(Cancellation(posted.reference))
    assert await planned(tryton, posted.reference) == {kept: Decimal(0), amended: Decimal(0)}
    assert await forecast_at_wh(tryton, amended) == before


async def test_a_cancellation_that_does_not_match_the_sale_is_refused(tryton: TrytonErp) -> None:
    posted = sale((SKUS[2], 2))
    await tryton.post_sales_order(posted)
    with pytest.raises(ErpRejected, match="holds 2"):
        await tryton.post_cancellation(cut(posted.reference, 1, SKUS[2], 1, remaining=5))
    assert await planned(tryton, posted.reference) == {SKUS[2]: Decimal(2)}


class LostBeforeTheException(TrytonErp):
    """A Tryton client whose connection drops after the moves were cancelled and cut,
    before the sale's shipment exception is handled."""

    async def _handle_shipment_exception(
        self, sale_id: int, ignore: list[int], recreate: list[int]
    ) -> None:
        raise ErpUnavailable("Connection lost")


async def test_an_amendment_cut_off_midway_is_finished_once_by_the_retry(
    tryton: TrytonErp, tryton_server: TrytonServer
) -> None:
    posted = sale((SKUS[2], 3))
    before = await forecast_at_wh(tryton, SKUS[2])
    await tryton.post_sales_order(posted)
    first = cut(posted.reference, 1, SKUS[2], 1, remaining=2)
    dropped = LostBeforeTheException(
        tryton_server.url, tryton_server.database, tryton_server.login, tryton_server.password
    )
    try:
        with pytest.raises(ErpUnavailable):
            await dropped.post_cancellation(first)
    finally:
        await dropped.close()

    await tryton.post_cancellation(first)  # the worker's retry
    await tryton.post_cancellation(first)
    found = await tryton.find_sale(posted.reference)
    assert found is not None
    assert [(line.sku, line.quantity) for line in found.lines] == [(SKUS[2], Decimal(2))]
    assert await planned(tryton, posted.reference) == {SKUS[2]: Decimal(2)}
    assert await forecast_at_wh(tryton, SKUS[2]) == before - 2
