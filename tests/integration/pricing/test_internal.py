"""Pricing's internal quote (``POST /internal/quote``): the GraphQL quote's prices and
refusals, and the bounds and trust of every internal endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.graphql.internal import MAX_BODY_BYTES
from domains.pricing.app import create_app
from domains.pricing.service import MAX_QUOTE_LINES
from tests.integration.pricing.support import gql, live_promotion, percent_terms, seed_prices
from tests.support import local_runtime, serving

QUOTE = """
query($lines: [QuoteLineInput!]!) {
  quote(lines: $lines, channel: "web", currency: "EUR", region: "north") {
    lines { sku quantity unitBase { amount } lineTotal { amount } taxRate }
  }
}
"""


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as client:
        await seed_prices(app.state.domain)
        await live_promotion(app.state.domain, percent_terms("20"), "tops-20")
        yield client


def asked(*lines: tuple[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines],
        "channel": "web",
        "currency": "EUR",
        "region": "north",
        "location": None,
        **fields,
    }


def refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_the_internal_quote_prices_each_line_as_the_graphql_quote_does(
    http: httpx.AsyncClient,
) -> None:
    lines = [("TOP-1", 2), ("MUG-1", 1)]

    response = await http.post("/internal/quote", json=asked(*lines))
    graphql = await gql(http, QUOTE, lines=[{"sku": s, "quantity": q} for s, q in lines])

    assert response.status_code == 200, response.text
    assert response.json()["lines"] == [
        {
            "sku": line["sku"],
            "quantity": line["quantity"],
            "unitBase": line["unitBase"]["amount"],
            "lineTotal": line["lineTotal"]["amount"],
            "taxRate": line["taxRate"],
        }
        for line in graphql["data"]["quote"]["lines"]
    ]
    assert [line["lineTotal"] for line in response.json()["lines"]] == ["32.00", "9.99"]


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        (asked(("NOPE-1", 1)), "UNKNOWN_SKU", {"sku": "NOPE-1"}),
        (asked(("TOP-1", 0)), "INVALID_QUANTITY", {"sku": "TOP-1", "quantity": 0}),
        (asked(("TOP-1", 1), currency="XXX"), "UNSUPPORTED_CURRENCY", {"currency": "XXX"}),
        (asked(*[("TOP-1", 1)] * (MAX_QUOTE_LINES + 1)), "INVALID_QUANTITY", {}),
    ],
    ids=["unknown-sku", "no-units", "unknown-currency", "too-many-lines"],
)
async def test_the_internal_quote_refuses_with_the_services_codes(
    http: httpx.AsyncClient, body: dict[str, Any], code: str, detail: dict[str, Any]
) -> None:
    response = await http.post("/internal/quote", json=body)

    assert refusal(response) == (400, code), response.text
    assert detail.items() <= response.json()["error"].items()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"lines": {"sku": "TOP-1"}, "channel": "web", "currency": "EUR"}',
        b'{"lines": [{"sku": "TOP-1", "quantity": "2"}], "channel": "web", "currency": "EUR"}',
        b'{"lines": [{"sku": 7, "quantity": 2}], "channel": "web", "currency": "EUR"}',
        b'{"lines": [{"sku": "TOP-1", "quantity": 2}], "currency": "EUR"}',
    ],
    ids=[
        "not-json",
        "not-an-object",
        "lines-not-a-list",
        "text-quantity",
        "number-sku",
        "no-channel",
    ],
)
async def test_a_body_outside_the_contract_is_malformed_request(
    http: httpx.AsyncClient, body: bytes
) -> None:
    response = await http.post(
        "/internal/quote", content=body, headers={"content-type": "application/json"}
    )

    assert refusal(response) == (400, "MALFORMED_REQUEST"), response.text


async def test_a_body_over_the_limit_is_refused_before_it_is_read(http: httpx.AsyncClient) -> None:
    response = await http.post("/internal/quote", content=b" " * (MAX_BODY_BYTES + 1))

    assert refusal(response) == (413, "PAYLOAD_TOO_LARGE")


async def test_a_forged_caller_identity_is_refused_as_on_graphql(http: httpx.AsyncClient) -> None:
    forged = {"x-retailgraph-caller": "v1.eyJjbGllbnQiOiJvcGVyYXRvciJ9.forged"}

    internal = await http.post("/internal/quote", json=asked(("TOP-1", 1)), headers=forged)
    graphql = await http.post("/graphql", json={"query": "{ __typename }"}, headers=forged)

    assert refusal(internal) == (401, "INVALID_CALLER_IDENTITY")
    assert graphql.status_code == 401


async def test_an_internal_endpoint_takes_posts_only_and_unknown_ones_are_not_found(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/internal/quote")).status_code == 405
    assert (await http.post("/internal/reserve", json={})).status_code == 404
