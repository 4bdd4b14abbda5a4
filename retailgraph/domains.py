"""The four domain subgraphs, by name, as the composition root sees them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import MetaData
from starlette.applications import Starlette

from domains.inventory import app as inventory_app
from domains.inventory import bootstrap as inventory_bootstrap
from domains.inventory import tables as inventory_tables
from domains.orders import app as orders_app
from domains.orders import bootstrap as orders_bootstrap
from domains.orders import tables as orders_tables
from domains.pricing import app as pricing_app
from domains.pricing import bootstrap as pricing_bootstrap
from domains.pricing import tables as pricing_tables
from domains.products import app as products_app
from domains.products import bootstrap as products_bootstrap
from domains.products import repository as products_tables


@dataclass(frozen=True, slots=True)
class DomainParts:
    """What the composition root needs of one domain."""

    # ``start(runtime, engine=None)``: the running domain, consuming nothing yet.
    start: Callable[..., Awaitable[Any]]
    # ``create_app(runtime, engine=None, owns_runtime=False)``: its subgraph app.
    create_app: Callable[..., Starlette]
    schema: strawberry.federation.Schema
    # The tables it owns, as its migrations describe them.
    tables: MetaData
    # Where it listens when it runs as its own service (``retailgraph subgraph NAME``).
    port: int

    @property
    def default_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


DOMAINS: dict[str, DomainParts] = {
    "products": DomainParts(
        products_bootstrap.start,
        products_app.create_app,
        products_app.schema,
        products_tables.metadata,
        4001,
    ),
    "pricing": DomainParts(
        pricing_bootstrap.start,
        pricing_app.create_app,
        pricing_app.schema,
        pricing_tables.metadata,
        4002,
    ),
    "inventory": DomainParts(
        inventory_bootstrap.start,
        inventory_app.create_app,
        inventory_app.schema,
        inventory_tables.metadata,
        4003,
    ),
    "orders": DomainParts(
        orders_bootstrap.start,
        orders_app.create_app,
        orders_app.schema,
        orders_tables.metadata,
        4004,
    ),
}
