"""Every error a subgraph returns carries a code a client can act on, and no internals."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx
import strawberry

from adapters.graphql.subgraph import FederatedSchema, subgraph_app
from kernel.errors import NotFound
from tests.live_subscriptions import serving_over_tcp, ws_client


@strawberry.federation.type(keys=["sku"])
class Item:
    sku: strawberry.ID

    @classmethod
    def resolve_reference(cls, sku: strawberry.ID) -> Item:
        if sku == "missing":
            raise NotFound("no item missing", code="ITEM_NOT_FOUND", sku=sku)
        return Item(sku=sku)


@strawberry.type
class Query:
    @strawberry.field
    def item(self, sku: str, quantity: int = 1) -> Item | None:
        if quantity < 0:
            raise RuntimeError("a bug the client must not see")
        return Item(sku=sku)


@strawberry.type
class Tick:
    @strawberry.field
    def bug(self) -> int | None:
        raise RuntimeError("a bug the client must not see")

    @strawberry.field
    def gone(self) -> int | None:
        raise NotFound("the ticks are gone", code="TICKS_GONE")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[Tick, None]:
        yield Tick()


async def _context() -> dict[str, Any]:
    return {}


async def _post(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    app = subgraph_app(FederatedSchema(query=Query), _context)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
        response = await client.post("/graphql", json=body)
    return response.status_code, response.json()


async def _codes(body: dict[str, Any]) -> list[str]:
    status, result = await _post(body)
    assert status == 200
    return [e["extensions"]["code"] for e in result["errors"]]


async def test_subgraph_errors_domain_error_keeps_its_code_and_details() -> None:
    status, result = await _post(
        {
            "query": '{ _entities(representations: [{__typename: "Item", '
            'sku: "a"}, {__typename: "Item", sku: "missing"}]) '
            "{ ... on Item { sku } } }"
        }
    )
    assert result["data"]["_entities"] == [{"sku": "a"}, None]
    assert status == 200
    [error] = result["errors"]
    assert error["path"] == ["_entities", 1]
    assert error["extensions"] == {"code": "ITEM_NOT_FOUND", "sku": "missing"}


async def test_subgraph_errors_unexpected_failure_is_masked() -> None:
    status, result = await _post({"query": '{ item(sku: "a", quantity: -1) { sku } }'})
    assert status == 200
    [error] = result["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "bug" not in str(result)


async def test_subgraph_errors_graphql_core_errors_get_apollo_codes() -> None:
    assert await _codes({"query": "{ item(sku: "}) == ["GRAPHQL_PARSE_FAILED"]
    assert await _codes({"query": '{ item(sku: "a") {} }'}) == ["GRAPHQL_PARSE_FAILED"]
    assert await _codes({"query": "{ nope }"}) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await _codes(
        {
            "query": 'query($q: Int) { item(sku: "a", quantity: $q) { sku } }',
            "variables": {"q": "five"},
        }
    ) == ["BAD_USER_INPUT"]


async def test_subgraph_errors_malformed_representation_is_the_clients_mistake() -> None:
    codes = await _codes(
        {"query": '{ _entities(representations: [{sku: "a"}]) { ... on Item { sku } } }'}
    )
    assert codes == ["BAD_USER_INPUT"]


async def test_subgraph_errors_in_a_subscriptions_events_carry_codes_and_no_internals() -> None:
    app = subgraph_app(FederatedSchema(query=Query, subscription=Subscription), _context)
    async with serving_over_tcp(app) as base, ws_client(base) as client:
        await client.subscribe("1", "subscription { ticks { bug gone } }")
        event = await client.next_message("1")

    assert event["payload"]["data"] == {"ticks": {"bug": None, "gone": None}}
    errors = {tuple(e["path"]): e for e in event["payload"]["errors"]}
    assert errors[("ticks", "bug")]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "a bug" not in errors[("ticks", "bug")]["message"]
    assert errors[("ticks", "gone")]["extensions"]["code"] == "TICKS_GONE"
    assert errors[("ticks", "gone")]["message"] == "the ticks are gone"
