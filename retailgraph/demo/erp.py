"""The demo retailer as an ERP: a simulator holding its item master, prices and stock, so
the sync commands show something real on the embedded default."""

from __future__ import annotations

from decimal import Decimal

from erp.port import Item
from erp.simulator import SimulatedErp
from kernel.clock import Clock
from retailgraph.demo.catalog import DemoCatalog, demo_catalog


def demo_simulator(
    catalog: DemoCatalog | None = None, *, clock: Clock | None = None
) -> SimulatedErp:
    """A simulator holding the demo retailer, as the ERP of the embedded default."""
    catalog = catalog or demo_catalog()
    items = [
        Item(
            sku=item.sku,
            name=item.name,
            list_price=item.base_prices["EUR"],
            attributes={
                "brand": item.brand,
                "category": item.category,
                "unit_of_measure": item.unit_of_measure,
                "description": item.description,
                "style": item.style,
            },
        )
        for item in catalog.items
    ]
    stock = {(row.sku, row.location_id): Decimal(row.on_hand) for row in catalog.stock}
    return SimulatedErp(items=items, stock=stock, clock=clock)
