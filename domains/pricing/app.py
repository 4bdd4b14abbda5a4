"""The pricing subgraph as an ASGI app."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.graphql.subgraph import domain_subgraph_app
from adapters.runtime import Runtime
from domains.pricing.bootstrap import start
from domains.pricing.queries import make_loaders
from domains.pricing.schema import schema

__all__ = ["create_app", "schema"]


def create_app(
    runtime: Runtime, *, engine: AsyncEngine | None = None, owns_runtime: bool = False
) -> Starlette:
    """The subgraph; ``engine`` (tests) replaces the database the runtime names."""
    return domain_subgraph_app(
        schema, start, make_loaders, runtime, engine, name="pricing", owns_runtime=owns_runtime
    )
