"""What pricing's use cases need of storage and of a transaction.

``PricingRepository`` and ``PricingUnitOfWork`` are the SQL side of these; the use cases
name only the protocols, so any store that keeps the same promises can stand in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from domains.pricing.model import (
    HeldPriceChange,
    HeldStatus,
    Offer,
    Promotion,
    WindowTransition,
)
from domains.pricing.quote_facts import QuoteFacts
from domains.pricing.repository import PriceKey, ScheduledPrice, SkuPrice, WindowState
from kernel.clock import Clock
from kernel.transaction import Transaction


class PricingStore(Protocol):
    """SKU facts, price lists, promotions and low-stock pauses, as one transaction sees them."""

    async def sku_prices(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, SkuPrice]:
        """Base prices in effect at ``at`` for (sku, channel, currency) keys; a channel's
        own price beats the all-channel list's; a known SKU without a price then has
        ``amount`` None, an unknown one is left out."""
        ...

    async def live_offers(self) -> list[Offer]:
        """The current terms of every live promotion, by promotion id."""
        ...

    async def known_skus(self, skus: Iterable[str]) -> dict[str, tuple[str | None, Decimal]]:
        """(category, tax rate) of those of ``skus`` pricing knows."""
        ...

    async def save_skus(
        self,
        rows: Sequence[tuple[str, str | None, Decimal]],
        existing: Iterable[str],
        now: datetime,
    ) -> None:
        """Store (sku, category, tax rate) rows; ``existing`` are the SKUs already known."""
        ...

    async def list_prices(
        self, currency: str, channel: str, skus: Iterable[str], at: datetime
    ) -> dict[str, Decimal]:
        """The amounts of one price list (currency, channel) in effect at ``at``."""
        ...

    async def save_prices(
        self,
        currency: str,
        channel: str,
        changes: dict[str, Decimal],
        effective_from: datetime,
        now: datetime,
    ) -> None:
        """Add new amounts to one price list's history from ``effective_from`` (a row for
        that very moment is replaced); announced ``now`` when already in effect."""
        ...

    async def due_prices(self, at: datetime, limit: int) -> list[ScheduledPrice]:
        """Scheduled prices in effect by ``at`` whose change is not announced yet."""
        ...

    async def claim_price(self, due: ScheduledPrice, at: datetime) -> bool:
        """Mark a scheduled price announced, once: False when someone claimed it already."""
        ...

    async def held_like(
        self, currency: str, channel: str, skus: Iterable[str]
    ) -> dict[tuple[str, Decimal], str]:
        """The ids of this list's changes still held, by (sku, new amount)."""
        ...

    async def hold_changes(self, changes: Sequence[HeldPriceChange]) -> None: ...

    async def held_changes(self, ids: Sequence[str]) -> list[HeldPriceChange]:
        """The held changes with these ids, held for this transaction's decision."""
        ...

    async def decide_held(self, held_id: str, status: HeldStatus, at: datetime) -> None: ...

    async def stock_paused(self, skus: Iterable[str], region: str) -> set[tuple[str, str]]:
        """(promotion id, sku) of the promotions paused for low stock in ``region``."""
        ...

    async def pause_for_stock(
        self, promotion_id: str, sku: str, region: str, available: int, at: datetime
    ) -> None: ...

    async def lift_stock_pause(self, promotion_id: str, sku: str, region: str) -> None: ...

    async def stock_pauses_of(self, promotion_id: str) -> list[tuple[str, str, int]]:
        """(sku, region, units when paused) of each low-stock pause of the promotion."""
        ...

    async def open_windows(self, at: datetime) -> list[WindowState]:
        """The live promotions whose current window has started by ``at`` and whose end
        has not been announced, with the transitions announced so far."""
        ...

    async def claim_transition(
        self, promotion_id: str, version: int, transition: WindowTransition, at: datetime
    ) -> bool:
        """Mark a window transition of a version announced, once: False when someone
        (another replica, or this one before a restart) claimed it already."""
        ...

    async def get_promotion(self, promotion_id: str) -> Promotion | None:
        """The promotion with every version, held for this transaction's change."""
        ...

    async def add_promotion(self, promotion: Promotion, at: datetime) -> None: ...

    async def save_promotion(self, before: Promotion, after: Promotion, at: datetime) -> None:
        """Store ``after``: its head and the versions ``before`` did not have yet (a
        version never changes once stored)."""
        ...


class QuoteSource(Protocol):
    """What a quote reads: its clock, and the facts it prices from, all as of one moment
    (a price changing or a promotion pausing meanwhile is seen wholly or not at all)."""

    @property
    def clock(self) -> Clock: ...

    async def quote_facts(
        self, keys: Sequence[PriceKey], at: datetime, region: str | None
    ) -> QuoteFacts:
        """The base prices of ``keys`` at ``at`` (as ``PricingStore.sku_prices``), the
        live offers and, with a ``region``, the promotions paused there for the keys'
        SKUs' low stock."""
        ...


class UnitOfWork(Transaction, Protocol):
    """One transaction: what it stores and the events it records are kept together on
    ``commit``, and dropped when the block is left without one."""

    @property
    def prices(self) -> PricingStore: ...
