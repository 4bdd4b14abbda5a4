"""A subgraph whose database refuses connections answers SERVICE_UNAVAILABLE, the code a
client retries on, never INTERNAL_SERVER_ERROR with a trace: for each domain, whatever
the refusal (a closed port, PostgreSQL past its connection limit, a pool with no
connection to give)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text
from starlette.applications import Starlette

from adapters.db.engine import create_engine
from adapters.runtime import Runtime
from domains.inventory.app import create_app as inventory_app
from domains.orders.app import create_app as orders_app
from domains.pricing.app import create_app as pricing_app
from domains.products.app import create_app as products_app
from tests.services import require_postgres
from tests.support import local_runtime, serving

CLOSED_PORT = "postgresql://postgres@127.0.0.1:9/test"
SERVER = "postgresql://postgres@127.0.0.1:5432/test"

# One read of each domain's database, as the gateway would ask it.
READS: dict[str, tuple[Callable[..., Starlette], str]] = {
    "products": (products_app, '{ product(sku: "ST-0001-01") { name } }'),
    "pricing": (
        pricing_app,
        '{ _entities(representations: [{__typename: "Product", sku: "ST-0001-01"}]) '
        '{ ... on Product { price(channel: "web", currency: "EUR") { base { amount } } } } }',
    ),
    "inventory": (inventory_app, '{ location(id: "DC-NORTH") { id } }'),
    "orders": (
        orders_app,
        '{ _entities(representations: [{__typename: "Order", id: "o-1"}]) '
        "{ ... on Order { number } } }",
    ),
}


@pytest.fixture
async def role_past_its_connection_limit() -> AsyncIterator[str]:
    """A PostgreSQL role allowed no connection: each attempt is refused as past
    ``max_connections`` is ("too many connections", SQLSTATE 53300)."""
    require_postgres()
    role = f"refused_{uuid.uuid4().hex[:12]}"
    admin = create_engine(SERVER)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
    try:
        yield f"postgresql://{role}@127.0.0.1:5432/test"
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()


async def answer(domain: str, runtime: Runtime) -> dict[str, Any]:
    make_app, query = READS[domain]
    async with serving(make_app(runtime), f"http://{domain}") as client:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("domain", list(READS))
async def test_a_database_on_a_closed_port_is_service_unavailable(domain: str) -> None:
    runtime = local_runtime(migrate_on_start=False, **{domain: CLOSED_PORT})

    body = await answer(domain, runtime)

    [error] = body["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}
    assert "Traceback" not in str(body)


@pytest.mark.postgres
@pytest.mark.parametrize("domain", list(READS))
async def test_a_database_refusing_more_clients_is_service_unavailable(
    domain: str, role_past_its_connection_limit: str
) -> None:
    runtime = local_runtime(migrate_on_start=False, **{domain: role_past_its_connection_limit})

    body = await answer(domain, runtime)

    [error] = body["errors"]
    assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE"}


# Checkout's internal calls (``adapters/graphql/internal.py``), one per domain that has them.
INTERNAL_CALLS: dict[str, tuple[Callable[..., Starlette], str, dict[str, Any]]] = {
    "pricing": (
        pricing_app,
        "/internal/quote",
        {
            "lines": [{"sku": "ST-0001-01", "quantity": 1}],
            "channel": "web",
            "currency": "EUR",
        },
    ),
    "inventory": (inventory_app, "/internal/location", {"id": "DC-NORTH"}),
}


@pytest.mark.parametrize("domain", list(INTERNAL_CALLS))
async def test_an_internal_call_on_a_closed_port_is_service_unavailable(domain: str) -> None:
    runtime = local_runtime(migrate_on_start=False, **{domain: CLOSED_PORT})
    make_app, path, body = INTERNAL_CALLS[domain]

    async with serving(make_app(runtime), f"http://{domain}") as client:
        response = await client.post(path, json=body)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Traceback" not in response.text
