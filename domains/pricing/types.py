"""Pricing's GraphQL output types: thin views over the model's values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from adapters.graphql.cost import list_size
from adapters.graphql.money import Money
from domains.pricing import model
from domains.pricing.errors import PromotionNotFound
from domains.pricing.repository import StockPause
from kernel.errors import InvalidInput

# Pauses one Promotion lists at most: a promotion on thousands of SKUs may pause on many.
MAX_PAUSES = 500

DiscountKind = strawberry.enum(model.DiscountKind, name="DiscountKind")
Stacking = strawberry.enum(model.Stacking, name="Stacking")
PromotionStatus = strawberry.enum(model.PromotionStatus, name="PromotionStatus")


def loaders(info: Info) -> Any:
    return info.context["loaders"]


@strawberry.type
class Eligibility:
    skus: list[str]
    categories: list[str]
    channels: list[str]
    segments: list[str]
    regions: list[str] = strawberry.field(description="Empty: every region.")
    locations: list[str] = strawberry.field(
        description="The stores it runs in, for the store channel; empty: every store."
    )


@strawberry.type
class DiscountRule:
    kind: DiscountKind  # type: ignore[valid-type]
    percent: str | None
    amounts: list[Money]
    buy_quantity: int | None
    get_quantity: int | None


@strawberry.type
class PromotionVersion:
    number: int
    published_at: datetime
    name: str
    starts_at: datetime
    ends_at: datetime
    eligibility: Eligibility
    discount: DiscountRule
    priority: int
    stacking: Stacking  # type: ignore[valid-type]
    low_stock_threshold: int | None = strawberry.field(
        description="Stock level below which the promotion pauses per SKU and region."
    )
    auto_resume: bool = strawberry.field(
        description="Whether a low-stock pause lifts once stock is back at the threshold."
    )

    @classmethod
    def of(cls, version: model.PromotionVersion) -> PromotionVersion:
        terms, rule = version.terms, version.terms.rule
        return cls(
            number=version.number,
            published_at=version.published_at,
            name=terms.name,
            starts_at=terms.window.starts_at,
            ends_at=terms.window.ends_at,
            eligibility=Eligibility(
                skus=sorted(terms.eligibility.skus),
                categories=sorted(terms.eligibility.categories),
                channels=sorted(terms.eligibility.channels),
                segments=sorted(terms.eligibility.segments),
                regions=sorted(terms.eligibility.regions),
                locations=sorted(terms.eligibility.locations),
            ),
            discount=DiscountRule(
                kind=rule.kind,
                percent=None if rule.percent is None else str(rule.percent),
                amounts=[Money.of(a, c) for c, a in rule.amounts],
                buy_quantity=rule.buy,
                get_quantity=rule.get,
            ),
            priority=terms.priority,
            stacking=terms.stacking,
            low_stock_threshold=terms.low_stock_threshold,
            auto_resume=terms.auto_resume,
        )


@strawberry.federation.type(name="Promotion", keys=["id"])
class PromotionType:
    id: strawberry.ID
    _promotion: strawberry.Private[model.Promotion]

    @classmethod
    def of(cls, promotion: model.Promotion) -> PromotionType:
        return cls(id=strawberry.ID(promotion.id), _promotion=promotion)

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> PromotionType:
        promotion_id = representation.get("id")
        if not isinstance(promotion_id, str):
            raise InvalidInput("a Promotion representation needs a string id")
        promotion = await loaders(info).promotion_by_id.load(promotion_id)
        if promotion is None:
            raise PromotionNotFound(
                f"there is no promotion {promotion_id!r}", promotionId=promotion_id
            )
        return cls.of(promotion)

    @strawberry.field
    def name(self) -> str:
        return self._promotion.terms.name

    @strawberry.field(description="Derived from the lifecycle and the window at `at` (now).")
    def status(self, info: Info, at: datetime | None = None) -> PromotionStatus:  # type: ignore[valid-type]
        return self._promotion.status(at or info.context["domain"].clock.now())

    @strawberry.field
    def current_version(self) -> int:
        return self._promotion.current_version

    @strawberry.field(description="The terms in force: those of the current version.")
    def current(self) -> PromotionVersion:
        return PromotionVersion.of(self._promotion.current)

    @strawberry.field
    def versions(self) -> list[PromotionVersion]:
        return [PromotionVersion.of(v) for v in self._promotion.versions]

    @strawberry.field(
        description="Where low stock pauses it now: the newest pauses per SKU and region "
        "(first: 1-500).",
        directives=[list_size(slicing_arguments=["first"])],
    )
    async def low_stock_pauses(self, info: Info, first: int = 50) -> list[PromotionPause]:
        if not 1 <= first <= MAX_PAUSES:
            raise InvalidInput(f"first must be between 1 and {MAX_PAUSES}")
        pauses = await loaders(info).stock_pauses_by_promotion.load((str(self.id), first))
        return [PromotionPause.of(pause) for pause in pauses]


@strawberry.type(
    description="A promotion paused for one SKU in one region: its available "
    "units there fell below the promotion's lowStockThreshold."
)
class PromotionPause:
    sku: strawberry.ID
    region: str
    available: int = strawberry.field(description="The region's available units then.")
    since: datetime

    @classmethod
    def of(cls, pause: StockPause) -> PromotionPause:
        return cls(
            sku=strawberry.ID(pause.sku),
            region=pause.region,
            available=pause.available,
            since=pause.paused_at,
        )


@strawberry.type
class AppliedPromotion:
    promotion_id: strawberry.ID
    name: str
    kind: DiscountKind  # type: ignore[valid-type]
    stacking: Stacking  # type: ignore[valid-type]
    priority: int
    discount: Money = strawberry.field(description="What this promotion took off the line.")

    @classmethod
    def of(cls, applied: model.AppliedDiscount, currency: str) -> AppliedPromotion:
        return cls(
            promotion_id=strawberry.ID(applied.promotion_id),
            name=applied.name,
            kind=applied.kind,
            stacking=applied.stacking,
            priority=applied.priority,
            discount=Money.of(applied.amount, currency),
        )

    @strawberry.field
    async def promotion(self, info: Info) -> PromotionType | None:
        found = await loaders(info).promotion_by_id.load(str(self.promotion_id))
        return None if found is None else PromotionType.of(found)


@strawberry.type(description="One unit's price; base prices are stored tax-inclusive.")
class Price:
    channel: str
    currency: str
    segment: str | None
    at: datetime
    base: Money
    base_excluding_tax: Money
    promotional: Money = strawberry.field(description="Tax-inclusive, after promotions.")
    promotional_excluding_tax: Money
    tax: Money = strawberry.field(description="Tax contained in the promotional price.")
    tax_rate: str
    applied_promotions: list[AppliedPromotion] = strawberry.field(
        description="Promotions that lower the unit price (buy-X-get-Y shows in quotes)."
    )

    @classmethod
    def of(cls, line: model.LinePrice, channel: str, segment: str | None, at: datetime) -> Price:
        currency = line.currency
        base_net, _ = model.split_tax(line.unit_base, line.tax_rate)
        return cls(
            channel=channel,
            currency=currency,
            segment=segment,
            at=at,
            base=Money.of(line.unit_base, currency),
            base_excluding_tax=Money.of(base_net, currency),
            promotional=Money.of(line.line_total, currency),
            promotional_excluding_tax=Money.of(line.line_net, currency),
            tax=Money.of(line.line_tax, currency),
            tax_rate=str(line.tax_rate),
            applied_promotions=[AppliedPromotion.of(a, currency) for a in line.applied],
        )


@strawberry.type
class QuoteLine:
    sku: str
    quantity: int
    unit_base: Money
    unit_promotional: Money = strawberry.field(description="After per-unit promotions.")
    line_base: Money
    line_discount: Money
    line_total: Money = strawberry.field(description="Tax-inclusive: what the customer pays.")
    line_excluding_tax: Money
    tax: Money
    tax_rate: str
    applied_promotions: list[AppliedPromotion]

    @classmethod
    def of(cls, line: model.LinePrice) -> QuoteLine:
        c = line.currency
        return cls(
            sku=line.sku,
            quantity=line.quantity,
            unit_base=Money.of(line.unit_base, c),
            unit_promotional=Money.of(line.unit_promotional, c),
            line_base=Money.of(line.line_base, c),
            line_discount=Money.of(line.line_discount, c),
            line_total=Money.of(line.line_total, c),
            line_excluding_tax=Money.of(line.line_net, c),
            tax=Money.of(line.line_tax, c),
            tax_rate=str(line.tax_rate),
            applied_promotions=[AppliedPromotion.of(a, c) for a in line.applied],
        )


@strawberry.type
class Quote:
    channel: str
    currency: str
    segment: str | None
    at: datetime
    lines: list[QuoteLine]
    subtotal: Money = strawberry.field(description="At base prices, tax included.")
    discount: Money
    total: Money = strawberry.field(description="Tax-inclusive: what the customer pays.")
    total_excluding_tax: Money
    tax: Money


@strawberry.type
class RejectedPriceRow:
    index: int
    sku: str
    code: str
    reason: str
    held_change_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="With code HELD_FOR_APPROVAL: the held change to approve or discard.",
    )


HeldPriceChangeStatus = strawberry.enum(model.HeldStatus, name="HeldPriceChangeStatus")


@strawberry.type(
    description="A price list row an import held back: it moves the price in effect by "
    "more than `[pricing] max_price_change_percent`. Applied only when approved."
)
class HeldPriceChange:
    id: strawberry.ID
    sku: str
    channel: str = strawberry.field(description='The price list: a channel, or "*" (every one).')
    old_price: Money = strawberry.field(description="The price in effect when it was held.")
    new_price: Money
    change_percent: str | None = strawberry.field(
        description="How far the new price is from the old, in percent; null from zero."
    )
    effective_from: datetime | None = strawberry.field(
        description="The moment the import asked for; null: from its approval."
    )
    status: HeldPriceChangeStatus  # type: ignore[valid-type]
    held_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, change: model.HeldPriceChange) -> HeldPriceChange:
        percent = change.change_percent
        return cls(
            id=strawberry.ID(change.id),
            sku=change.sku,
            channel=change.channel,
            old_price=Money.of(change.old_amount, change.currency),
            new_price=Money.of(change.new_amount, change.currency),
            change_percent=None if percent is None else str(percent.quantize(model.CENT)),
            effective_from=change.effective_from,
            status=change.status,
            held_at=change.held_at,
            decided_at=change.decided_at,
        )


@strawberry.type(description="What a price list import did; bad rows never stop it.")
class PriceImportReport:
    received: int
    accepted: int
    changed: int = strawberry.field(description="Applied, now or from their moment.")
    unchanged: int
    held: int = strawberry.field(
        description="Rejected as HELD_FOR_APPROVAL: waiting for an operator's decision."
    )
    rejected: list[RejectedPriceRow]
