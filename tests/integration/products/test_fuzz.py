"""Fuzzing the products subgraph finds no server errors, in the schema or in _entities."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.python.asgi import shutdown_lifespans

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.runtime import Runtime
from domains.products import service
from domains.products.app import create_app
from domains.products.bootstrap import start
from tests.fuzzing import FUZZ_SETTINGS, graphql_schema, junk_representations, no_internal_errors
from tests.integration.products.conftest import make_items

ENTITIES = """query ($r: [_Any!]!) { _entities(representations: $r) {
    ... on Product { sku name publishedIn(channel: "web") variants { sku }
                     publications { channel published since } } } }"""


def _runtime(url: str) -> Runtime:
    return Runtime(
        bus=InProcessBus(),
        cache=MemoryStore(),
        database_urls={"products": url},
        migrate_on_start=True,
    )


def _seed(url: str) -> None:
    async def seed() -> None:
        domain = await start(_runtime(url))
        await service.import_items(domain.uow(), make_items(styles=3, variants=2))
        await service.publish_many(domain.uow(), [("ST-0001-01", "web"), ("ST-0002-01", "app")])
        await service.discontinue_product(domain.uow(), "ST-0003-01")
        await domain.close()

    # Its own thread and loop: the test session's loop must stay untouched.
    thread = threading.Thread(target=asyncio.run, args=(seed(),))
    thread.start()
    thread.join()


def test_fuzzed_operations_get_no_server_errors(tmp_path: Path) -> None:
    # schemathesis' @schema.parametrize() and from_fixture break on this pytest version
    # (as the other domains found), so each operation's strategy runs under hypothesis.
    url = f"sqlite+aiosqlite:///{tmp_path / 'products.db'}"
    _seed(url)
    schema = graphql_schema(create_app(_runtime(url)))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {o.label for o in operations} >= {
        "Query.product",
        "Query.products",
        "Mutation.publishProduct",
        "Mutation.unpublishProduct",
        "Mutation.discontinueProduct",
    }
    try:
        for operation in operations:
            _fuzz(operation)
    finally:
        # The app's lifespan runs on schemathesis' shared loop; end it with this test.
        shutdown_lifespans()


def _fuzz(operation: Any) -> None:
    @settings(FUZZ_SETTINGS, max_examples=25)
    @given(case=operation.as_strategy())
    def fuzz(case: Any) -> None:
        # A coded domain error is the right answer to junk input; schemathesis would count
        # it as a failure, so no_internal_errors judges responses instead.
        case.call_and_validate(
            additional_checks=[no_internal_errors],
            excluded_checks=[not_a_server_error, positive_data_acceptance],
        )

    fuzz()


async def test_junk_entity_representations_get_client_errors_only(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'products.db'}"
    app = create_app(_runtime(url))
    async with app.router.lifespan_context(app):
        await service.import_items(app.state.domain.uow(), make_items(styles=2, variants=2))
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://products") as client:
            for batch in junk_representations({"Product": ["sku"]}, rounds=80):
                response = await client.post(
                    "/graphql", json={"query": ENTITIES, "variables": {"r": batch}}
                )
                assert response.status_code < 500, response.text
                errors = response.json().get("errors") or []
                codes = {(e.get("extensions") or {}).get("code") for e in errors}
                assert None not in codes, errors
                assert "INTERNAL_SERVER_ERROR" not in codes, errors
            known = [{"__typename": "Product", "sku": "ST-0001-01"}]
            response = await client.post(
                "/graphql", json={"query": ENTITIES, "variables": {"r": known}}
            )
            assert response.json()["data"]["_entities"][0]["sku"] == "ST-0001-01"
