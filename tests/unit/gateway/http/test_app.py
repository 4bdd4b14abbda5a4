"""Around the endpoint: GraphiQL, health, readiness, correlation ids, plans, shutdown."""

from __future__ import annotations

import httpx

from gateway.app import create_app
from tests.unit.gateway.http.fake_engine import FakeEngine

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def test_graphiql_is_served_to_browsers_on_the_endpoint_and_root(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/graphql", "/"):
        response = await client.get(path, headers={"accept": BROWSER})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "GraphiQL" in response.text
        assert '"/graphql"' in response.text


async def test_browser_get_with_a_query_gets_json_not_graphiql(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql", params={"query": "{ hello }"}, headers={"accept": BROWSER}
    )
    assert response.json() == {"data": {"hello": "Hello, world!"}}


async def test_graphiql_can_be_turned_off() -> None:
    app = create_app(FakeEngine(), graphiql=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://g") as c:
        response = await c.get("/graphql", headers={"accept": BROWSER})
    assert response.status_code == 400


async def test_root_redirects_api_clients_to_the_endpoint(client: httpx.AsyncClient) -> None:
    response = await client.get("/", headers={"accept": "application/json"})
    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"


async def test_health_is_always_ok_and_ready_waits_for_the_engine() -> None:
    engine = FakeEngine(ready=False)
    app = create_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://g") as c:
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/ready")).status_code == 503
        engine.make_ready()
        ready = await c.get("/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


async def test_correlation_id_is_echoed_and_passed_to_the_engine(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"x-correlation-id": "req-42"}
    )
    assert response.headers["x-correlation-id"] == "req-42"
    assert fake_engine.seen_headers[-1]["x-correlation-id"] == "req-42"


async def test_correlation_id_is_generated_when_missing_or_unusable(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    first = await client.post("/graphql", json={"query": "{ hello }"})
    second = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"x-correlation-id": "bad id;x"}
    )
    generated = first.headers["x-correlation-id"]
    assert len(generated) == 32
    assert fake_engine.seen_headers[0]["x-correlation-id"] == generated
    assert second.headers["x-correlation-id"] not in (generated, "bad id;x")
    assert (await client.get("/health")).headers["x-correlation-id"]


async def test_query_plan_is_exposed_only_on_request(client: httpx.AsyncClient) -> None:
    plain = await client.post("/graphql", json={"query": "{ hello }"})
    exposed = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"apollo-expose-query-plan": "true"}
    )
    assert "extensions" not in plain.json()
    plan = exposed.json()["extensions"]["apolloQueryPlan"]
    assert plan["object"]["kind"] == "QueryPlan"
    assert plan["object"]["node"]["serviceName"] == "fake"
    assert exposed.json()["data"] == {"hello": "Hello, world!"}


async def test_query_plan_dry_run_does_not_execute(
    client: httpx.AsyncClient, fake_engine: FakeEngine
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ hello }"}, headers={"apollo-expose-query-plan": "dry-run"}
    )
    assert response.json()["data"] is None
    assert response.json()["extensions"]["apolloQueryPlan"]["object"]["kind"] == "QueryPlan"
    assert fake_engine.seen_headers == []


async def test_shutdown_closes_the_engine_before_the_outer_lifespan_ends() -> None:
    import contextlib
    from collections.abc import AsyncIterator

    from starlette.applications import Starlette

    events: list[str] = []
    engine = FakeEngine()

    @contextlib.asynccontextmanager
    async def outer(app: Starlette) -> AsyncIterator[None]:
        events.append("outer started")
        yield
        events.append(f"outer stopped, engine closed={engine.closed}")

    app = create_app(engine, lifespan=outer)
    async with app.router.lifespan_context(app):
        events.append("serving")
    assert engine.closed
    assert events == ["outer started", "serving", "outer stopped, engine closed=True"]


async def test_extra_routes_are_served_beside_the_endpoint() -> None:
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app = create_app(FakeEngine(), extra_routes=[Route("/subgraphs/x", hello)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://g") as c:
        response = await c.get("/subgraphs/x")
    assert response.text == "hi"
    assert response.headers["x-correlation-id"]
