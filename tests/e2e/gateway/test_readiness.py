"""/ready tells a load balancer whether this gateway can serve: its subgraphs answer (and
in the embedded system its databases and Redis), with the reasons when not; /health
stays a liveness check."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import redis.asyncio as redis
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.commands import gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.http.health import unmet
from gateway.settings import GatewaySettings
from gateway.supergraph.compose import compose_from_apps
from kernel.clock import SettableClock
from retailgraph.readiness import databases_check, redis_check
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.support import TEST_NOW

# Nothing listens on the discard port.
NOWHERE = "127.0.0.1:9"


async def ready_answer(subgraphs: dict[str, SubgraphOptions], sdl: str) -> httpx.Response:
    engine = FederatedEngine(sdl, subgraphs=subgraphs)
    app = gateway_app(engine, GatewaySettings(), clock=SettableClock(TEST_NOW))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            assert (await client.get("/health")).status_code == 200
            return await client.get("/ready")


async def test_the_gateway_is_ready_when_every_subgraph_answers() -> None:
    apps = subgraph_apps()
    sdl = await compose_from_apps(apps)
    answer = await ready_answer({name: SubgraphOptions(app=app) for name, app in apps.items()}, sdl)
    assert (answer.status_code, answer.json()) == (200, {"status": "ready"})


async def test_the_gateway_is_not_ready_while_a_subgraph_is_down_and_says_which() -> None:
    apps = subgraph_apps()
    sdl = await compose_from_apps(apps)
    subgraphs = {name: SubgraphOptions(app=app) for name, app in apps.items()}
    down = sorted(apps)[0]
    subgraphs[down] = SubgraphOptions(url=f"http://{NOWHERE}/graphql", timeout=1)

    answer = await ready_answer(subgraphs, sdl)

    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready"
    assert [reason.split(":")[0] for reason in body["reasons"]] == [f"subgraph {down}"]


async def test_an_unreachable_database_or_redis_is_a_reason_not_to_be_ready() -> None:
    database = create_async_engine(f"postgresql+asyncpg://{NOWHERE}/test")
    unreachable_redis = redis.Redis.from_url(f"redis://{NOWHERE}/0", socket_connect_timeout=1)
    try:
        reasons = await unmet(
            [
                databases_check({"orders": SimpleNamespace(engine=database)}),
                redis_check(unreachable_redis),
            ]
        )
        starting = await unmet([databases_check({})])
    finally:
        await database.dispose()
        await unreachable_redis.aclose()

    assert [reason.split(":")[0] for reason in reasons] == ["database of orders", "redis"]
    assert starting == ["the domains are starting"]
