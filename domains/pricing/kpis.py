"""Pricing's KPI gauge: price parity across the channels that must share a base price.

A channel's effective base price for a SKU is its own override, else the price list's
price for every channel (``*``). A SKU violates parity in a currency when the channels in
``parity_channels`` that have a price for it do not all have the same one. Only SKUs with
an override in one of those channels can, so the read walks the channel index over the
overrides and looks up their ``*`` prices by key: its cost follows the number of
overrides (and their history), never the size of the price lists. Prices are those in
effect at the moment of the read: a scheduled change counts once it takes effect.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import bounded_read
from adapters.metrics.gauges import Probe, Reading
from domains.pricing.model import as_utc
from domains.pricing.tables import ALL_CHANNELS, base_prices
from kernel.clock import Clock

GAUGE = "retailgraph_price_parity_violations"
Key = tuple[str, str]  # (sku, currency)


async def read_parity(
    engine: AsyncEngine,
    parity_channels: Collection[str],
    currencies: Collection[str],
    *,
    statement_timeout: float,
    at: datetime,
) -> list[Reading]:
    """SKUs out of parity, per currency: every currency the retailer prices in has its
    series (zero when in parity), and so has one only the stored prices still use."""
    channels = sorted(set(parity_channels))
    overrides = base_prices.alias("override")
    columns = (
        base_prices.c.sku,
        base_prices.c.currency,
        base_prices.c.channel,
        base_prices.c.effective_from,
        base_prices.c.amount,
    )
    every_channel = select(*columns).join(
        overrides,
        and_(
            overrides.c.sku == base_prices.c.sku,
            overrides.c.currency == base_prices.c.currency,
            overrides.c.channel.in_(channels),
        ),
    )
    every_channel = every_channel.where(
        base_prices.c.channel == ALL_CHANNELS, base_prices.c.effective_from <= at
    ).distinct()
    own = select(*columns).where(
        base_prices.c.channel.in_(channels), base_prices.c.effective_from <= at
    )
    async with bounded_read(engine, statement_timeout=statement_timeout) as conn:
        own_rows = _in_effect((await conn.execute(own)).all())
        shared_rows = _in_effect((await conn.execute(every_channel)).all())
    found = _violations(own_rows, shared_rows, len(channels))
    return [
        Reading(
            "retailgraph_price_parity_violations", found.get(currency, 0), (("currency", currency),)
        )
        for currency in sorted({*currencies, *found})
    ]


def _in_effect(rows: Iterable[Any]) -> list[tuple[str, str, str]]:
    """(sku, currency, amount) of each list's row in effect: the latest of its history."""
    latest: dict[tuple[str, str, str], tuple[datetime, str]] = {}
    for sku, currency, channel, effective_from, amount in rows:
        moment = as_utc(effective_from)
        key = (sku, currency, channel)
        if key not in latest or latest[key][0] < moment:
            latest[key] = (moment, amount)
    return [(sku, currency, amount) for (sku, currency, _), (_, amount) in latest.items()]


def _violations(
    own_rows: Sequence[tuple[str, str, str]],
    shared_rows: Sequence[tuple[str, str, str]],
    channel_count: int,
) -> dict[str, int]:
    """SKUs out of parity per currency, from the overrides in the parity channels and the
    ``*`` prices of their SKUs (which the channels without an override of their own pay)."""
    own: dict[Key, list[Decimal]] = defaultdict(list)
    for sku, currency, amount in own_rows:
        own[(sku, currency)].append(Decimal(amount))
    shared = {(sku, currency): Decimal(amount) for sku, currency, amount in shared_rows}
    found: dict[str, int] = defaultdict(int)
    for key, amounts in own.items():
        prices = set(amounts)
        if len(amounts) < channel_count and key in shared:
            prices.add(shared[key])
        if len(prices) > 1:
            found[key[1]] += 1
    return found


def parity_probe(
    engine: AsyncEngine,
    parity_channels: Collection[str],
    currencies: Collection[str],
    clock: Clock,
    *,
    timeout: float = 2.0,
) -> Probe:
    async def probe() -> Sequence[Reading]:
        return await read_parity(
            engine, parity_channels, currencies, statement_timeout=timeout, at=clock.now()
        )

    return probe
