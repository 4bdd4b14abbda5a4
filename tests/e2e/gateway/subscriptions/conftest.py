from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import Client, ClientDirectory, key_hash
from gateway.security.quotas import Quotas
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subscriptions.served import served
from tests.e2e.gateway.subscriptions.subgraphs import StockFeed, subgraph_apps


@dataclass
class LiveGateway:
    address: str
    feed: StockFeed
    engine: FederatedEngine


@contextlib.asynccontextmanager
async def live_gateway(
    *,
    clients: ClientDirectory | None = None,
    init_timeout: float = 10.0,
    sse_keep_alive: float = 15.0,
    quotas: Quotas | None = None,
    server: dict[str, Any] | None = None,
) -> AsyncIterator[LiveGateway]:
    """The gateway served by uvicorn, over the two subgraphs called in process;
    ``server``: uvicorn options (``served``)."""
    feed = StockFeed()
    apps = subgraph_apps(feed)
    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        supergraph = await compose_from_apps(apps)
        engine = FederatedEngine(
            supergraph, subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()}
        )
        app = create_app(
            engine,
            clients=clients,
            connection_init_timeout=init_timeout,
            sse_keep_alive=sse_keep_alive,
            quotas=quotas,
        )
        async with served(app, **(server or {})) as address:
            yield LiveGateway(address, feed, engine)


@pytest.fixture
async def gateway() -> AsyncIterator[LiveGateway]:
    async with live_gateway() as live:
        yield live


def members_only(*keys: str) -> ClientDirectory:
    """A gateway that admits only the holders of ``keys`` (one client), no anonymous."""
    member = Client("member", key_hashes=frozenset(key_hash(key) for key in keys))
    return ClientDirectory([member], anonymous=None)
