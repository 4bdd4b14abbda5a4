"""The pricing subgraph as an ASGI app."""

from __future__ import annotations

import functools
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.graphql.subgraph import domain_subgraph_app
from adapters.runtime import Runtime
from domains.pricing import internal
from domains.pricing.bootstrap import start
from domains.pricing.model import DEFAULT_MAX_PRICE_CHANGE_PERCENT
from domains.pricing.queries import make_loaders
from domains.pricing.schema import schema

__all__ = ["create_app", "schema"]


def create_app(
    runtime: Runtime,
    *,
    engine: AsyncEngine | None = None,
    owns_runtime: bool = False,
    max_price_change_percent: Decimal = DEFAULT_MAX_PRICE_CHANGE_PERCENT,
) -> Starlette:
    """The subgraph; ``engine`` (tests) replaces the database the runtime names;
    ``max_price_change_percent`` is the import guard's (``[pricing]``)."""
    starting = functools.partial(start, max_price_change_percent=max_price_change_percent)
    return domain_subgraph_app(
        schema,
        starting,
        make_loaders,
        runtime,
        engine,
        name="pricing",
        owns_runtime=owns_runtime,
        internal=internal.ENDPOINTS,
    )
