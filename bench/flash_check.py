"""Was exactly the stock sold? The burst's answers against inventory's and orders' tables.

Read after every answer has arrived. The units an accepted order holds are reserved
before its answer and move to ``committed`` when inventory hears of the order; without a
shared bus (the benchmark runs without Redis) they stay reserved, so the check counts
reserved and committed together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.checkout_stack import DC


@dataclass(frozen=True, slots=True)
class Sold:
    """One SKU's figures at the DC, as inventory and orders hold them."""

    on_hand: int
    committed: int
    reserved: int
    reservations: int
    orders: int
    ordered_units: int

    @property
    def available(self) -> int:
        return self.on_hand - self.committed - self.reserved


async def read_sold(engine: AsyncEngine, sku: str) -> Sold:
    async with engine.connect() as conn:
        on_hand, committed = (
            await conn.execute(
                text(
                    "SELECT on_hand, committed FROM inventory_stock "
                    "WHERE sku = :sku AND location_id = :dc"
                ),
                {"sku": sku, "dc": DC},
            )
        ).one()
        reserved, reservations = (
            await conn.execute(
                text(
                    "SELECT coalesce(sum(quantity) FILTER (WHERE status = 'ACTIVE'), 0), "
                    "count(*) FILTER (WHERE status IN ('ACTIVE', 'CONSUMED')) "
                    "FROM inventory_reservation WHERE sku = :sku AND location_id = :dc"
                ),
                {"sku": sku, "dc": DC},
            )
        ).one()
        orders, ordered_units = (
            await conn.execute(
                text(
                    "SELECT count(DISTINCT order_id), coalesce(sum(quantity), 0) "
                    "FROM orders_lines WHERE sku = :sku"
                ),
                {"sku": sku},
            )
        ).one()
    return Sold(on_hand, committed, int(reserved), reservations, orders, int(ordered_units))


def stock_checks(
    sold: Sold, *, stock: int, clients: int, units: int, accepted: int
) -> list[tuple[str, bool]]:
    """Each statement the run must make true, and whether it holds."""
    expected_orders = min(clients, stock // units)
    held = sold.committed + sold.reserved
    return [
        (
            f"accepted orders {accepted} = min(clients, stock / units) {expected_orders}",
            accepted == expected_orders,
        ),
        (f"on hand {sold.on_hand} = the stock seeded {stock}", sold.on_hand == stock),
        (f"no unit beyond the stock is held: {held} <= {stock}", held <= stock),
        (
            f"inventory holds {held} units (committed {sold.committed} + reserved "
            f"{sold.reserved}) = accepted units {accepted * units}",
            held == accepted * units,
        ),
        (
            f"inventory holds one reservation per accepted order: {sold.reservations}",
            sold.reservations == accepted,
        ),
        (
            f"available {sold.available} = stock - accepted units {stock - accepted * units}",
            sold.available == stock - accepted * units,
        ),
        (
            f"orders' tables hold {sold.orders} orders, {sold.ordered_units} units of the SKU, "
            f"as many as were accepted",
            (sold.orders, sold.ordered_units) == (accepted, accepted * units),
        ),
    ]
