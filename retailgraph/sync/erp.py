"""The ERP the sync commands read: Tryton when configured (erp.select), else a
simulator holding the demo retailer's item master, prices and stock, so the commands
show something real on the embedded default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal

from erp.port import ErpPort, Item
from erp.select import erp_from_env
from erp.simulator import SimulatedErp
from retailgraph.demo.catalog import DemoCatalog, demo_catalog


def sync_erp_from_env(env: Mapping[str, str] | None = None) -> ErpPort:
    env = os.environ if env is None else env
    if env.get("RETAILGRAPH_ERP", "simulator").strip().lower() == "simulator":
        return demo_simulator()
    return erp_from_env(env)


def demo_simulator(catalog: DemoCatalog | None = None) -> SimulatedErp:
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
    return SimulatedErp(items=items, stock=stock)
