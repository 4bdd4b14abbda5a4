"""The stored (JSON) form of promotion terms."""

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


def terms_to_dict(terms: PromotionTerms) -> dict[str, Any]:
    """The stored (JSON) form of a version's terms."""
    rule = terms.rule
    return {
        "name": terms.name,
        "skus": sorted(terms.eligibility.skus),
        "categories": sorted(terms.eligibility.categories),
        "channels": sorted(terms.eligibility.channels),
        "segments": sorted(terms.eligibility.segments),
        "startsAt": terms.window.starts_at.isoformat(),
        "endsAt": terms.window.ends_at.isoformat(),
        "kind": str(rule.kind),
        "percent": None if rule.percent is None else str(rule.percent),
        "amounts": {currency: str(amount) for currency, amount in rule.amounts},
        "buy": rule.buy,
        "get": rule.get,
        "priority": terms.priority,
        "stacking": str(terms.stacking),
        "lowStockThreshold": terms.low_stock_threshold,
        "autoResume": terms.auto_resume,
    }


def terms_from_dict(data: dict[str, Any]) -> PromotionTerms:
    return PromotionTerms(
        name=data["name"],
        eligibility=Eligibility(
            skus=frozenset(data["skus"]),
            categories=frozenset(data["categories"]),
            channels=frozenset(data["channels"]),
            segments=frozenset(data["segments"]),
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
