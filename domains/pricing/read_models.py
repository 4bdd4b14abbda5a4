"""Cached read models: base prices per (sku, channel, currency) and the live promotions.

Prices shown on product pages are computed per request from these two: the base price
facts of the SKU and the current terms of live promotions, filtered by the ``at`` asked
for. Caching the inputs, not the results, keeps the cache right across promotion windows
opening and closing, and lets one invalidation of the promotion set reprice every SKU.

A cached base price is the one in effect when it was loaded, with the span it holds for
(until the next scheduled price of the SKU takes effect). A read at a moment outside that
span (the past, or past a scheduled change) goes to the database: a scheduled price is
served from its moment on even before its ``PriceChanged`` is announced, and a price
scheduled after the load drops the entry everywhere (``PriceScheduled``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.cache import ReadModel, Store
from domains.pricing.model import Offer, as_utc
from domains.pricing.repository import PriceKey, SkuPrice, fetch_live_offers, fetch_sku_prices
from domains.pricing.serialization import terms_from_dict, terms_to_dict
from domains.pricing.tables import ALL_CHANNELS
from kernel.channels import SalesVocabulary
from kernel.clock import Clock
from kernel.event_types import (
    PriceChanged,
    PriceScheduled,
    PromotionActivated,
    PromotionCreated,
    PromotionPaused,
    PromotionRolledBack,
    PromotionStatusChanged,
    PromotionVersionPublished,
    SkuPricingChanged,
)
from kernel.events import Event

PRICES = "pricing.price"
OFFERS = "pricing.offers"
LIVE = "live"
PROMOTION_EVENTS = (
    PromotionCreated.TYPE,
    PromotionVersionPublished.TYPE,
    PromotionActivated.TYPE,
    PromotionPaused.TYPE,
    PromotionRolledBack.TYPE,
)
PRICE_EVENTS = (PriceChanged.TYPE, PriceScheduled.TYPE, SkuPricingChanged.TYPE)
# A window opening or closing, or a low-stock pause: the live set is reloaded too, so no
# replica answers from a promotion set older than the announcement it has seen.
STATUS_EVENTS = (PromotionStatusChanged.TYPE,)


def price_key(sku: str, channel: str, currency: str) -> str:
    return f"{channel}|{currency}|{sku}"


def _split(key: str) -> PriceKey:
    channel, currency, sku = key.split("|", 2)
    return sku, channel, currency


class PricingReadModels:
    def __init__(
        self, store: Store, engine: AsyncEngine, *, clock: Clock, sales: SalesVocabulary
    ) -> None:
        self.engine = engine
        self.sales = sales
        self.clock = clock
        self.prices: ReadModel[str] = ReadModel(
            store, PRICES, self._load_prices, clock=clock, fresh_for=60.0
        )
        self.offers: ReadModel[str] = ReadModel(
            store, OFFERS, self._load_offers, clock=clock, fresh_for=30.0
        )

    async def sku_prices(self, keys: Sequence[PriceKey], at: datetime) -> list[SkuPrice | None]:
        """Base prices in effect at ``at``: cached when the cached answer holds then, else
        read (one statement) at ``at``."""
        values = await self.prices.get_many([price_key(*k) for k in keys])
        found = [
            None if value is None else _fact(key, value)
            for key, value in zip(keys, values, strict=True)
        ]
        outside = [i for i, fact in enumerate(found) if fact is not None and not fact.holds_at(at)]
        if outside:
            async with self.engine.connect() as conn:
                read = await fetch_sku_prices(conn, [keys[i] for i in outside], at)
            for i in outside:
                found[i] = read.get(keys[i])
        return found

    async def live_offers(self) -> list[Offer]:
        values = await self.offers.get(LIVE) or []
        return [Offer(v["promotionId"], terms_from_dict(v["terms"])) for v in values]

    async def invalidate_for(self, events: Sequence[Event]) -> None:
        """Drop what ``events`` made stale: one SKU's prices, or the live promotion set."""
        keys = [
            price_key(e.partition_key, channel, currency)
            for e in events
            if e.type in PRICE_EVENTS
            for channel in (*self.sales.channels, ALL_CHANNELS)
            for currency in self.sales.currencies
        ]
        if keys:
            await self.prices.invalidate(list(dict.fromkeys(keys)))
        if any(e.type in PROMOTION_EVENTS or e.type in STATUS_EVENTS for e in events):
            await self.offers.invalidate([LIVE])

    async def on_event(self, event: Event) -> None:
        """Another replica changed prices or promotions (our own commits did this already)."""
        await self.invalidate_for([event])

    async def _load_prices(self, keys: Sequence[str]) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            found = await fetch_sku_prices(conn, [_split(k) for k in keys], self.clock.now())
        return {
            price_key(*key): {
                "category": fact.category,
                "taxRate": str(fact.tax_rate),
                "amount": None if fact.amount is None else str(fact.amount),
                "since": None if fact.since is None else fact.since.isoformat(),
                "until": None if fact.until is None else fact.until.isoformat(),
            }
            for key, fact in found.items()
        }

    async def _load_offers(self, keys: Sequence[str]) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            offers = await fetch_live_offers(conn)
        return {
            LIVE: [{"promotionId": o.promotion_id, "terms": terms_to_dict(o.terms)} for o in offers]
        }


def _fact(key: PriceKey, value: dict[str, Any]) -> SkuPrice:
    since, until = value.get("since"), value.get("until")
    return SkuPrice(
        sku=key[0],
        category=value["category"],
        tax_rate=Decimal(value["taxRate"]),
        amount=None if value["amount"] is None else Decimal(value["amount"]),
        since=None if since is None else as_utc(datetime.fromisoformat(since)),
        until=None if until is None else as_utc(datetime.fromisoformat(until)),
    )
