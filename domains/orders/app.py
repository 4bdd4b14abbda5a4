"""The orders subgraph as an ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.graphql.subgraph import subgraph_app
from adapters.runtime import Runtime
from domains.orders.bootstrap import OrdersDomain, start
from domains.orders.loaders import make_loaders
from domains.orders.schema import schema

__all__ = ["create_app", "schema"]


def create_app(runtime: Runtime | None = None, *, engine: AsyncEngine | None = None) -> Starlette:
    """The subgraph; ``engine`` (tests) replaces the database the runtime names."""
    runtime = runtime or Runtime()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        domain = await start(runtime, engine=engine)
        app.state.domain = domain
        try:
            yield
        finally:
            await domain.close()

    async def context() -> dict[str, Any]:
        domain: OrdersDomain = app.state.domain
        return {"domain": domain, "loaders": make_loaders(domain)}

    app = subgraph_app(schema, context, lifespan=lifespan)
    return app
