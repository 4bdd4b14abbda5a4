"""A field whose error nulls the response abandons its siblings; their database work
still ends cleanly: no sibling fails for it, the pool is whole again and SQLite's write
lock comes free."""

from __future__ import annotations

import asyncio
import sqlite3

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import is_sqlite
from domains.pricing.app import create_app
from tests.integration.pricing.support import live_promotion, percent_terms, seed_prices
from tests.support import local_runtime, serving

# `quote` is non-null: its error (an unknown SKU) nulls `data`, and graphql-core cancels
# the sibling fields still reading the database.
SIBLINGS = " ".join(
    f"p{i}: promotions {{ id name }} h{i}: heldPriceChanges {{ id }} "
    f'q{i}: quote(lines: [{{sku: "TOP-1", quantity: 1}}], channel: "web", currency: "EUR") '
    "{ total { amount } }"
    for i in range(6)
)
FAILING = (
    '{ failing: quote(lines: [{sku: "NOPE", quantity: 1}], channel: "web", currency: "EUR") '
    "{ total { amount } } " + SIBLINGS + " }"
)
IMPORT = """mutation ($amount: String!) { importPriceList(currency: "EUR",
    rows: [{sku: "MUG-1", currency: "EUR", amount: $amount}]) { changed rejected { code } } }"""


async def test_abandoned_sibling_fields_leave_the_database_whole(engine: AsyncEngine) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)
        await live_promotion(app.state.domain, percent_terms("20"), "k-1")
        for _ in range(40):
            body = (await http.post("/graphql", json={"query": FAILING})).json()
            assert body["data"] is None
            assert {e["extensions"]["code"] for e in body["errors"]} == {"UNKNOWN_SKU"}, body
        assert await _checked_out_once_settled(engine) == 0
        if is_sqlite(engine):
            assert await _write_lock_comes_free(str(engine.url.database))
        written = await http.post(
            "/graphql", json={"query": IMPORT, "variables": {"amount": "10.49"}}
        )
        assert written.json() == {"data": {"importPriceList": {"changed": 1, "rejected": []}}}, (
            written.text
        )


async def _checked_out_once_settled(engine: AsyncEngine) -> int:
    """Connections still checked out once the abandoned resolvers have had their turn."""
    for _ in range(200):
        if engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            return 0
        await asyncio.sleep(0.05)
    return int(engine.pool.checkedout())  # type: ignore[attr-defined]


async def _write_lock_comes_free(database: str) -> bool:
    """Whether another connection gets the write lock without waiting, on one of many
    tries (the domain's relay and schedulers hold it for moments between them)."""
    for _ in range(100):
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            await asyncio.sleep(0.05)
        finally:
            probe.close()
    return False
