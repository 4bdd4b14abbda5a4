"""What the pricing integration tests share: a started domain, seed data, SQL counting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.runtime import DomainBase
from domains.pricing import imports, service
from domains.pricing.bootstrap import PricingDomain, start
from domains.pricing.model import DiscountKind, Stacking
from tests.support import TEST_NOW, local_runtime

# The tests' clock starts here: promotions are dated around it, whatever today is.
NOW = TEST_NOW
DAY = timedelta(days=1)
PRICED_SINCE = 365 * DAY  # how long before NOW the seeded prices are in effect

SKUS = {
    "TOP-1": ("apparel/tops", "0.19", "20.00"),
    "TOP-2": ("apparel/tops", "0.19", "35.50"),
    "MUG-1": ("home/kitchen", "0.07", "9.99"),
    "TENT-1": ("outdoor", "0.19", "199.00"),
}


@contextlib.asynccontextmanager
async def running_domain(engine: AsyncEngine) -> AsyncIterator[PricingDomain]:
    runtime = local_runtime()
    domain = await start(runtime, engine=engine)
    runtime.consume(domain.consumers())  # as the subgraph serving it does
    try:
        yield domain
    finally:
        await domain.close()


async def seed_prices(domain: PricingDomain) -> None:
    """The SKUs' facts and their EUR and USD prices, in effect since a year before ``NOW``
    (first prices may be dated back), so prices asked for at ``NOW`` find them."""
    await imports.register_skus(
        domain.uow(),
        [imports.SkuFacts(sku, cat, Decimal(rate)) for sku, (cat, rate, _) in SKUS.items()],
    )
    for currency, factor in (("EUR", Decimal(1)), ("USD", Decimal("1.10"))):
        rows = [
            imports.PriceRow(sku, currency, (Decimal(price) * factor).quantize(Decimal("0.01")))
            for sku, (_, _, price) in SKUS.items()
        ]
        await imports.import_price_list(
            domain.uow, currency, rows, effective_from=NOW - PRICED_SINCE
        )


def percent_terms(percent: str = "20", **options: Any) -> Any:
    values: dict[str, Any] = {
        "name": f"{percent}% off",
        "starts_at": NOW - DAY,
        "ends_at": NOW + 7 * DAY,
        "kind": DiscountKind.PERCENT_OFF,
        "percent": percent,
        "categories": ["apparel"],
        "stacking": Stacking.EXCLUSIVE,
    }
    values.update(options)
    return service.build_terms(**values)


async def live_promotion(domain: PricingDomain, terms: Any, promotion_id: str) -> None:
    await service.create_promotion(domain.uow(), terms, promotion_id=promotion_id, at=NOW - DAY)
    await service.activate_promotion(domain.uow(), promotion_id, at=NOW - DAY)


class StatementCounter:
    """Counts the SELECTs on pricing's tables, leaving out the outbox relay's own work
    (its advisory lock and outbox polling run in the background at any moment)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        text = statement.lstrip().upper()
        if text.startswith("SELECT") and "PRICING_" in text and "PRICING_OUTBOX" not in text:
            self.statements.append(statement)

    @contextlib.contextmanager
    def on(self, engine: AsyncEngine) -> Iterator[StatementCounter]:
        self.statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", self)
        try:
            yield self
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", self)


async def gql(http: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def settle(domain: DomainBase) -> None:
    """Wait until every recorded event has been relayed and handled.

    Relayed events invalidate the read models a second time when they arrive; a test that
    counts statements must not let a late one empty a warm cache. ``depth`` reaches zero
    only after the relay's publish (and so every handler) has returned.
    """
    await domain.relay.drain()
    for _ in range(1000):
        if not await domain.relay.depth():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not drain")
