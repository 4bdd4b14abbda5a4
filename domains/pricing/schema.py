"""The pricing subgraph: prices and promotions on Product, Promotion, quotes, mutations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from adapters.graphql.access import requires
from adapters.graphql.cost import list_size
from adapters.graphql.money import Money
from adapters.graphql.subgraph import FederatedSchema
from domains.pricing import imports, model, service
from domains.pricing.errors import InvalidDiscount
from domains.pricing.read_models import LIVE
from domains.pricing.repository import fetch_held_changes, fetch_promotions
from domains.pricing.subscriptions import Subscription
from domains.pricing.tables import ALL_CHANNELS
from domains.pricing.types import (
    DiscountKind,
    HeldPriceChange,
    HeldPriceChangeStatus,
    Price,
    PriceImportReport,
    PromotionStatus,
    PromotionType,
    Quote,
    QuoteLine,
    RejectedPriceRow,
    Stacking,
    loaders,
)
from kernel.channels import SalesVocabulary
from kernel.errors import InvalidInput

MAX_IMPORT_ROWS = 10_000
MAX_HELD_LISTED = 500


_REGION = strawberry.argument(
    description="Where the customer is served: promotions paused there for the SKU's low "
    "stock are left out, and promotions for other regions do not apply."
)
_LOCATION = strawberry.argument(
    description="The store (location id) selling, for the store channel: promotions for "
    "chosen stores apply in those only."
)


async def _offers_in(info: Info, sku: str, region: str | None) -> list[model.Offer]:
    """The live promotions, less those paused for ``sku``'s low stock in ``region``."""
    offers: list[model.Offer] = await loaders(info).live_offers.load(LIVE)
    if region is None:
        return offers
    paused = await loaders(info).stock_pauses_by_sku_and_region.load((sku, region))
    return [offer for offer in offers if offer.promotion_id not in paused]


@strawberry.federation.type(name="Product", keys=["sku"])
class ProductType:
    """Owned by the products subgraph; pricing adds what a SKU costs and which offers apply."""

    sku: strawberry.ID

    @classmethod
    def resolve_reference(cls, info: Info, **representation: Any) -> ProductType:
        sku = representation.get("sku")
        if not isinstance(sku, str):
            raise InvalidInput("a Product representation needs a string sku")
        return cls(sku=strawberry.ID(sku))

    @strawberry.field(
        description="The unit price in effect at `at` (now): base prices keep their history "
        "and scheduled changes, so any moment, past or future, has its answer; null when "
        "the SKU has no price in `currency` then."
    )
    async def price(
        self,
        info: Info,
        channel: str,
        currency: str,
        segment: str | None = None,
        at: datetime | None = None,
        region: Annotated[str | None, _REGION] = None,
        location: Annotated[str | None, _LOCATION] = None,
    ) -> Price | None:
        sales = _domain(info).sales
        model.check_channel(channel, sales)
        model.check_currency(currency, sales)
        moment = model.as_utc(at or _domain(info).clock.now())
        asked_at = None if at is None else moment  # "now" is the loader's, one per batch
        fact = await loaders(info).sku_price_by_key.load(
            (str(self.sku), channel, currency, asked_at)
        )
        if fact is None or fact.amount is None:
            return None
        offers = await _offers_in(info, str(self.sku), region)
        line = model.price_line(
            sku=str(self.sku),
            category=fact.category,
            quantity=1,
            unit_base=fact.amount,
            tax_rate=fact.tax_rate,
            currency=currency,
            channel=channel,
            segment=segment,
            at=moment,
            offers=offers,
            region=region,
            location=location,
        )
        return Price.of(line, channel, segment, moment)

    @strawberry.field(description="Live promotions in force at `at` (now) that cover this SKU.")
    async def promotions(
        self,
        info: Info,
        channel: str | None = None,
        at: datetime | None = None,
        region: Annotated[str | None, _REGION] = None,
    ) -> list[PromotionType]:
        if channel is not None:
            model.check_channel(channel, _domain(info).sales)
        moment = model.as_utc(at or _domain(info).clock.now())
        fact = await loaders(info).sku_price_by_key.load(
            (str(self.sku), ALL_CHANNELS, "EUR", None if at is None else moment)
        )
        if fact is None:
            return []
        offers = await _offers_in(info, str(self.sku), region)
        ids = [
            o.promotion_id
            for o in offers
            if o.terms.window.contains(moment)
            and o.terms.eligibility.covers_product(str(self.sku), fact.category)
            and (
                channel is None
                or not o.terms.eligibility.channels
                or channel in o.terms.eligibility.channels
            )
            and (
                region is None
                or not o.terms.eligibility.regions
                or region in o.terms.eligibility.regions
            )
        ]
        found = await loaders(info).promotion_by_id.load_many(ids)
        return [PromotionType.of(p) for p in found if p is not None]


@strawberry.input
class QuoteLineInput:
    sku: str
    quantity: int


@strawberry.input
class PriceRowInput:
    sku: str
    currency: str
    amount: str
    effective_from: datetime | None = strawberry.field(
        default=None, description="When this row's price takes effect; the list's by default."
    )


@strawberry.input
class MoneyInput:
    amount: str
    currency: str


@strawberry.input
class DiscountRuleInput:
    kind: DiscountKind  # type: ignore[valid-type]
    percent: str | None = None
    amounts: list[MoneyInput] | None = None
    buy_quantity: int | None = None
    get_quantity: int | None = None


@strawberry.input
class PromotionInput:
    name: str
    starts_at: datetime
    ends_at: datetime
    discount: DiscountRuleInput
    skus: list[str] | None = None
    categories: list[str] | None = None
    channels: list[str] | None = None
    segments: list[str] | None = None
    regions: list[str] | None = strawberry.field(
        default=None,
        description="Only in these regions (where the sale is fulfilled); every region when "
        "omitted.",
    )
    locations: list[str] | None = strawberry.field(
        default=None,
        description="Only in these stores, for the store channel (web and app sales are not "
        "narrowed by it); every store when omitted.",
    )
    priority: int = 0
    stacking: Stacking = model.Stacking.EXCLUSIVE  # type: ignore[valid-type]
    low_stock_threshold: int | None = strawberry.field(
        default=None,
        description="Below this many available units of a SKU in a region, the promotion "
        "pauses for that SKU and region.",
    )
    auto_resume: bool = strawberry.field(
        default=False, description="Lift a low-stock pause once stock is back at the threshold."
    )

    def to_terms(self, sales: SalesVocabulary) -> model.PromotionTerms:
        rule = self.discount
        amounts: dict[str, str] = {}
        for money in rule.amounts or []:
            if money.currency in amounts:
                raise InvalidDiscount("each currency may have one amount only")
            amounts[money.currency] = money.amount
        return service.build_terms(
            name=self.name,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            kind=rule.kind,
            percent=rule.percent,
            amounts=amounts,
            buy=rule.buy_quantity,
            get=rule.get_quantity,
            skus=self.skus or (),
            categories=self.categories or (),
            channels=self.channels or (),
            segments=self.segments or (),
            regions=self.regions or (),
            locations=self.locations or (),
            priority=self.priority,
            stacking=self.stacking,
            low_stock_threshold=self.low_stock_threshold,
            auto_resume=self.auto_resume,
            sales=sales,
        )


def _domain(info: Info) -> Any:
    return info.context["domain"]


@strawberry.type
class Query:
    @strawberry.field
    async def promotion(self, info: Info, id: strawberry.ID) -> PromotionType | None:
        found = await loaders(info).promotion_by_id.load(str(id))
        return None if found is None else PromotionType.of(found)

    @strawberry.field(description="Every promotion, optionally only those with `status` at `at`.")
    async def promotions(
        self,
        info: Info,
        status: PromotionStatus | None = None,  # type: ignore[valid-type]
        at: datetime | None = None,
    ) -> list[PromotionType]:
        moment = model.as_utc(at or _domain(info).clock.now())
        async with _domain(info).engine.connect() as conn:
            found = await fetch_promotions(conn, None)
        return [
            PromotionType.of(p)
            for p in found.values()
            if status is None or p.status(moment) == status
        ]

    @strawberry.field(
        description="Price changes imports held for approval, oldest first (first: 1-500).",
        directives=[*requires("pricing:manage"), list_size(slicing_arguments=["first"])],
    )
    async def held_price_changes(
        self,
        info: Info,
        status: HeldPriceChangeStatus | None = model.HeldStatus.HELD,  # type: ignore[valid-type]
        first: int = 100,
    ) -> list[HeldPriceChange]:
        if not 1 <= first <= MAX_HELD_LISTED:
            raise InvalidInput(f"first must be between 1 and {MAX_HELD_LISTED}")
        async with _domain(info).engine.connect() as conn:
            found = await fetch_held_changes(conn, status, first=first)
        return [HeldPriceChange.of(change) for change in found]

    @strawberry.field(description="Checkout pricing of lines, from the database, at `at` (now).")
    async def quote(
        self,
        info: Info,
        lines: list[QuoteLineInput],
        channel: str,
        currency: str,
        segment: str | None = None,
        at: datetime | None = None,
        region: Annotated[str | None, _REGION] = None,
        location: Annotated[str | None, _LOCATION] = None,
    ) -> Quote:
        result = await service.quote(
            _domain(info).uow(),
            [(line.sku, line.quantity) for line in lines],
            channel=channel,
            currency=currency,
            segment=segment,
            region=region,
            location=location,
            at=at,
            sales=_domain(info).sales,
        )
        c = result.currency
        return Quote(
            channel=result.channel,
            currency=c,
            segment=result.segment,
            at=result.at,
            lines=[QuoteLine.of(line) for line in result.lines],
            subtotal=Money.of(result.subtotal, c),
            discount=Money.of(result.discount, c),
            total=Money.of(result.total, c),
            total_excluding_tax=Money.of(result.net, c),
            tax=Money.of(result.tax, c),
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A new promotion in draft, with its first version.",
        directives=requires("pricing:manage"),
    )
    async def create_promotion(self, info: Info, input: PromotionInput) -> PromotionType:
        promotion = await service.create_promotion(
            _domain(info).uow(), input.to_terms(_domain(info).sales)
        )
        return PromotionType.of(promotion)

    @strawberry.mutation(
        description="New terms as a new, immutable version that becomes current.",
        directives=requires("pricing:manage"),
    )
    async def publish_promotion_version(
        self, info: Info, id: strawberry.ID, input: PromotionInput
    ) -> PromotionType:
        uow = _domain(info).uow()
        promotion = await service.publish_promotion_version(
            uow, str(id), input.to_terms(_domain(info).sales)
        )
        return PromotionType.of(promotion)

    @strawberry.mutation(directives=requires("pricing:manage"))
    async def activate_promotion(self, info: Info, id: strawberry.ID) -> PromotionType:
        return PromotionType.of(await service.activate_promotion(_domain(info).uow(), str(id)))

    @strawberry.mutation(directives=requires("pricing:manage"))
    async def pause_promotion(self, info: Info, id: strawberry.ID) -> PromotionType:
        return PromotionType.of(await service.pause_promotion(_domain(info).uow(), str(id)))

    @strawberry.mutation(
        directives=requires("pricing:manage"),
        description="Import base prices of one currency, for every channel or one channel's "
        "override, in effect from `effectiveFrom` (now when omitted or past; a row may name "
        "its own moment). Rows are checked one by one; the report lists the rejected ones. "
        "A row moving the price in effect by more than the allowed share is held for "
        "approval (HELD_FOR_APPROVAL), not applied.",
    )
    async def import_price_list(
        self,
        info: Info,
        currency: str,
        rows: list[PriceRowInput],
        channel: str | None = None,
        effective_from: datetime | None = None,
    ) -> PriceImportReport:
        if len(rows) > MAX_IMPORT_ROWS:
            raise InvalidInput(f"at most {MAX_IMPORT_ROWS} rows per call")
        domain = _domain(info)
        report = await imports.import_price_list(
            domain.uow,
            currency,
            [imports.PriceRow(r.sku, r.currency, r.amount, r.effective_from) for r in rows],
            channel=channel,
            effective_from=effective_from,
            max_change_percent=domain.max_price_change_percent,
            sales=domain.sales,
        )
        return PriceImportReport(
            received=report.received,
            accepted=report.accepted,
            changed=report.changed,
            unchanged=report.unchanged,
            held=report.held,
            rejected=[
                RejectedPriceRow(
                    index=r.index,
                    sku=r.sku,
                    code=r.code,
                    reason=r.reason,
                    held_change_id=None if r.held_id is None else strawberry.ID(r.held_id),
                )
                for r in report.rejected
            ],
        )

    @strawberry.mutation(
        directives=requires("pricing:manage"),
        description="Apply held price changes, each once (from the moment the import asked "
        "for, or now if that is past). Approving one approved already changes nothing.",
    )
    async def approve_price_changes(
        self, info: Info, ids: list[strawberry.ID]
    ) -> list[HeldPriceChange]:
        decided = await imports.approve_held_changes(_domain(info).uow(), [str(i) for i in ids])
        return [HeldPriceChange.of(change) for change in decided]

    @strawberry.mutation(
        directives=requires("pricing:manage"),
        description="Drop held price changes unapplied. Discarding one discarded already "
        "changes nothing.",
    )
    async def discard_price_changes(
        self, info: Info, ids: list[strawberry.ID]
    ) -> list[HeldPriceChange]:
        decided = await imports.discard_held_changes(_domain(info).uow(), [str(i) for i in ids])
        return [HeldPriceChange.of(change) for change in decided]

    @strawberry.mutation(
        description="Back to the previous version's terms, everywhere.",
        directives=requires("pricing:manage"),
    )
    async def rollback_promotion(self, info: Info, id: strawberry.ID) -> PromotionType:
        return PromotionType.of(await service.rollback_promotion(_domain(info).uow(), str(id)))

    @strawberry.mutation(
        description="Lift the low-stock pause of a promotion for one SKU in one region, "
        "whatever the stock (a pause not there is not an error: nothing changes). The next "
        "stock change below the threshold pauses it again.",
        directives=requires("pricing:manage"),
    )
    async def resume_promotion_for_stock(
        self, info: Info, id: strawberry.ID, sku: str, region: str
    ) -> PromotionType:
        if len(sku) > 64 or len(region) > 64:
            raise InvalidInput("sku and region are at most 64 characters")
        uow = _domain(info).uow()
        await service.resume_promotion_for_stock(uow, str(id), sku, region)
        found = await loaders(info).promotion_by_id.load(str(id))
        assert found is not None  # the service found it
        return PromotionType.of(found)


schema = FederatedSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[ProductType, PromotionType, Money],
)
