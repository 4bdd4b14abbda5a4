"""The products subgraph over HTTP (ASGI), on both backends: SDL, entities, pages, errors."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from graphql import parse
from graphql.language import ObjectTypeDefinitionNode, SchemaExtensionNode, print_ast
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore, RedisStore, Store
from adapters.runtime import Runtime
from domains.products import service
from domains.products.app import create_app
from domains.products.bootstrap import ProductsDomain
from tests.integration.products.conftest import make_items, relayed, unique_prefix
from tests.support import suite_clock

ENTITIES = """
query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Product { sku name } }
}
"""
PAGE = """
query ($first: Int!, $after: String, $filter: ProductFilter) {
  products(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { sku } }
  }
}
"""


@asynccontextmanager
async def serve(engine: AsyncEngine, cache: Store) -> AsyncIterator[httpx.AsyncClient]:
    runtime = Runtime(bus=InProcessBus(), cache=cache, migrate_on_start=True, clock=suite_clock())
    app: Starlette = create_app(runtime, engine=engine)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://products") as client:
            client.domain = app.state.domain  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def client(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(engine, MemoryStore()) as served:
        yield served


def domain_of(client: httpx.AsyncClient) -> ProductsDomain:
    domain: ProductsDomain = client.domain  # type: ignore[attr-defined]
    return domain


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@contextmanager
def product_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements that read or write this domain's product tables."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "products_product" in statement or "products_publication" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def test_service_sdl_is_federation_v2_with_the_product_key(
    client: httpx.AsyncClient,
) -> None:
    body = await gql(client, "{ _service { sdl } }")
    sdl = body["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    document = parse(sdl)
    links = [d for d in document.definitions if isinstance(d, SchemaExtensionNode)] or [
        d for d in document.definitions if d.kind == "schema_definition"
    ]
    assert links
    product = next(
        d
        for d in document.definitions
        if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Product"
    )
    assert [print_ast(d) for d in product.directives] == ['@key(fields: "sku")']
    fields = {f.name.value for f in product.fields}
    assert {"sku", "variants", "publications", "publishedIn", "unitOfMeasure"} <= fields


async def test_entities_resolve_a_hundred_products_with_one_sql_statement_in_order(
    client: httpx.AsyncClient,
) -> None:
    items = make_items(styles=25, variants=4)
    await service.import_items(domain_of(client).uow(), items)
    await relayed(domain_of(client))
    skus = [item["sku"] for item in items]
    random.Random(7).shuffle(skus)
    representations = [{"__typename": "Product", "sku": sku} for sku in skus]
    with product_statements(domain_of(client).engine) as statements:
        body = await gql(client, ENTITIES, {"representations": representations})
    assert "errors" not in body
    assert [entity["sku"] for entity in body["data"]["_entities"]] == skus
    assert len(statements) == 1, statements
    with product_statements(domain_of(client).engine) as statements:
        await gql(client, ENTITIES, {"representations": representations})
    assert statements == []  # the product cards are cached now


async def test_entities_give_null_and_a_coded_error_for_unknown_keys(
    client: httpx.AsyncClient,
) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=1, variants=2))
    representations = [
        {"__typename": "Product", "sku": "ST-0001-02"},
        {"__typename": "Product", "sku": "NOPE-1"},
        {"__typename": "Product", "sku": 12},
        {"__typename": "Product", "sku": "ST-0001-01"},
    ]
    body = await gql(client, ENTITIES, {"representations": representations})
    assert body["data"]["_entities"] == [
        {"sku": "ST-0001-02", "name": "Northwind Polo White"},
        None,
        None,
        {"sku": "ST-0001-01", "name": "Northwind Polo Black"},
    ]
    by_path = {tuple(e["path"]): e["extensions"]["code"] for e in body["errors"]}
    assert by_path == {("_entities", 1): "PRODUCT_NOT_FOUND", ("_entities", 2): "BAD_USER_INPUT"}


async def test_product_shows_master_data_variants_and_publication(
    client: httpx.AsyncClient,
) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=2, variants=3))
    await service.publish_product(domain_of(client).uow(), "ST-0001-02", "app")
    body = await gql(
        client,
        """{ product(sku: "ST-0001-02") {
            sku name brand category unitOfMeasure style status
            attributes { name value } variantAttributes { name value }
            variants { sku } publishedIn(channel: "app")
            publications { channel published since } }
          missing: product(sku: "NOPE-1") { sku } }""",
    )
    product = body["data"]["product"]
    assert product["variants"] == [{"sku": "ST-0001-01"}, {"sku": "ST-0001-03"}]
    assert product["variantAttributes"] == [{"name": "colour", "value": "white"}]
    assert product["attributes"] == [{"name": "material", "value": "cotton"}]
    assert (product["status"], product["unitOfMeasure"], product["publishedIn"]) == (
        "ACTIVE",
        "EA",
        True,
    )
    assert [(p["channel"], p["published"]) for p in product["publications"]] == [
        ("web", False),
        ("app", True),
        ("store", False),
        ("amazon", False),
    ]
    assert product["publications"][0]["since"] is None
    assert body["data"]["missing"] is None


async def test_variants_of_a_whole_page_cost_one_sql_statement(client: httpx.AsyncClient) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=5, variants=3))
    query = "{ products(first: 15) { edges { node { sku variants { sku } } } } }"
    with product_statements(domain_of(client).engine) as statements:
        body = await gql(client, query)
    nodes = [edge["node"] for edge in body["data"]["products"]["edges"]]
    assert len(nodes) == 15
    assert all(len(node["variants"]) == 2 for node in nodes)
    # the page of SKUs, the cards of the page, and the variants of every style on it
    assert len(statements) == 3, statements


async def test_products_pages_walk_the_filtered_catalogue_with_stable_cursors(
    client: httpx.AsyncClient,
) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=6, variants=3))
    filter_ = {"category": "apparel", "search": "POLO"}
    seen: list[str] = []
    cursors: list[str] = []
    after = None
    while True:
        body = await gql(client, PAGE, {"first": 5, "after": after, "filter": filter_})
        page = body["data"]["products"]
        seen.extend(edge["node"]["sku"] for edge in page["edges"])
        cursors.extend(edge["cursor"] for edge in page["edges"])
        assert page["totalCount"] == 12
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 12
    assert seen == sorted(seen)
    assert all("apparel" not in c and "ST-" not in c for c in cursors)
    again = await gql(client, PAGE, {"first": 2, "after": cursors[4], "filter": filter_})
    assert [e["node"]["sku"] for e in again["data"]["products"]["edges"]] == seen[5:7]


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"first": 0}, "INVALID_PAGE_SIZE"),
        ({"first": 201}, "INVALID_PAGE_SIZE"),
        ({"first": -5}, "INVALID_PAGE_SIZE"),
        ({"first": 5, "after": "not a cursor"}, "INVALID_CURSOR"),
        ({"first": 5, "filter": {"channel": "fax"}}, "UNKNOWN_CHANNEL"),
        ({"first": 5, "filter": {"category": "Not/A Path"}}, "INVALID_FILTER"),
        ({"first": 5, "filter": {"search": "x" * 101}}, "INVALID_FILTER"),
        ({"first": "five"}, "BAD_USER_INPUT"),  # a variable that does not coerce, as Apollo
    ],
)
async def test_bad_listing_arguments_get_a_coded_error_not_a_500(
    client: httpx.AsyncClient, variables: dict[str, Any], code: str
) -> None:
    body = await gql(client, PAGE, variables)
    assert codes(body) == [code]


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        ('publishProduct(sku: "NOPE-1", channel: "web")', "PRODUCT_NOT_FOUND"),
        ('publishProduct(sku: "ST-0001-01", channel: "fax")', "UNKNOWN_CHANNEL"),
        ('unpublishProduct(sku: "NOPE-1", channel: "web")', "PRODUCT_NOT_FOUND"),
        ('discontinueProduct(sku: "NOPE-1")', "PRODUCT_NOT_FOUND"),
        ('publishProduct(sku: "ST-0001-02", channel: "web")', "PRODUCT_DISCONTINUED"),
    ],
)
async def test_bad_mutations_get_a_coded_error_not_a_500(
    client: httpx.AsyncClient, mutation: str, code: str
) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=1, variants=2))
    await service.discontinue_product(domain_of(client).uow(), "ST-0001-02")
    body = await gql(client, f"mutation {{ {mutation} {{ sku }} }}")
    assert codes(body) == [code]
    assert body["data"] is None


async def test_published_in_an_unknown_channel_is_a_coded_error(
    client: httpx.AsyncClient,
) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=1, variants=1))
    body = await gql(client, '{ product(sku: "ST-0001-01") { publishedIn(channel: "fax") } }')
    assert codes(body) == ["UNKNOWN_CHANNEL"]


async def _read_your_write(client: httpx.AsyncClient, sku: str) -> None:
    query = 'query ($sku: ID!) { product(sku: $sku) { publishedIn(channel: "web") status } }'
    before = await gql(client, query, {"sku": sku})
    assert before["data"]["product"] == {"publishedIn": False, "status": "ACTIVE"}
    changed = await gql(
        client,
        "mutation ($sku: ID!) {"
        ' publishProduct(sku: $sku, channel: "web") { publishedIn(channel: "web") } }',
        {"sku": sku},
    )
    assert changed["data"]["publishProduct"] == {"publishedIn": True}
    after = await gql(client, query, {"sku": sku})
    assert after["data"]["product"] == {"publishedIn": True, "status": "ACTIVE"}
    await gql(
        client, "mutation ($sku: ID!) { discontinueProduct(sku: $sku) { sku } }", {"sku": sku}
    )
    entity = await gql(
        client,
        "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { status } } }",
        {"r": [{"__typename": "Product", "sku": sku}]},
    )
    assert entity["data"]["_entities"] == [{"status": "DISCONTINUED"}]


async def test_a_query_right_after_a_mutation_sees_the_new_value(
    client: httpx.AsyncClient,
) -> None:
    await service.import_items(domain_of(client).uow(), make_items(styles=1, variants=1))
    await _read_your_write(client, "ST-0001-01")


@pytest.mark.redis
async def test_a_query_right_after_a_mutation_sees_the_new_value_with_redis_cards(
    engine: AsyncEngine, redis_client: redis.Redis
) -> None:
    prefix = unique_prefix()
    async with serve(engine, RedisStore(redis_client)) as served:
        await service.import_items(domain_of(served).uow(), make_items(1, 1, prefix=prefix))
        sku = f"{prefix}-0001-01"
        await _read_your_write(served, sku)
        # The card a read loads while the events' own invalidation is still on its way is
        # not kept (it may predate the change); once they are relayed, a read keeps it.
        await domain_of(served).relay.drain()
        await gql(served, "query ($sku: ID!) { product(sku: $sku) { sku } }", {"sku": sku})
        assert await redis_client.exists(domain_of(served).cards.key(sku))
