from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.supergraph.compose import compose_from_apps
from tests.e2e.gateway.subgraphs import RecordingApp, subgraph_apps


@dataclass
class Federation:
    supergraph: str
    subgraphs: dict[str, RecordingApp]
    gateway: Starlette


@pytest.fixture
async def federation() -> Federation:
    """The real gateway (composition, planner, executor, HTTP) over in-process subgraphs."""
    apps = subgraph_apps()
    supergraph = await compose_from_apps(apps)
    engine = FederatedEngine(
        supergraph, subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()}
    )
    return Federation(supergraph, apps, create_app(engine))


@pytest.fixture
async def gateway_client(federation: Federation) -> AsyncIterator[httpx.AsyncClient]:
    app = federation.gateway
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client
