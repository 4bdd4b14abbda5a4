"""A checkout's quote reads the database once: one statement, in no transaction, seeing
the lines' prices, the live promotions and the low-stock pauses in the region."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.pricing import handlers, service
from tests.integration.pricing.support import (
    NOW,
    live_promotion,
    percent_terms,
    running_domain,
    seed_prices,
    settle,
)


@contextlib.contextmanager
def every_statement(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every statement sent, BEGIN included (SQLite's is sent as one)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


def transactions_ended() -> float:
    return sum(
        REGISTRY.get_sample_value(
            "retailgraph_db_transactions_total", {"domain": "pricing", "outcome": outcome}
        )
        or 0.0
        for outcome in ("committed", "rolled_back")
    )


async def test_a_quote_is_one_statement_in_no_transaction_and_sees_the_regions_pauses(
    engine: AsyncEngine,
) -> None:
    async with running_domain(engine) as domain:
        await seed_prices(domain)
        await live_promotion(domain, percent_terms("20", low_stock_threshold=5), "tops-20")
        await handlers.apply_regional_availability(
            domain.uow(), sku="TOP-1", region="north", available=2, at=NOW
        )
        await settle(domain)
        # Only the quote's statements count: the background passes poll the same database.
        await domain.stop_background()
        lines = [("TOP-1", 1), ("TOP-2", 2), ("MUG-1", 1)]
        before = transactions_ended()
        with every_statement(engine) as sent:
            north = await service.quote(
                domain.uow(), lines, channel="web", currency="EUR", region="north", at=NOW
            )
        assert len(sent) == 1, sent
        assert transactions_ended() == before
        south = await service.quote(
            domain.uow(), lines, channel="web", currency="EUR", region="south", at=NOW
        )

    # TOP-1 is paused in the north only; TOP-2 is discounted in both; mugs never were.
    assert [line.line_total for line in north.lines] == [
        Decimal("20.00"),
        Decimal("56.80"),
        Decimal("9.99"),
    ]
    assert [line.line_total for line in south.lines] == [
        Decimal("16.00"),
        Decimal("56.80"),
        Decimal("9.99"),
    ]
