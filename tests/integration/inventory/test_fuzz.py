"""Fuzzing the inventory subgraph finds no server errors, in the schema or in _entities."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.db import migrations
from adapters.db.engine import create_engine
from adapters.runtime import Runtime
from domains.inventory import tables
from domains.inventory.app import create_app
from tests.fuzzing import FUZZ_SETTINGS, graphql_schema, junk_representations, no_internal_errors
from tests.integration.inventory.conftest import gql, open_domain, seed_locations, stock

ENTITY_KEYS = {"Product": ["sku"], "Location": ["id"], "Reservation": ["id"]}


def _prepare(url: str) -> None:
    async def prepare() -> None:
        engine = create_engine(url)
        await migrations.upgrade(engine, "inventory", tables.metadata)
        domain = await open_domain(engine)
        await seed_locations(domain)
        await stock(domain, "SKU-1", on_hand=50, incoming=10)
        await engine.dispose()

    # Its own thread and loop: the test session's loop must stay untouched.
    thread = threading.Thread(target=asyncio.run, args=(prepare(),))
    thread.start()
    thread.join()


def test_fuzzed_operations_get_no_server_errors(tmp_path: Path) -> None:
    # schemathesis' own @schema.parametrize() (and from_fixture) break on this pytest
    # version, so each operation's case strategy runs under hypothesis here instead.
    url = f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}"
    _prepare(url)
    runtime = Runtime(
        bus=InProcessBus(),
        cache=MemoryStore(),
        database_urls={"inventory": url},
        migrate_on_start=True,
    )
    app = create_app(runtime)
    schema = graphql_schema(app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    try:
        _fuzz(operations)
    finally:
        # The app's lifespan runs on schemathesis' shared loop until the process ends;
        # end this app's (only) with the test, so its relay and sweep stop polling.
        lifespan = asgi._LIFESPANS.pop(id(app), None)
        if lifespan is not None:
            lifespan.stop()


def _fuzz(operations: list[Any]) -> None:
    for operation in operations:

        @settings(FUZZ_SETTINGS, max_examples=25)
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            # Schemathesis counts every resolver error as a server (or a refused-client)
            # failure; a coded domain error is the right answer to junk input, so
            # no_internal_errors judges those instead.
            case.call_and_validate(
                additional_checks=[no_internal_errors],
                excluded_checks=[not_a_server_error, positive_data_acceptance],
            )

        fuzz()


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
        assert response.status_code < 500, response.text
        errors = response.json().get("errors") or []
        codes = {(e.get("extensions") or {}).get("code") for e in errors}
        assert None not in codes, errors
        assert "INTERNAL_SERVER_ERROR" not in codes, errors
    assert "errors" not in await gql(client, "{ locations { id } }")
