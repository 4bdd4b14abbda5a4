"""The inventory subgraph as an ASGI app."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.graphql.subgraph import domain_subgraph_app
from adapters.runtime import Runtime
from domains.inventory import internal
from domains.inventory.bootstrap import InventoryDomain, start
from domains.inventory.queries import InventoryLoaders, make_loaders
from domains.inventory.schema import schema

__all__ = ["create_app", "schema"]


def create_app(
    runtime: Runtime, *, engine: AsyncEngine | None = None, owns_runtime: bool = False
) -> Starlette:
    """The subgraph; ``engine`` (tests) replaces the database the runtime names."""
    return domain_subgraph_app(
        schema,
        start,
        _loaders,
        runtime,
        engine,
        name="inventory",
        owns_runtime=owns_runtime,
        internal=internal.ENDPOINTS,
    )


def _loaders(domain: InventoryDomain) -> InventoryLoaders:
    return make_loaders(domain.engine, domain.availability, domain.clock.now())
