"""Fuzzing the pricing subgraph finds no server errors, in the schema or in _entities."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance
from schemathesis.python.asgi import shutdown_lifespans
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.db.engine import create_engine
from adapters.runtime import Runtime
from domains.pricing.app import create_app
from tests.fuzzing import FUZZ_SETTINGS, graphql_schema, junk_representations, no_internal_errors
from tests.integration.pricing.support import (
    client,
    live_promotion,
    percent_terms,
    running_domain,
    runtime,
    seed_prices,
)

ENTITY_KEYS = {"Product": ["sku"], "Promotion": ["id"]}
# Nine operations share the 30-second budget of one fuzz test on a busy two-core machine.
PER_OPERATION = settings(FUZZ_SETTINGS, max_examples=25)


def _prepare(url: str) -> None:
    async def prepare() -> None:
        engine = create_engine(url)
        async with running_domain(engine) as domain:
            await seed_prices(domain)
            await live_promotion(domain, percent_terms("20"), "fuzz-promo")
        await engine.dispose()

    # Its own thread and loop: the test session's loop must stay untouched.
    thread = threading.Thread(target=asyncio.run, args=(prepare(),))
    thread.start()
    thread.join()


def test_fuzzed_operations_get_no_server_errors(tmp_path: Path) -> None:
    # As in the inventory tests: schemathesis' @schema.parametrize() breaks on this pytest
    # version, so each operation's case strategy runs under hypothesis here.
    url = f"sqlite+aiosqlite:///{tmp_path / 'pricing.db'}"
    _prepare(url)
    fuzz_runtime = Runtime(bus=InProcessBus(), cache=MemoryStore(), database_urls={"pricing": url})
    schema = graphql_schema(create_app(fuzz_runtime))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    try:
        for operation in operations:

            @PER_OPERATION
            @given(case=operation.as_strategy())
            def fuzz(case: Any) -> None:
                # A coded domain error is the right answer to junk input; no_internal_errors
                # judges those, where schemathesis would count every error as a failure.
                case.call_and_validate(
                    additional_checks=[no_internal_errors],
                    excluded_checks=[not_a_server_error, positive_data_acceptance],
                )

            fuzz()
    finally:
        shutdown_lifespans()


async def test_junk_entity_representations_get_client_errors_only(engine: AsyncEngine) -> None:
    app = create_app(runtime(), engine=engine)
    query = """query ($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { sku price(channel: "web", currency: "EUR") { promotional { amount } }
                         promotions { id } }
        ... on Promotion { id name status versions { number } } } }"""
    async with client(app) as http:
        await seed_prices(app.state.domain)
        await live_promotion(app.state.domain, percent_terms("20"), "k-1")
        for batch in junk_representations(ENTITY_KEYS, rounds=60):
            response = await http.post("/graphql", json={"query": query, "variables": {"r": batch}})
            assert response.status_code < 500, response.text
            errors = response.json().get("errors") or []
            found = {(e.get("extensions") or {}).get("code") for e in errors}
            assert None not in found, errors
            assert "INTERNAL_SERVER_ERROR" not in found, errors
