"""Pricing's use cases: each takes plain values and a unit of work, commits once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from adapters.metrics.counters import count_promotion_activations
from domains.pricing.announcements import Reason, stock_status_changed
from domains.pricing.errors import (
    EmptyQuote,
    InvalidAmount,
    InvalidDiscount,
    InvalidPromotion,
    InvalidQuantity,
    InvalidStatusTransition,
    PriceNotFound,
    PromotionNotFound,
    UnknownSku,
)
from domains.pricing.model import (
    DiscountKind,
    DiscountRule,
    Eligibility,
    Lifecycle,
    LinePrice,
    Offer,
    Promotion,
    PromotionTerms,
    Stacking,
    Window,
    as_utc,
    check_channel,
    check_currency,
    parse_amount,
    passed_transitions,
    pause_still_applies,
    price_line,
)
from domains.pricing.ports import QuoteSource, UnitOfWork
from domains.pricing.serialization import terms_snapshot
from kernel.channels import DEFAULT_SALES, SalesVocabulary
from kernel.event_types import (
    PromotionActivated,
    PromotionChange,
    PromotionCreated,
    PromotionPaused,
    PromotionRolledBack,
    PromotionVersionPublished,
)
from kernel.events import Event

MAX_QUOTE_LINES = 500
MAX_LINE_QUANTITY = 10_000
MAX_SCOPE = 5_000  # regions, or chosen stores, of one promotion


def build_terms(
    *,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    kind: DiscountKind | str,
    percent: str | None = None,
    amounts: dict[str, str] | None = None,
    buy: int | None = None,
    get: int | None = None,
    skus: Sequence[str] = (),
    categories: Sequence[str] = (),
    channels: Sequence[str] = (),
    segments: Sequence[str] = (),
    regions: Sequence[str] = (),
    locations: Sequence[str] = (),
    priority: int = 0,
    stacking: Stacking | str = Stacking.EXCLUSIVE,
    low_stock_threshold: int | None = None,
    auto_resume: bool = False,
    sales: SalesVocabulary = DEFAULT_SALES,
) -> PromotionTerms:
    """Promotion terms from client or loader values; bad values raise coded errors."""
    try:
        kind, stacking = DiscountKind(kind), Stacking(stacking)
    except ValueError:
        raise InvalidDiscount(f"unknown discount kind {kind!r} or stacking {stacking!r}") from None
    try:
        parsed_percent = None if percent is None else parse_amount(percent, field_name="percent")
        parsed_amounts = tuple(
            (check_currency(c, sales), parse_amount(a)) for c, a in sorted((amounts or {}).items())
        )
        for channel in channels:
            check_channel(channel, sales)
    except InvalidAmount as error:
        raise InvalidDiscount(error.message) from None
    if any(len(value) > 200 for value in (*skus, *categories, *segments)):
        raise InvalidPromotion("SKUs, categories and segments are at most 200 characters")
    if any(not value.strip() or len(value) > 64 for value in (*regions, *locations)):
        raise InvalidPromotion("regions and store ids are 1 to 64 characters")
    if len(regions) > MAX_SCOPE or len(locations) > MAX_SCOPE:
        raise InvalidPromotion(f"a promotion names at most {MAX_SCOPE} regions and stores")
    return PromotionTerms(
        name=name,
        eligibility=Eligibility(
            skus=frozenset(skus),
            categories=frozenset(categories),
            channels=frozenset(channels),
            segments=frozenset(segments),
            regions=frozenset(regions),
            locations=frozenset(locations),
        ),
        window=Window(starts_at, ends_at),
        rule=DiscountRule(kind, parsed_percent, parsed_amounts, buy, get),
        priority=priority,
        stacking=stacking,
        low_stock_threshold=low_stock_threshold,
        auto_resume=auto_resume,
    )


def _promotion_event(contract: type[PromotionChange], promotion: Promotion, at: datetime) -> Event:
    change = contract(
        promotion_id=promotion.id,
        promotion_version=promotion.current_version,
        status=str(promotion.status(at)),
        terms=terms_snapshot(promotion.terms),
    )
    return Event.of(change, partition_key=promotion.id, occurred_at=at)


async def create_promotion(
    uow: UnitOfWork,
    terms: PromotionTerms,
    *,
    promotion_id: str | None = None,
    at: datetime | None = None,
) -> Promotion:
    """A new promotion in draft, its first version holding ``terms``."""
    at = as_utc(at or uow.clock.now())
    promotion = Promotion.create(promotion_id or str(uuid.uuid4()), terms, at)
    async with uow:
        await uow.prices.add_promotion(promotion, at)
        uow.record(_promotion_event(PromotionCreated, promotion, at))
        await uow.commit()
    return promotion


async def _change(
    uow: UnitOfWork,
    promotion_id: str,
    event_type: type[PromotionChange],
    at: datetime | None,
    change: str,
    terms: PromotionTerms | None = None,
) -> Promotion:
    at = as_utc(at or uow.clock.now())
    async with uow:
        before = await _promotion(uow, promotion_id)
        if change == "publish":
            assert terms is not None
            after = before.publish(terms, at)
        else:
            after = getattr(before, change)(at)
        await uow.prices.save_promotion(before, after, at)
        uow.record(_promotion_event(event_type, after, at))
        if after.lifecycle is Lifecycle.LIVE:
            # This event says where the window stands: the transitions that have passed by
            # now are not announced again (a version published or restored mid-window).
            for transition in passed_transitions(after.terms.window, at):
                await uow.prices.claim_transition(after.id, after.current_version, transition, at)
        lifted = await _reconsider_stock_pauses(uow, after, change, at)
        await uow.commit()
    count_promotion_activations("resumed", lifted)
    return after


async def _promotion(uow: UnitOfWork, promotion_id: str) -> Promotion:
    found = await uow.prices.get_promotion(promotion_id)
    if found is None:
        raise PromotionNotFound(f"there is no promotion {promotion_id!r}", promotionId=promotion_id)
    return found


async def _reconsider_stock_pauses(
    uow: UnitOfWork, promotion: Promotion, change: str, at: datetime
) -> int:
    """After new or restored terms, lift the low-stock pauses those terms no longer ask
    for: they have no threshold, or one the units seen when it paused meet. Returns how
    many were lifted."""
    if change not in ("publish", "rollback") or promotion.lifecycle is Lifecycle.DRAFT:
        return 0
    offer = Offer(promotion.id, promotion.terms)
    lifted = 0
    for sku, region, available in await uow.prices.stock_pauses_of(promotion.id):
        if not pause_still_applies(promotion.terms, available):
            await uow.prices.lift_stock_pause(promotion.id, sku, region)
            reason = Reason.TERMS_CHANGED
            uow.record(stock_status_changed(offer, sku, region, available, reason, at))
            lifted += 1
    return lifted


async def resume_promotion_for_stock(
    uow: UnitOfWork, promotion_id: str, sku: str, region: str, *, at: datetime | None = None
) -> bool:
    """An operator lifts the low-stock pause of a promotion for ``sku`` in ``region``.
    Idempotent: with no such pause (never placed, or lifted already) nothing changes and
    it returns False. The pause may come back with the next stock change below the
    threshold, as any other pause would."""
    at = as_utc(at or uow.clock.now())
    async with uow:
        promotion = await _promotion(uow, promotion_id)
        pauses = {(s, r): units for s, r, units in await uow.prices.stock_pauses_of(promotion_id)}
        if (sku, region) not in pauses:
            return False
        await uow.prices.lift_stock_pause(promotion_id, sku, region)
        offer = Offer(promotion.id, promotion.terms)
        uow.record(
            stock_status_changed(offer, sku, region, pauses[(sku, region)], Reason.OPERATOR, at)
        )
        await uow.commit()
    count_promotion_activations("resumed")
    return True


async def publish_promotion_version(
    uow: UnitOfWork, promotion_id: str, terms: PromotionTerms, *, at: datetime | None = None
) -> Promotion:
    """New terms as a new version, which becomes current; the old versions stay as they were."""
    return await _change(uow, promotion_id, PromotionVersionPublished, at, "publish", terms)


async def activate_promotion(
    uow: UnitOfWork, promotion_id: str, *, at: datetime | None = None
) -> Promotion:
    """Live from its window's start (scheduled until then)."""
    try:
        activated = await _change(uow, promotion_id, PromotionActivated, at, "activate")
    except InvalidStatusTransition:
        count_promotion_activations("failed")
        raise
    count_promotion_activations("activated")
    return activated


async def pause_promotion(
    uow: UnitOfWork, promotion_id: str, *, at: datetime | None = None
) -> Promotion:
    return await _change(uow, promotion_id, PromotionPaused, at, "pause")


async def rollback_promotion(
    uow: UnitOfWork, promotion_id: str, *, at: datetime | None = None
) -> Promotion:
    """The previous version's terms apply again, wherever the promotion is priced."""
    return await _change(uow, promotion_id, PromotionRolledBack, at, "rollback")


@dataclass(frozen=True, slots=True)
class Quote:
    channel: str
    currency: str
    segment: str | None
    at: datetime
    lines: tuple[LinePrice, ...]
    subtotal: Decimal  # at base prices, tax included
    discount: Decimal
    total: Decimal  # what the customer pays, tax included
    net: Decimal
    tax: Decimal


async def quote(
    source: QuoteSource,
    lines: Sequence[tuple[str, int]],
    *,
    channel: str,
    currency: str,
    segment: str | None = None,
    region: str | None = None,
    location: str | None = None,
    at: datetime | None = None,
    sales: SalesVocabulary = DEFAULT_SALES,
) -> Quote:
    """Price ``(sku, quantity)`` lines from the database, never from a cache: a checkout
    must charge what is true now, and from one snapshot of it (``QuoteSource``). Each
    line is priced on its own, in the given order.
    In a ``region``, promotions paused there for a SKU's low stock do not apply to it;
    promotions scoped to regions or chosen stores apply in those (``region``, the selling
    ``location``) only."""
    check_channel(channel, sales)
    check_currency(currency, sales)
    at = as_utc(at or source.clock.now())
    if not lines:
        raise EmptyQuote("a quote needs at least one line")
    if len(lines) > MAX_QUOTE_LINES:
        raise InvalidQuantity(f"a quote has at most {MAX_QUOTE_LINES} lines")
    for index, (sku, quantity) in enumerate(lines):
        if not (0 < quantity <= MAX_LINE_QUANTITY):
            raise InvalidQuantity(
                f"line {index}: quantity must be between 1 and {MAX_LINE_QUANTITY}",
                sku=sku,
                quantity=quantity,
            )
    read = await source.quote_facts([(sku, channel, currency) for sku, _ in lines], at, region)
    priced: list[LinePrice] = []
    for sku, quantity in lines:
        fact = read.prices.get((sku, channel, currency))
        if fact is None:
            raise UnknownSku(f"pricing does not know SKU {sku!r}", sku=sku)
        if fact.amount is None:
            raise PriceNotFound(f"SKU {sku!r} has no {currency} price", sku=sku)
        priced.append(
            price_line(
                sku=sku,
                category=fact.category,
                quantity=quantity,
                unit_base=fact.amount,
                tax_rate=fact.tax_rate,
                currency=currency,
                channel=channel,
                segment=segment,
                at=at,
                offers=[o for o in read.offers if (o.promotion_id, sku) not in read.paused],
                region=region,
                location=location,
            )
        )
    return Quote(
        channel=channel,
        currency=currency,
        segment=segment,
        at=at,
        lines=tuple(priced),
        subtotal=sum((line.line_base for line in priced), Decimal(0)),
        discount=sum((line.line_discount for line in priced), Decimal(0)),
        total=sum((line.line_total for line in priced), Decimal(0)),
        net=sum((line.line_net for line in priced), Decimal(0)),
        tax=sum((line.line_tax for line in priced), Decimal(0)),
    )
