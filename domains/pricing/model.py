"""The pricing domain rules (pure: standard library only).

Decisions, in one place:

- Prices are stored **tax-inclusive** (gross). The retailer sells to consumers in the EU,
  where shelf, web and app prices are by law the price the customer pays, and the ERP's
  price lists carry those gross amounts. Storing what is displayed means a price never
  drifts by a cent when it is shown; the tax-exclusive amount is derived from it.
- Money is ``Decimal`` rounded to cents with **ROUND_HALF_UP** (commercial rounding): it
  is what customers and tax auditors expect on a receipt, where banker's rounding would
  surprise them. Each unit discount is rounded once; line totals are exact multiples.
- Tax is split per line: ``net = round(gross / (1 + rate))`` and ``tax = gross - net``,
  so net + tax always equals the gross the customer pays.
- Stacking: the customer gets the better of (a) the single best **exclusive** promotion
  and (b) all **stackable** promotions together. Stackable unit discounts are each taken
  from the base price (so their order does not matter); buy-X-get-Y then frees units at
  the price left after them. The result is capped at the line's base amount, never below
  zero. Ties go to the higher priority, then the smaller promotion id.
- Status is derived: an explicit lifecycle (draft, live, paused) plus the window decides
  scheduled/active/ended; a live promotion whose current version came from a rollback
  reads ``ROLLED_BACK`` while it is in force, so operators can see the old terms are back.
- Scope: channels and regions apply to every sale; chosen stores (``locations``) narrow
  the store channel only, so one promotion can run on web, app and 300 of the stores.
  Like segments, a region or store scope needs the sale's region or store to apply.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from domains.pricing.errors import (
    InvalidAmount,
    InvalidDateTime,
    InvalidDiscount,
    InvalidPromotion,
    InvalidStatusTransition,
    InvalidWindow,
    NoPreviousVersion,
    UnknownChannel,
    UnsupportedCurrency,
)
from kernel.channels import SalesVocabulary, well_formed_channel, well_formed_currency
from kernel.clock import as_utc as common_as_utc

STORE_CHANNEL = "store"  # the channel a promotion's chosen stores narrow
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(text: object, *, field_name: str = "amount") -> Decimal:
    """A money amount from client or ERP text: finite, at most 1e9, at most cents."""
    try:
        amount = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise InvalidAmount(f"{field_name} {text!r} is not a decimal number") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise InvalidAmount(f"{field_name} {text!r} is out of range")
    if amount != to_cents(amount):
        raise InvalidAmount(f"{field_name} {text!r} has more than two decimal places")
    return amount


def check_currency(currency: str, sales: SalesVocabulary) -> str:
    """``currency`` when the retailer prices in it."""
    if not sales.prices_in(currency):
        raise UnsupportedCurrency(
            f"currency {currency[:10]!r} is not one of {', '.join(sales.currencies)}",
            currency=currency[:10],
        )
    return currency


def check_channel(channel: str, sales: SalesVocabulary) -> str:
    """``channel`` when the retailer sells through it."""
    if not sales.sells_in(channel):
        raise UnknownChannel(
            f"channel {channel[:50]!r} is not one of {', '.join(sales.channels)}",
            channel=channel[:50],
        )
    return channel


def _well_formed_currency(currency: str) -> str:
    # Terms are pure: which currencies the retailer prices in is the service's question.
    if not well_formed_currency(currency):
        raise UnsupportedCurrency(f"{currency[:10]!r} is not a currency code", currency=currency)
    return currency


def as_utc(moment: datetime) -> datetime:
    """Naive datetimes from clients and SQLite are taken to be UTC."""
    try:
        return common_as_utc(moment)
    except OverflowError:  # e.g. 0001-01-01T00:00+05:00 is before year 1 in UTC
        raise InvalidDateTime(f"{moment.isoformat()} is out of range") from None


def split_tax(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(net, tax) of a tax-inclusive amount; they add up to ``gross`` exactly."""
    net = to_cents(gross / (1 + rate))
    return net, gross - net


# A price list row that moves a price by more than this share of it is held for an
# operator's approval rather than applied ([pricing] max_price_change_percent).
DEFAULT_MAX_PRICE_CHANGE_PERCENT = Decimal(50)


def price_change_percent(old: Decimal, new: Decimal) -> Decimal | None:
    """How far ``new`` is from ``old``, in percent of ``old``; None from a price of zero
    (any change from nothing is infinitely large)."""
    if old == 0:
        return None
    return abs(new - old) * 100 / old


def needs_approval(old: Decimal | None, new: Decimal, max_percent: Decimal) -> bool:
    """Whether a price change is too large to apply without an operator: more than
    ``max_percent`` away from the price in effect. A first price has nothing to compare
    with, and an unchanged one changes nothing."""
    if old is None or old == new:
        return False
    percent = price_change_percent(old, new)
    return percent is None or percent > max_percent


class HeldStatus(StrEnum):
    HELD = "HELD"  # waiting for an operator
    APPROVED = "APPROVED"  # applied once, when approved
    DISCARDED = "DISCARDED"  # never applied


@dataclass(frozen=True, slots=True)
class HeldPriceChange:
    """A price list row held back by the guard: what it would change, and what became of it."""

    id: str
    sku: str
    currency: str
    channel: str
    old_amount: Decimal
    new_amount: Decimal
    effective_from: datetime | None  # None: from the moment it is approved
    status: HeldStatus
    held_at: datetime
    decided_at: datetime | None = None

    @property
    def change_percent(self) -> Decimal | None:
        return price_change_percent(self.old_amount, self.new_amount)


class DiscountKind(StrEnum):
    PERCENT_OFF = "PERCENT_OFF"
    AMOUNT_OFF = "AMOUNT_OFF"
    FIXED_PRICE = "FIXED_PRICE"
    BUY_X_GET_Y = "BUY_X_GET_Y"


class Stacking(StrEnum):
    EXCLUSIVE = "EXCLUSIVE"
    STACKABLE = "STACKABLE"


class Lifecycle(StrEnum):
    """What people decided; the window decides the rest of the status."""

    DRAFT = "DRAFT"
    LIVE = "LIVE"
    PAUSED = "PAUSED"


class PromotionStatus(StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ENDED = "ENDED"
    ROLLED_BACK = "ROLLED_BACK"


@dataclass(frozen=True, slots=True)
class Window:
    """When a promotion is in force: from ``starts_at`` (inclusive) to ``ends_at`` (exclusive)."""

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "starts_at", as_utc(self.starts_at))
        object.__setattr__(self, "ends_at", as_utc(self.ends_at))
        if self.ends_at <= self.starts_at:
            raise InvalidWindow(
                "the promotion window must end after it starts",
                startsAt=self.starts_at.isoformat(),
                endsAt=self.ends_at.isoformat(),
            )

    def contains(self, at: datetime) -> bool:
        return self.starts_at <= as_utc(at) < self.ends_at


@dataclass(frozen=True, slots=True)
class DiscountRule:
    """How much comes off. Amount-off and fixed-price rules name an amount per currency;
    a rule without an amount for the quote's currency does not apply to it."""

    kind: DiscountKind
    percent: Decimal | None = None
    amounts: tuple[tuple[str, Decimal], ...] = ()
    buy: int | None = None
    get: int | None = None

    def __post_init__(self) -> None:
        if self.kind is DiscountKind.PERCENT_OFF:
            if self.percent is None or not (0 < self.percent <= 100):
                raise InvalidDiscount("percent off must be more than 0 and at most 100")
        elif self.kind in (DiscountKind.AMOUNT_OFF, DiscountKind.FIXED_PRICE):
            if not self.amounts:
                raise InvalidDiscount(f"{self.kind} needs an amount per currency")
            for currency, amount in self.amounts:
                _well_formed_currency(currency)
                floor = 0 if self.kind is DiscountKind.FIXED_PRICE else CENT
                if amount < floor or amount != to_cents(amount):
                    raise InvalidDiscount(f"{self.kind} amount {amount} {currency} is invalid")
            if len({c for c, _ in self.amounts}) != len(self.amounts):
                raise InvalidDiscount("each currency may have one amount only")
        elif self.buy is None or self.get is None or self.buy < 1 or self.get < 1:
            raise InvalidDiscount("buy X get Y needs X >= 1 and Y >= 1")
        elif self.buy > 1000 or self.get > 1000:
            raise InvalidDiscount("buy X get Y quantities are at most 1000")

    def amount_in(self, currency: str) -> Decimal | None:
        return dict(self.amounts).get(currency)

    def applies_in(self, currency: str) -> bool:
        return self.kind not in (DiscountKind.AMOUNT_OFF, DiscountKind.FIXED_PRICE) or (
            self.amount_in(currency) is not None
        )

    def unit_discount(self, unit_price: Decimal, currency: str) -> Decimal:
        """The discount on one unit, in cents, never more than the unit price."""
        if self.kind is DiscountKind.PERCENT_OFF:
            assert self.percent is not None
            return min(unit_price, to_cents(unit_price * self.percent / 100))
        amount = self.amount_in(currency)
        if self.kind is DiscountKind.AMOUNT_OFF and amount is not None:
            return min(unit_price, amount)
        if self.kind is DiscountKind.FIXED_PRICE and amount is not None:
            return max(Decimal(0), unit_price - amount)
        return Decimal(0)

    def free_units(self, quantity: int) -> int:
        """Buy X get Y: in every full group of X + Y units, Y are free."""
        if self.kind is not DiscountKind.BUY_X_GET_Y:
            return 0
        assert self.buy is not None
        assert self.get is not None
        return (quantity // (self.buy + self.get)) * self.get


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who and what a promotion is for; an empty set means "any"."""

    skus: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()  # the stores, when not every store

    def __post_init__(self) -> None:
        for channel in self.channels:
            if not well_formed_channel(channel):
                raise UnknownChannel(f"{channel[:50]!r} is not a channel name", channel=channel)

    def covers_product(self, sku: str, category: str | None) -> bool:
        if not self.skus and not self.categories:
            return True
        return sku in self.skus or (category is not None and _in_categories(category, self))

    def covers(
        self,
        sku: str,
        category: str | None,
        channel: str | None,
        segment: str | None,
        *,
        region: str | None = None,
        location: str | None = None,
    ) -> bool:
        """``channel`` None asks "on any channel"; ``segment`` None is an anonymous shopper;
        ``region`` and ``location`` None: the sale's region or store is not known."""
        if channel is not None and self.channels and channel not in self.channels:
            return False
        if self.segments and segment not in self.segments:
            return False
        if self.regions and region not in self.regions:
            return False
        if self.locations and channel == STORE_CHANNEL and location not in self.locations:
            return False
        return self.covers_product(sku, category)


def _in_categories(category: str, eligibility: Eligibility) -> bool:
    # "apparel" covers "apparel/tops": categories are paths.
    return any(category == c or category.startswith(f"{c}/") for c in eligibility.categories)


@dataclass(frozen=True, slots=True)
class PromotionTerms:
    name: str
    eligibility: Eligibility
    window: Window
    rule: DiscountRule
    priority: int = 0
    stacking: Stacking = Stacking.EXCLUSIVE
    low_stock_threshold: int | None = None
    auto_resume: bool = False  # lift a low-stock pause once stock is back at the threshold

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise InvalidPromotion("a promotion needs a name of 1 to 200 characters")
        if not (-1000 <= self.priority <= 1000):
            raise InvalidPromotion("priority must be between -1000 and 1000")
        if self.low_stock_threshold is not None and not (0 <= self.low_stock_threshold <= 10**9):
            raise InvalidPromotion("the low-stock threshold must be zero or more")


class StockAction(StrEnum):
    PAUSE = "PAUSE"
    RESUME = "RESUME"


def stock_can_matter(terms: PromotionTerms, available: int) -> bool:
    """Whether ``available`` units could pause or lift this promotion anywhere, before
    knowing whether it is paused there: below its threshold, or it resumes on its own."""
    threshold = terms.low_stock_threshold
    return terms.auto_resume or (threshold is not None and available < threshold)


def low_stock_action(terms: PromotionTerms, available: int, paused: bool) -> StockAction | None:
    """What a region's available units of a SKU do to the promotion there: pause it below
    the threshold; lift the pause at or above it (or with no threshold any more) when the
    promotion resumes on its own; otherwise nothing."""
    threshold = terms.low_stock_threshold
    if not paused:
        return StockAction.PAUSE if threshold is not None and available < threshold else None
    recovered = threshold is None or available >= threshold
    return StockAction.RESUME if recovered and terms.auto_resume else None


def pause_still_applies(terms: PromotionTerms, available: int) -> bool:
    """Whether a low-stock pause is still justified by ``terms`` at the last ``available``
    units seen: after a rollback or a new version, a pause the terms in force no longer
    ask for (no threshold, or one the units meet) is lifted."""
    threshold = terms.low_stock_threshold
    return threshold is not None and available < threshold


class WindowTransition(StrEnum):
    """A promotion window opening or closing: each is announced once per version."""

    STARTED = "STARTED"
    ENDED = "ENDED"


def passed_transitions(window: Window, at: datetime) -> tuple[WindowTransition, ...]:
    """The window's transitions that have happened by ``at``, in order."""
    at = as_utc(at)
    if at >= window.ends_at:
        return (WindowTransition.STARTED, WindowTransition.ENDED)
    return (WindowTransition.STARTED,) if at >= window.starts_at else ()


def due_transition(
    window: Window, at: datetime, announced: Collection[WindowTransition]
) -> WindowTransition | None:
    """The transition to announce now: the latest one that has happened, unless it was
    announced already. A window that opened and closed while nobody was announcing gets
    its end only: saying it started would be news about the past."""
    passed = passed_transitions(window, at)
    if not passed or passed[-1] in announced:
        return None
    return passed[-1]


@dataclass(frozen=True, slots=True)
class PromotionVersion:
    """One published set of terms; never changed once it exists."""

    number: int
    terms: PromotionTerms
    published_at: datetime


@dataclass(frozen=True, slots=True)
class Promotion:
    id: str
    lifecycle: Lifecycle
    versions: tuple[PromotionVersion, ...]
    current_version: int
    rolled_back: bool = False

    @classmethod
    def create(cls, promotion_id: str, terms: PromotionTerms, at: datetime) -> Promotion:
        return cls(promotion_id, Lifecycle.DRAFT, (PromotionVersion(1, terms, as_utc(at)),), 1)

    @property
    def current(self) -> PromotionVersion:
        return next(v for v in self.versions if v.number == self.current_version)

    @property
    def terms(self) -> PromotionTerms:
        return self.current.terms

    def status(self, at: datetime) -> PromotionStatus:
        if self.lifecycle is Lifecycle.DRAFT:
            return PromotionStatus.DRAFT
        if self.lifecycle is Lifecycle.PAUSED:
            return PromotionStatus.PAUSED
        window = self.terms.window
        if as_utc(at) < window.starts_at:
            return PromotionStatus.SCHEDULED
        if as_utc(at) >= window.ends_at:
            return PromotionStatus.ENDED
        return PromotionStatus.ROLLED_BACK if self.rolled_back else PromotionStatus.ACTIVE

    def in_force(self, at: datetime) -> bool:
        return self.status(at) in (PromotionStatus.ACTIVE, PromotionStatus.ROLLED_BACK)

    def publish(self, terms: PromotionTerms, at: datetime) -> Promotion:
        """A new version with new terms becomes current; earlier versions stay as they were."""
        number = max(v.number for v in self.versions) + 1
        version = PromotionVersion(number, terms, as_utc(at))
        return replace(
            self, versions=(*self.versions, version), current_version=number, rolled_back=False
        )

    def activate(self, at: datetime) -> Promotion:
        status = self.status(at)
        if self.lifecycle is Lifecycle.LIVE:
            raise self._cannot("activate", status)
        if as_utc(at) >= self.terms.window.ends_at:
            raise self._cannot("activate", PromotionStatus.ENDED)
        return replace(self, lifecycle=Lifecycle.LIVE)

    def pause(self, at: datetime) -> Promotion:
        status = self.status(at)
        if self.lifecycle is not Lifecycle.LIVE or status is PromotionStatus.ENDED:
            raise self._cannot("pause", status)
        return replace(self, lifecycle=Lifecycle.PAUSED)

    def rollback(self, at: datetime) -> Promotion:
        """Back to the version before the current one; its terms apply again everywhere."""
        earlier = [v.number for v in self.versions if v.number < self.current_version]
        if not earlier:
            raise NoPreviousVersion(
                f"promotion {self.id} has no version before {self.current_version}",
                promotionId=self.id,
            )
        return replace(self, current_version=max(earlier), rolled_back=True)

    def _cannot(self, action: str, status: PromotionStatus) -> InvalidStatusTransition:
        return InvalidStatusTransition(
            f"cannot {action} promotion {self.id} while it is {status}",
            promotionId=self.id,
            status=str(status),
        )


@dataclass(frozen=True, slots=True)
class Offer:
    """A promotion as pricing applies it: its id and its current terms."""

    promotion_id: str
    terms: PromotionTerms


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    promotion_id: str
    name: str
    kind: DiscountKind
    stacking: Stacking
    priority: int
    amount: Decimal  # taken off the line


@dataclass(frozen=True, slots=True)
class LinePrice:
    sku: str
    quantity: int
    currency: str
    tax_rate: Decimal
    unit_base: Decimal
    unit_promotional: Decimal
    line_base: Decimal
    line_discount: Decimal
    line_total: Decimal  # tax-inclusive, what the customer pays
    line_net: Decimal
    line_tax: Decimal
    applied: tuple[AppliedDiscount, ...] = field(default=())


def price_line(
    *,
    sku: str,
    category: str | None,
    quantity: int,
    unit_base: Decimal,
    tax_rate: Decimal,
    currency: str,
    channel: str,
    segment: str | None,
    at: datetime,
    offers: list[Offer],
    region: str | None = None,
    location: str | None = None,
) -> LinePrice:
    """The line after the promotions that apply, by the stacking rule in the module doc;
    ``region`` and ``location`` are where the sale happens, when known."""
    candidates = [
        o
        for o in offers
        if o.terms.window.contains(at)
        and o.terms.eligibility.covers(
            sku, category, channel, segment, region=region, location=location
        )
        and o.terms.rule.applies_in(currency)
    ]
    candidates.sort(key=lambda o: (-o.terms.priority, o.promotion_id))
    options: list[tuple[Decimal, Decimal, list[AppliedDiscount]]] = [
        _combine([o], unit_base, quantity, currency)
        for o in candidates
        if o.terms.stacking is Stacking.EXCLUSIVE
    ]
    stackable = [o for o in candidates if o.terms.stacking is Stacking.STACKABLE]
    if stackable:
        options.append(_combine(stackable, unit_base, quantity, currency))
    # max() keeps the first of equals: exclusives come first, in priority order.
    best = max(options, key=lambda option: option[0], default=None)
    line_base = unit_base * quantity
    line_discount, unit_discount, applied = (
        best if best is not None and best[0] > 0 else (Decimal(0), Decimal(0), [])
    )
    line_total = line_base - line_discount
    line_net, line_tax = split_tax(line_total, tax_rate)
    return LinePrice(
        sku=sku,
        quantity=quantity,
        currency=currency,
        tax_rate=tax_rate,
        unit_base=unit_base,
        unit_promotional=unit_base - unit_discount,
        line_base=line_base,
        line_discount=line_discount,
        line_total=line_total,
        line_net=line_net,
        line_tax=line_tax,
        applied=tuple(a for a in applied if a.amount > 0),
    )


def _combine(
    offers: list[Offer], unit_base: Decimal, quantity: int, currency: str
) -> tuple[Decimal, Decimal, list[AppliedDiscount]]:
    """(line discount, unit discount, what each offer took) for offers applied together."""
    applied: list[AppliedDiscount] = []
    unit_discount = Decimal(0)
    for offer in offers:
        if offer.terms.rule.kind is not DiscountKind.BUY_X_GET_Y:
            off = offer.terms.rule.unit_discount(unit_base, currency)
            off = min(off, unit_base - unit_discount)
            unit_discount += off
            applied.append(_applied(offer, off * quantity))
    unit_price = unit_base - unit_discount
    line_discount = unit_discount * quantity
    for offer in offers:
        if offer.terms.rule.kind is DiscountKind.BUY_X_GET_Y:
            free = offer.terms.rule.free_units(quantity)
            off = min(free * unit_price, unit_base * quantity - line_discount)
            line_discount += off
            applied.append(_applied(offer, off))
    return line_discount, unit_discount, applied


def _applied(offer: Offer, amount: Decimal) -> AppliedDiscount:
    terms = offer.terms
    return AppliedDiscount(
        offer.promotion_id, terms.name, terms.rule.kind, terms.stacking, terms.priority, amount
    )
