"""Fuzzing the pricing subgraph finds no server errors, in the schema or in _entities."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import create_engine
from domains.pricing.app import create_app
from tests.fuzzing import (
    assert_no_internal_errors,
    fuzz_operations,
    junk_representations,
    run_apart,
)
from tests.integration.pricing.support import (
    live_promotion,
    percent_terms,
    running_domain,
    seed_prices,
)
from tests.support import local_runtime, serving

ENTITY_KEYS = {"Product": ["sku"], "Promotion": ["id"]}


async def _prepare(url: str) -> None:
    engine = create_engine(url)
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        await live_promotion(domain, percent_terms("20"), "fuzz-promo")
    await engine.dispose()


def test_fuzzed_operations_get_no_server_errors(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pricing.db'}"
    run_apart(lambda: _prepare(url))
    # Nine operations share the 30-second budget of one fuzz test on a busy two-core machine.
    fuzzed = fuzz_operations(create_app(local_runtime(pricing=url)), examples=25)
    assert len(fuzzed) >= 8


async def test_junk_entity_representations_get_client_errors_only(engine: AsyncEngine) -> None:
    app = create_app(local_runtime(), engine=engine)
    query = """query ($r: [_Any!]!) { _entities(representations: $r) {
        ... on Product { sku price(channel: "web", currency: "EUR") { promotional { amount } }
                         promotions { id } }
        ... on Promotion { id name status versions { number } } } }"""
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)
        await live_promotion(app.state.domain, percent_terms("20"), "k-1")
        for batch in junk_representations(ENTITY_KEYS, rounds=60):
            response = await http.post("/graphql", json={"query": query, "variables": {"r": batch}})
            assert_no_internal_errors(response)
