"""The events pricing records: price list changes, SKU tax facts, and promotions changing
status, as a whole or (on low stock) for one SKU in one region.

The promotion subscriptions follow the promotion events; every pricing replica drops its
cached prices and live promotions on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from kernel.payloads import EventPayload, PayloadReader, reader


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceChanged(EventPayload):
    """A SKU's list price in a currency and channel (``channel`` names the list: a sales
    channel, or the one every channel falls back to); amounts are decimal strings."""

    TYPE: ClassVar[str] = "PriceChanged"
    VERSION: ClassVar[int] = 1

    sku: str
    currency: str
    channel: str
    old_amount: Decimal | None
    new_amount: Decimal

    def to_payload(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "currency": self.currency,
            "channel": self.channel,
            "oldAmount": None if self.old_amount is None else str(self.old_amount),
            "newAmount": str(self.new_amount),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"),
            currency=fields.text("currency"),
            channel=fields.text("channel"),
            old_amount=fields.optional_decimal("oldAmount"),
            new_amount=fields.decimal("newAmount"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SkuPricingChanged(EventPayload):
    """A known SKU's category or tax rate changed (what promotions match and quotes tax)."""

    TYPE: ClassVar[str] = "SkuPricingChanged"
    VERSION: ClassVar[int] = 1

    sku: str
    category: str | None
    tax_rate: Decimal

    def to_payload(self) -> dict[str, Any]:
        return {"sku": self.sku, "category": self.category, "taxRate": str(self.tax_rate)}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            sku=fields.text("sku"),
            category=fields.optional_text("category"),
            tax_rate=fields.decimal("taxRate"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionTermsSnapshot:
    """A promotion version's terms, in the JSON shape pricing also stores them in.

    ``kind`` and ``stacking`` are pricing's enum values; ``amounts`` are (currency, amount)
    pairs in currency order; an empty eligibility list matches everything.
    """

    name: str
    skus: tuple[str, ...]
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    segments: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    kind: str
    percent: Decimal | None
    amounts: tuple[tuple[str, Decimal], ...]
    buy: int | None
    get: int | None
    priority: int
    stacking: str
    low_stock_threshold: int | None
    auto_resume: bool

    def to_payload(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "skus": list(self.skus),
            "categories": list(self.categories),
            "channels": list(self.channels),
            "segments": list(self.segments),
            "startsAt": self.starts_at.isoformat(),
            "endsAt": self.ends_at.isoformat(),
            "kind": self.kind,
            "percent": None if self.percent is None else str(self.percent),
            "amounts": {currency: str(amount) for currency, amount in self.amounts},
            "buy": self.buy,
            "get": self.get,
            "priority": self.priority,
            "stacking": self.stacking,
            "lowStockThreshold": self.low_stock_threshold,
            "autoResume": self.auto_resume,
        }

    @classmethod
    def read(cls, fields: PayloadReader) -> Self:
        return cls(
            name=fields.text("name"),
            skus=fields.texts("skus"),
            categories=fields.texts("categories"),
            channels=fields.texts("channels"),
            segments=fields.texts("segments"),
            starts_at=fields.moment("startsAt"),
            ends_at=fields.moment("endsAt"),
            kind=fields.text("kind"),
            percent=fields.optional_decimal("percent"),
            amounts=fields.decimals_by_text("amounts"),
            buy=fields.optional_integer("buy"),
            get=fields.optional_integer("get"),
            priority=fields.integer("priority"),
            stacking=fields.text("stacking"),
            low_stock_threshold=fields.optional_integer("lowStockThreshold"),
            # Versions published before promotions could resume on their own lack it.
            auto_resume=fields.optional_boolean("autoResume", default=False),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionChange(EventPayload):
    """A promotion as a whole after a step of its life: its current version, its status
    then, and that version's terms; partition key = the promotion's id."""

    promotion_id: str
    promotion_version: int
    status: str
    terms: PromotionTermsSnapshot

    def to_payload(self) -> dict[str, Any]:
        return {
            "promotionId": self.promotion_id,
            "version": self.promotion_version,
            "status": self.status,
            "terms": self.terms.to_payload(),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            promotion_id=fields.text("promotionId"),
            promotion_version=fields.integer("version"),
            status=fields.text("status"),
            terms=PromotionTermsSnapshot.read(fields.record("terms")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionCreated(PromotionChange):
    """A promotion was created in draft with its first version."""

    TYPE: ClassVar[str] = "PromotionCreated"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionVersionPublished(PromotionChange):
    """New terms became the promotion's current version."""

    TYPE: ClassVar[str] = "PromotionVersionPublished"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionActivated(PromotionChange):
    """The promotion is live from its window's start."""

    TYPE: ClassVar[str] = "PromotionActivated"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionPaused(PromotionChange):
    """The promotion was paused everywhere."""

    TYPE: ClassVar[str] = "PromotionPaused"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionRolledBack(PromotionChange):
    """The previous version's terms apply again."""

    TYPE: ClassVar[str] = "PromotionRolledBack"
    VERSION: ClassVar[int] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PromotionStatusChanged(EventPayload):
    """A promotion paused for one SKU in one region on low stock (``reason`` LOW_STOCK), or
    that pause lifted when stock came back (STOCK_RECOVERED); ``status`` is where the
    promotion stands there now."""

    TYPE: ClassVar[str] = "PromotionStatusChanged"
    VERSION: ClassVar[int] = 1

    promotion_id: str
    sku: str
    region: str
    status: str
    reason: str
    available: int
    threshold: int | None
    channels: tuple[str, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "promotionId": self.promotion_id,
            "sku": self.sku,
            "region": self.region,
            "status": self.status,
            "reason": self.reason,
            "available": self.available,
            "threshold": self.threshold,
            "channels": list(self.channels),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        fields = reader(cls.TYPE, payload)
        return cls(
            promotion_id=fields.text("promotionId"),
            sku=fields.text("sku"),
            region=fields.text("region"),
            status=fields.text("status"),
            reason=fields.text("reason"),
            available=fields.integer("available"),
            threshold=fields.optional_integer("threshold"),
            channels=fields.texts("channels"),
        )
