"""The ``PromotionStatusChanged`` events pricing records when a promotion's status moves
without anyone changing the promotion: low stock pausing it for one SKU in one region or
that pause lifting, and its window opening or closing."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from domains.pricing.model import (
    Offer,
    Promotion,
    PromotionStatus,
    PromotionTerms,
    WindowTransition,
)
from kernel.event_types import PromotionStatusChanged
from kernel.events import Event


class Reason(StrEnum):
    """Why the status changed, as the event's ``reason`` says it."""

    LOW_STOCK = "LOW_STOCK"
    STOCK_RECOVERED = "STOCK_RECOVERED"
    OPERATOR = "OPERATOR"  # an operator lifted a low-stock pause
    TERMS_CHANGED = "TERMS_CHANGED"  # the terms now in force no longer ask for the pause
    WINDOW_STARTED = "WINDOW_STARTED"
    WINDOW_ENDED = "WINDOW_ENDED"


WINDOW_REASONS = {
    WindowTransition.STARTED: Reason.WINDOW_STARTED,
    WindowTransition.ENDED: Reason.WINDOW_ENDED,
}


def stock_status_changed(
    offer: Offer, sku: str, region: str, available: int, reason: Reason, at: datetime
) -> Event:
    """A low-stock pause placed (``reason`` LOW_STOCK) or lifted (any other reason)."""
    paused = reason is Reason.LOW_STOCK
    changed = PromotionStatusChanged(
        promotion_id=offer.promotion_id,
        sku=sku,
        region=region,
        status=str(PromotionStatus.PAUSED if paused else _window_status(offer.terms, at)),
        reason=str(reason),
        available=available,
        threshold=offer.terms.low_stock_threshold,
        channels=tuple(sorted(offer.terms.eligibility.channels)),
    )
    return Event.of(changed, partition_key=offer.promotion_id, occurred_at=at)


def window_status_changed(
    promotion: Promotion, transition: WindowTransition, at: datetime
) -> Event:
    """The current version's window opened or closed; the promotion's status now."""
    terms = promotion.terms
    changed = PromotionStatusChanged(
        promotion_id=promotion.id,
        status=str(promotion.status(at)),
        reason=str(WINDOW_REASONS[transition]),
        threshold=terms.low_stock_threshold,
        channels=tuple(sorted(terms.eligibility.channels)),
        promotion_version=promotion.current_version,
    )
    return Event.of(changed, partition_key=promotion.id, occurred_at=at)


def _window_status(terms: PromotionTerms, at: datetime) -> PromotionStatus:
    window = terms.window
    if window.contains(at):
        return PromotionStatus.ACTIVE
    return PromotionStatus.SCHEDULED if at < window.starts_at else PromotionStatus.ENDED
