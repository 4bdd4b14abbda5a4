"""Fuzzing the products subgraph finds no server errors, in the schema or in _entities."""

from __future__ import annotations

from pathlib import Path

from domains.products import service
from domains.products.app import create_app
from domains.products.bootstrap import start
from tests.fuzzing import (
    assert_no_internal_errors,
    fuzz_operations,
    junk_representations,
    run_apart,
)
from tests.integration.products.conftest import make_items
from tests.support import local_runtime, serving

ENTITIES = """query ($r: [_Any!]!) { _entities(representations: $r) {
    ... on Product { sku name publishedIn(channel: "web") variants { sku }
                     publications { channel published since } } } }"""


async def _seed(url: str) -> None:
    domain = await start(local_runtime(products=url))
    await service.import_items(domain.uow(), make_items(styles=3, variants=2))
    await service.publish_many(domain.uow(), [("ST-0001-01", "web"), ("ST-0002-01", "app")])
    await service.discontinue_product(domain.uow(), "ST-0003-01")
    await domain.close()


def test_fuzzed_operations_get_no_server_errors(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'products.db'}"
    run_apart(lambda: _seed(url))
    fuzzed = fuzz_operations(create_app(local_runtime(products=url)), examples=25)
    assert set(fuzzed) >= {
        "Query.product",
        "Query.products",
        "Mutation.publishProduct",
        "Mutation.unpublishProduct",
        "Mutation.discontinueProduct",
    }


async def test_junk_entity_representations_get_client_errors_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'products.db'}"
    app = create_app(local_runtime(products=url))
    async with serving(app, "http://products") as client:
        await service.import_items(app.state.domain.uow(), make_items(styles=2, variants=2))
        for batch in junk_representations({"Product": ["sku"]}, rounds=80):
            response = await client.post(
                "/graphql", json={"query": ENTITIES, "variables": {"r": batch}}
            )
            assert_no_internal_errors(response)
        known = [{"__typename": "Product", "sku": "ST-0001-01"}]
        response = await client.post(
            "/graphql", json={"query": ENTITIES, "variables": {"r": known}}
        )
        assert response.json()["data"]["_entities"][0]["sku"] == "ST-0001-01"
