"""Fuzzing the inventory subgraph finds no server errors, in the schema or in _entities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db import migrations
from adapters.db.engine import create_engine
from domains.inventory import tables
from domains.inventory.app import create_app
from tests.fuzzing import (
    assert_no_internal_errors,
    fuzz_operations,
    junk_representations,
    run_apart,
)
from tests.integration.inventory.conftest import gql, open_domain, seed_locations, stock
from tests.support import local_runtime

ENTITY_KEYS = {"Product": ["sku"], "Location": ["id"], "Reservation": ["id"]}


async def _prepare(url: str) -> None:
    engine = create_engine(url)
    await migrations.upgrade(engine, "inventory", tables.metadata)
    domain = await open_domain(engine)
    await seed_locations(domain)
    await stock(domain, "SKU-1", on_hand=50, incoming=10)
    await engine.dispose()


def test_fuzzed_operations_get_no_server_errors(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}"
    run_apart(lambda: _prepare(url))
    fuzzed = fuzz_operations(create_app(local_runtime(inventory=url)), examples=25)
    assert len(fuzzed) >= 9


async def test_junk_entity_representations_get_client_errors_only(
    served: Any, engine: AsyncEngine
) -> None:
    client, domain = served
    await stock(domain, "SKU-1", on_hand=5)
    query = """query ($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { sku stock(locationId: "DC") { available } stockLevels { onHand }
                         availability(channel: "web") { available } }
        ... on Location { id name channels }
        ... on Reservation { id status quantity } } }"""
    nul = [{"__typename": t, key: "a\x00b"} for t, (key,) in ENTITY_KEYS.items()]
    for batch in [nul, *junk_representations(ENTITY_KEYS, rounds=60)]:
        response = await client.post("/graphql", json={"query": query, "variables": {"r": batch}})
        assert_no_internal_errors(response)
    assert "errors" not in await gql(client, "{ locations { id } }")
