"""The stored (JSON) form of promotion terms, which promotion events carry too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from domains.pricing.model import (
    DiscountKind,
    DiscountRule,
    Eligibility,
    PromotionTerms,
    Stacking,
    Window,
)
from kernel.event_types import PromotionTermsSnapshot


def terms_snapshot(terms: PromotionTerms) -> PromotionTermsSnapshot:
    """A version's terms as promotion events carry them."""
    rule = terms.rule
    return PromotionTermsSnapshot(
        name=terms.name,
        skus=tuple(sorted(terms.eligibility.skus)),
        categories=tuple(sorted(terms.eligibility.categories)),
        channels=tuple(sorted(terms.eligibility.channels)),
        segments=tuple(sorted(terms.eligibility.segments)),
        starts_at=terms.window.starts_at,
        ends_at=terms.window.ends_at,
        kind=str(rule.kind),
        percent=rule.percent,
        amounts=rule.amounts,
        buy=rule.buy,
        get=rule.get,
        priority=terms.priority,
        stacking=str(terms.stacking),
        low_stock_threshold=terms.low_stock_threshold,
        auto_resume=terms.auto_resume,
        regions=tuple(sorted(terms.eligibility.regions)),
        locations=tuple(sorted(terms.eligibility.locations)),
    )


def terms_to_dict(terms: PromotionTerms) -> dict[str, Any]:
    """The stored (JSON) form of a version's terms: the shape promotion events carry."""
    return terms_snapshot(terms).to_payload()


def terms_from_dict(data: dict[str, Any]) -> PromotionTerms:
    return PromotionTerms(
        name=data["name"],
        eligibility=Eligibility(
            skus=frozenset(data["skus"]),
            categories=frozenset(data["categories"]),
            channels=frozenset(data["channels"]),
            segments=frozenset(data["segments"]),
            # Versions stored before promotions had regions and stores lack them.
            regions=frozenset(data.get("regions", ())),
            locations=frozenset(data.get("locations", ())),
        ),
        window=Window(
            datetime.fromisoformat(data["startsAt"]), datetime.fromisoformat(data["endsAt"])
        ),
        rule=DiscountRule(
            kind=DiscountKind(data["kind"]),
            percent=None if data["percent"] is None else Decimal(data["percent"]),
            amounts=tuple((c, Decimal(a)) for c, a in sorted(data["amounts"].items())),
            buy=data["buy"],
            get=data["get"],
        ),
        priority=data["priority"],
        stacking=Stacking(data["stacking"]),
        low_stock_threshold=data["lowStockThreshold"],
        auto_resume=data.get("autoResume", False),  # versions stored before it existed
    )
