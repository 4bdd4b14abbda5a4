"""Pricing's reactions to events (``consumers`` is the table a serving process subscribes).

Low stock pauses a promotion for a SKU in a region, and stock coming back may lift it.

Inventory announces each SKU's available units per region (``RegionalAvailabilityChanged``,
ordered per SKU and region); pricing keeps its own record of the pauses and never reads
inventory's tables. Each pause and lift is announced as ``PromotionStatusChanged``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.bus import Consumer
from adapters.metrics.counters import count_promotion_activations
from domains.pricing.announcements import Reason, stock_status_changed
from domains.pricing.model import (
    StockAction,
    as_utc,
    low_stock_action,
    stock_can_matter,
)
from domains.pricing.ports import UnitOfWork
from domains.pricing.read_models import (
    PRICE_EVENTS,
    PROMOTION_EVENTS,
    STATUS_EVENTS,
    PricingReadModels,
)
from domains.pricing.uow import PricingUnitOfWork
from kernel.event_types import PromotionStatusChanged, RegionalAvailabilityChanged
from kernel.events import Event

REGIONAL_AVAILABILITY = RegionalAvailabilityChanged.TYPE
STATUS_CHANGED = PromotionStatusChanged.TYPE


@dataclass(frozen=True, slots=True)
class StockPauseChange:
    promotion_id: str
    sku: str
    region: str
    action: StockAction


# The promotion-activations KPI's result for each low-stock action, and the event's reason.
ACTIVATION_RESULTS = {StockAction.PAUSE: "paused_low_stock", StockAction.RESUME: "resumed"}
STOCK_REASONS = {StockAction.PAUSE: Reason.LOW_STOCK, StockAction.RESUME: Reason.STOCK_RECOVERED}


async def apply_regional_availability(
    uow: UnitOfWork, *, sku: str, region: str, available: int, at: datetime | None = None
) -> list[StockPauseChange]:
    """Pause or lift the live promotions on ``sku`` in ``region`` for its ``available``
    units there. Repeating it changes nothing: a pause already in place stays as it is."""
    at = as_utc(at or uow.clock.now())
    changes: list[StockPauseChange] = []
    async with uow:
        facts = await uow.prices.known_skus([sku])
        category = facts[sku][0] if sku in facts else None
        paused = {pid for pid, _ in await uow.prices.stock_paused([sku], region)}
        for offer in await uow.prices.live_offers():
            is_paused = offer.promotion_id in paused
            if not is_paused and not offer.terms.eligibility.covers_product(sku, category):
                continue
            action = low_stock_action(offer.terms, available, is_paused)
            if action is None:
                continue
            if action is StockAction.PAUSE:
                await uow.prices.pause_for_stock(offer.promotion_id, sku, region, available, at)
            else:
                await uow.prices.lift_stock_pause(offer.promotion_id, sku, region)
            reason = STOCK_REASONS[action]
            uow.record(stock_status_changed(offer, sku, region, available, reason, at))
            changes.append(StockPauseChange(offer.promotion_id, sku, region, action))
        await uow.commit()
    for action in StockAction:
        count_promotion_activations(
            ACTIVATION_RESULTS[action], sum(1 for c in changes if c.action is action)
        )
    return changes


class PricingDomainLike(Protocol):
    read_models: PricingReadModels

    def uow(self) -> PricingUnitOfWork: ...


class LowStockHandler:
    """Applies inventory's regional availability to the live promotions."""

    name = "pricing.low-stock"

    def __init__(self, domain: PricingDomainLike) -> None:
        self._domain = domain

    async def __call__(self, event: Event) -> None:
        regional = event.payload_as(RegionalAvailabilityChanged)
        available = regional.available
        # Most stock changes cannot touch any promotion: the cached live promotions say
        # so without a transaction (the demo load alone sends thousands of these).
        offers = await self._domain.read_models.live_offers()
        if not any(stock_can_matter(offer.terms, available) for offer in offers):
            return
        await apply_regional_availability(
            self._domain.uow(), sku=regional.sku, region=regional.region, available=available
        )


def consumers(domain: PricingDomainLike) -> list[Consumer]:
    """What a process serving pricing subscribes: its own price and promotion events drop
    cached read models in every replica; inventory's regional availability pauses or
    resumes promotions, once per event id (a redelivery changes nothing twice)."""
    low_stock = LowStockHandler(domain)
    return [
        Consumer(domain.read_models.on_event, [*PRICE_EVENTS, *PROMOTION_EVENTS, *STATUS_EVENTS]),
        Consumer(low_stock, [REGIONAL_AVAILABILITY], once_as=low_stock.name),
    ]
