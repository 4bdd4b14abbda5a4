"""The demo retailer: one catalog, loaded into each domain by its own loader."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from retailgraph.demo import inventory, orders, pricing, products
from retailgraph.demo.catalog import DemoCatalog

# Domain name -> its loader (a no-op once the demo is loaded).
LOADERS: dict[str, Callable[[Any, DemoCatalog], Awaitable[None]]] = {
    "products": products.load,
    "pricing": pricing.load,
    "inventory": inventory.load,
    "orders": orders.load,
}
