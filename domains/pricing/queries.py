"""Per-request DataLoaders: each batch is at most one SQL statement (none on a cache hit).

The fixed statement counts of ``_entities`` (asserted in tests/integration/pricing), for
any number of representations:
- Product ``price``: 2 on a cold cache (base prices of every (sku, channel, currency)
  asked; the live promotions), 0 when both read models are warm.
- Product ``price`` and ``promotions``: 3 on a cold cache (the same two, plus the whole
  promotions that apply, by id).
- Promotion: 1 (promotions with all their versions), never cached; its
  ``lowStockPauses``: 1 more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiodataloader import DataLoader

from domains.pricing.bootstrap import PricingDomain
from domains.pricing.model import Offer, Promotion
from domains.pricing.read_models import LIVE
from domains.pricing.repository import (
    PriceKey,
    SkuPrice,
    StockPause,
    fetch_pauses_by_promotion,
    fetch_promotions,
    fetch_stock_pauses,
)

# (sku, channel, currency, moment); moment None: now, one "now" for the whole batch.
PriceAt = tuple[str, str, str, datetime | None]


class SkuPriceByKeyLoader(DataLoader[PriceAt, SkuPrice | None]):
    """Base price facts per (sku, channel, currency) at a moment, through the price read
    model: one read per moment asked (a request asks for one, mostly: now)."""

    def __init__(self, domain: PricingDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, keys: Sequence[PriceAt]) -> list[SkuPrice | None]:
        found: dict[PriceAt, SkuPrice | None] = {}
        for asked_at in dict.fromkeys(key[3] for key in keys):
            moment = self.domain.clock.now() if asked_at is None else asked_at
            asked: list[PriceKey] = [key[:3] for key in keys if key[3] == asked_at]
            facts = await self.domain.read_models.sku_prices(asked, moment)
            found.update({(*key, asked_at): fact for key, fact in zip(asked, facts, strict=True)})
        return [found[key] for key in keys]


class LiveOffersByScopeLoader(DataLoader[str, list[Offer]]):
    """The live promotions, loaded once per request however many prices need them."""

    def __init__(self, domain: PricingDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, keys: Sequence[str]) -> list[list[Offer]]:
        offers = await self.domain.read_models.live_offers()
        return [offers if key == LIVE else [] for key in keys]


class PromotionByIdLoader(DataLoader[str, Promotion | None]):
    def __init__(self, domain: PricingDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, ids: Sequence[str]) -> list[Promotion | None]:
        async with self.domain.engine.connect() as conn:
            found = await fetch_promotions(conn, ids)
        return [found.get(i) for i in ids]


class StockPausesBySkuAndRegionLoader(DataLoader[tuple[str, str], frozenset[str]]):
    """The promotions paused for low stock per (sku, region): one statement per batch."""

    def __init__(self, domain: PricingDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, keys: Sequence[tuple[str, str]]) -> list[frozenset[str]]:
        async with self.domain.engine.connect() as conn:
            found = await fetch_stock_pauses(conn, keys)
        return [found[key] for key in keys]


class StockPausesByPromotionLoader(DataLoader[tuple[str, int], list[StockPause]]):
    """The newest low-stock pauses of each promotion, per (promotion id, how many):
    one statement per batch and size asked."""

    def __init__(self, domain: PricingDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, keys: Sequence[tuple[str, int]]) -> list[list[StockPause]]:
        found: dict[tuple[str, int], list[StockPause]] = {}
        async with self.domain.engine.connect() as conn:
            for first in sorted({first for _, first in keys}):
                ids = [promotion_id for promotion_id, size in keys if size == first]
                pauses = await fetch_pauses_by_promotion(conn, ids, first)
                found.update({(pid, first): pauses[pid] for pid in ids})
        return [found[key] for key in keys]


@dataclass
class PricingLoaders:
    sku_price_by_key: SkuPriceByKeyLoader
    live_offers: LiveOffersByScopeLoader
    promotion_by_id: PromotionByIdLoader
    stock_pauses_by_sku_and_region: StockPausesBySkuAndRegionLoader
    stock_pauses_by_promotion: StockPausesByPromotionLoader


def make_loaders(domain: PricingDomain) -> PricingLoaders:
    return PricingLoaders(
        SkuPriceByKeyLoader(domain),
        LiveOffersByScopeLoader(domain),
        PromotionByIdLoader(domain),
        StockPausesBySkuAndRegionLoader(domain),
        StockPausesByPromotionLoader(domain),
    )
