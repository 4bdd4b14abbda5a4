"""What the domain tests share: a runtime of their own, and a subgraph app served to a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.runtime import Runtime


def local_runtime(*, migrate_on_start: bool = True, **database_urls: str) -> Runtime:
    """A runtime of this test alone: an in-process bus and a memory cache.

    ``database_urls`` (per domain) are for apps that open their own database; tests that
    hand an engine to ``start``/``create_app`` leave them out.
    """
    return Runtime(
        bus=InProcessBus(),
        cache=MemoryStore(),
        database_urls=database_urls,
        migrate_on_start=migrate_on_start,
    )


@asynccontextmanager
async def serving(app: Starlette, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan run, and a client talking to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
