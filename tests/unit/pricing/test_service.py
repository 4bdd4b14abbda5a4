"""The pricing use cases against an in-memory unit of work: prices, quotes, promotions and
low-stock pauses, with the events each one records and what it commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from domains.pricing import handlers, imports, service, windows
from domains.pricing.errors import PricingError
from domains.pricing.handlers import StockPauseChange
from domains.pricing.imports import PriceRow, SkuFacts
from domains.pricing.model import (
    HeldPriceChange,
    HeldStatus,
    Lifecycle,
    Offer,
    Promotion,
    PromotionTerms,
    StockAction,
    WindowTransition,
)
from domains.pricing.quote_facts import QuoteFacts
from domains.pricing.repository import (
    PriceKey,
    ScheduledPrice,
    SkuPrice,
    WindowState,
    resolve_price,
)
from domains.pricing.tables import ALL_CHANNELS
from kernel.clock import SettableClock
from kernel.event_types import (
    PriceChanged,
    PromotionRolledBack,
    PromotionStatusChanged,
    PromotionVersionPublished,
    SkuPricingChanged,
)
from tests.fakes import StagedUnitOfWork
from tests.support import TEST_NOW

NOW = TEST_NOW
DAY = timedelta(days=1)
VAT = Decimal("0.20")


class FakePrices:
    """Pricing's storage in memory, keeping the SQL repository's promises: prices are
    effective-dated rows, a channel's own price beats the all-channel list, only live
    promotions are offered, a stored version never changes, and a pause is stored once
    per promotion, SKU and region."""

    def __init__(self) -> None:
        self.skus: dict[str, tuple[str | None, Decimal]] = {}
        # (sku, channel or "*", currency): {effective from: (amount, announced at)}
        self.history: dict[PriceKey, dict[datetime, tuple[Decimal, datetime | None]]] = {}
        self.held: dict[str, HeldPriceChange] = {}
        self.promotions: dict[str, Promotion] = {}
        self.pauses: dict[tuple[str, str, str], int] = {}  # (promotion, sku, region): units
        self.transitions: set[tuple[str, int, WindowTransition]] = set()  # announced

    def copy(self) -> FakePrices:
        copied = FakePrices()
        copied.skus = dict(self.skus)
        copied.history = {key: dict(rows) for key, rows in self.history.items()}
        copied.held = dict(self.held)
        copied.promotions = dict(self.promotions)
        copied.pauses = dict(self.pauses)
        copied.transitions = set(self.transitions)
        return copied

    @property
    def amounts(self) -> dict[PriceKey, Decimal]:
        """The latest price of each list, scheduled ones included."""
        return {key: rows[max(rows)][0] for key, rows in self.history.items() if rows}

    def _timeline(self, key: PriceKey) -> list[tuple[datetime, Decimal]]:
        return sorted((moment, amount) for moment, (amount, _) in self.history.get(key, {}).items())

    async def sku_prices(self, keys: Sequence[PriceKey], at: datetime) -> dict[PriceKey, SkuPrice]:
        found: dict[PriceKey, SkuPrice] = {}
        for sku, channel, currency in keys:
            if sku not in self.skus:
                continue
            category, tax_rate = self.skus[sku]
            own = self._timeline((sku, channel, currency))
            shared = self._timeline((sku, ALL_CHANNELS, currency))
            amount, since, until = resolve_price(own, shared, at)
            found[(sku, channel, currency)] = SkuPrice(
                sku, category, tax_rate, amount, since, until
            )
        return found

    async def live_offers(self) -> list[Offer]:
        return [
            Offer(promotion.id, promotion.terms)
            for _, promotion in sorted(self.promotions.items())
            if promotion.lifecycle is Lifecycle.LIVE
        ]

    async def known_skus(self, skus: Iterable[str]) -> dict[str, tuple[str | None, Decimal]]:
        return {sku: self.skus[sku] for sku in set(skus) if sku in self.skus}

    async def save_skus(
        self,
        rows: Sequence[tuple[str, str | None, Decimal]],
        existing: Iterable[str],
        now: datetime,
    ) -> None:
        known = set(existing)
        for sku, category, tax_rate in rows:
            if sku not in known and sku in self.skus:
                raise AssertionError(f"SKU {sku} is stored twice")
            if sku not in known or sku in self.skus:
                self.skus[sku] = (category, tax_rate)

    async def list_prices(
        self, currency: str, channel: str, skus: Iterable[str], at: datetime
    ) -> dict[str, Decimal]:
        found = {}
        for sku in set(skus):
            amount, _, _ = resolve_price(self._timeline((sku, channel, currency)), [], at)
            if amount is not None:
                found[sku] = amount
        return found

    async def save_prices(
        self,
        currency: str,
        channel: str,
        changes: dict[str, Decimal],
        effective_from: datetime,
        now: datetime,
    ) -> None:
        announced = now if effective_from <= now else None
        for sku, amount in changes.items():
            rows = self.history.setdefault((sku, channel, currency), {})
            rows[effective_from] = (amount, announced)

    async def due_prices(self, at: datetime, limit: int) -> list[ScheduledPrice]:
        due = [
            ScheduledPrice(sku, currency, channel, moment, amount)
            for (sku, channel, currency), rows in self.history.items()
            for moment, (amount, announced) in rows.items()
            if announced is None and moment <= at
        ]
        return sorted(due, key=lambda d: (d.effective_from, d.sku))[:limit]

    async def claim_price(self, due: ScheduledPrice, at: datetime) -> bool:
        rows = self.history[(due.sku, due.channel, due.currency)]
        amount, announced = rows[due.effective_from]
        if announced is not None:
            return False
        rows[due.effective_from] = (amount, at)
        return True

    async def held_like(
        self, currency: str, channel: str, skus: Iterable[str]
    ) -> dict[tuple[str, Decimal], str]:
        wanted = set(skus)
        return {
            (c.sku, c.new_amount): c.id
            for c in self.held.values()
            if c.status is HeldStatus.HELD
            and (c.currency, c.channel) == (currency, channel)
            and c.sku in wanted
        }

    async def hold_changes(self, changes: Sequence[HeldPriceChange]) -> None:
        for change in changes:
            if change.id in self.held:
                raise AssertionError(f"held change {change.id} is stored twice")
            self.held[change.id] = change

    async def held_changes(self, ids: Sequence[str]) -> list[HeldPriceChange]:
        return [self.held[i] for i in ids if i in self.held]

    async def decide_held(self, held_id: str, status: HeldStatus, at: datetime) -> None:
        self.held[held_id] = replace(self.held[held_id], status=status, decided_at=at)

    async def stock_paused(self, skus: Iterable[str], region: str) -> set[tuple[str, str]]:
        wanted = set(skus)
        return {(pid, sku) for pid, sku, where in self.pauses if sku in wanted and where == region}

    async def pause_for_stock(
        self, promotion_id: str, sku: str, region: str, available: int, at: datetime
    ) -> None:
        key = (promotion_id, sku, region)
        if key in self.pauses:
            raise AssertionError(f"{promotion_id} is paused twice for {sku} in {region}")
        self.pauses[key] = available

    async def lift_stock_pause(self, promotion_id: str, sku: str, region: str) -> None:
        self.pauses.pop((promotion_id, sku, region), None)

    async def stock_pauses_of(self, promotion_id: str) -> list[tuple[str, str, int]]:
        return sorted(
            (sku, region, units)
            for (pid, sku, region), units in self.pauses.items()
            if pid == promotion_id
        )

    async def open_windows(self, at: datetime) -> list[WindowState]:
        states = []
        for pid, promotion in sorted(self.promotions.items()):
            version, window = promotion.current_version, promotion.terms.window
            announced = frozenset(t for p, v, t in self.transitions if (p, v) == (pid, version))
            if (
                promotion.lifecycle is Lifecycle.LIVE
                and window.starts_at <= at
                and WindowTransition.ENDED not in announced
            ):
                states.append(WindowState(pid, version, window, announced))
        return states

    async def claim_transition(
        self, promotion_id: str, version: int, transition: WindowTransition, at: datetime
    ) -> bool:
        key = (promotion_id, version, transition)
        if key in self.transitions:
            return False
        self.transitions.add(key)
        return True

    async def get_promotion(self, promotion_id: str) -> Promotion | None:
        return self.promotions.get(promotion_id)

    async def add_promotion(self, promotion: Promotion, at: datetime) -> None:
        if promotion.id in self.promotions:
            raise AssertionError(f"promotion {promotion.id} is stored twice")
        self.promotions[promotion.id] = promotion

    async def save_promotion(self, before: Promotion, after: Promotion, at: datetime) -> None:
        stored = self.promotions[after.id]
        known = {v.number for v in before.versions}
        added = tuple(v for v in after.versions if v.number not in known)
        self.promotions[after.id] = replace(after, versions=(*stored.versions, *added))


class FakeUnitOfWork(StagedUnitOfWork[FakePrices]):
    def __init__(self) -> None:
        super().__init__(FakePrices(), SettableClock(NOW))

    @property
    def prices(self) -> FakePrices:
        return self.staged

    async def quote_facts(
        self, keys: Sequence[PriceKey], at: datetime, region: str | None
    ) -> QuoteFacts:
        """From what is committed, as one statement outside any transaction reads."""
        store = self.committed
        paused = await store.stock_paused({key[0] for key in keys}, region) if region else set()
        return QuoteFacts(await store.sku_prices(keys, at), await store.live_offers(), paused)


def percent_off(
    percent: str,
    *,
    name: str | None = None,
    starts_at: datetime = NOW - DAY,
    ends_at: datetime = NOW + DAY,
    **more: Any,
) -> PromotionTerms:
    return service.build_terms(
        name=name or f"{percent}% off",
        starts_at=starts_at,
        ends_at=ends_at,
        kind="PERCENT_OFF",
        percent=percent,
        **more,
    )


async def priced_skus(uow: FakeUnitOfWork, eur_prices: dict[str, str]) -> None:
    """SKUs known to pricing (apparel tops, 20% VAT) with an all-channel EUR price each."""
    await imports.register_skus(uow, [SkuFacts(sku, "apparel/tops", VAT) for sku in eur_prices])
    rows = [PriceRow(sku, "EUR", amount) for sku, amount in eur_prices.items()]
    await imports.import_price_list(lambda: uow, "EUR", rows)


async def live_promotion(
    uow: FakeUnitOfWork, promotion_id: str, terms: PromotionTerms, *, at: datetime = NOW
) -> Promotion:
    await service.create_promotion(uow, terms, promotion_id=promotion_id, at=at)
    return await service.activate_promotion(uow, promotion_id, at=at)


async def total_of(
    uow: FakeUnitOfWork,
    sku: str = "A-1",
    *,
    channel: str = "web",
    region: str | None = None,
    at: datetime = NOW,
) -> Decimal:
    quote = await service.quote(
        uow, [(sku, 1)], channel=channel, currency="EUR", region=region, at=at
    )
    return quote.total


# Price lists and SKU facts


async def test_a_price_import_records_price_changed_once_per_changed_price_only() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00", "B-1": "20.00"})
    await imports.register_skus(uow, [SkuFacts("C-1", "apparel/tops", VAT)])
    before = len(uow.events)

    report = await imports.import_price_list(
        lambda: uow,
        "EUR",
        [
            PriceRow("A-1", "EUR", "10.00"),
            PriceRow("B-1", "EUR", "25.50"),
            PriceRow("C-1", "EUR", "5"),
        ],
    )

    assert (report.received, report.changed, report.unchanged) == (3, 2, 1)
    changed = [e.payload_as(PriceChanged) for e in uow.events[before:]]
    assert changed == [
        PriceChanged(
            sku="B-1",
            currency="EUR",
            channel=ALL_CHANNELS,
            old_amount=Decimal("20.00"),
            new_amount=Decimal("25.50"),
        ),
        PriceChanged(
            sku="C-1", currency="EUR", channel=ALL_CHANNELS, old_amount=None, new_amount=Decimal(5)
        ),
    ]
    assert [e.partition_key for e in uow.events[before:]] == ["B-1", "C-1"]
    assert uow.committed.amounts[("B-1", ALL_CHANNELS, "EUR")] == Decimal("25.50")


async def test_a_repeated_price_import_changes_nothing_and_records_nothing() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    events = list(uow.events)

    report = await imports.import_price_list(lambda: uow, "EUR", [PriceRow("A-1", "EUR", "10")])

    assert (report.changed, report.unchanged) == (0, 1)
    assert uow.events == events


async def test_a_price_import_rejects_bad_rows_with_their_code_and_keeps_the_good_ones() -> None:
    uow = FakeUnitOfWork()
    await imports.register_skus(
        uow, [SkuFacts(sku, "apparel/tops", VAT) for sku in ("A-1", "B-1", "C-1", "D-1")]
    )
    rows = [
        PriceRow("A-1", "EUR", "12.50"),
        PriceRow("Z-9", "EUR", "1.00"),
        PriceRow("B-1", "USD", "1.00"),
        PriceRow("C-1", "EUR", "1.005"),
        PriceRow("D-1", "EUR", "-1.00"),
        PriceRow("A-1", "EUR", "13.00"),
        PriceRow("", "EUR", "1.00"),
    ]

    report = await imports.import_price_list(lambda: uow, "EUR", rows)

    assert [(r.index, r.sku, r.code) for r in report.rejected] == [
        (1, "Z-9", "UNKNOWN_SKU"),
        (2, "B-1", "CURRENCY_MISMATCH"),
        (3, "C-1", "INVALID_AMOUNT"),
        (4, "D-1", "NEGATIVE_PRICE"),
        (5, "A-1", "DUPLICATE_SKU"),
        (6, "", "INVALID_SKU"),
    ]
    assert (report.accepted, report.changed) == (1, 1)
    assert uow.committed.amounts == {("A-1", ALL_CHANNELS, "EUR"): Decimal("12.50")}
    assert [e.payload_as(PriceChanged).sku for e in uow.events if e.type == "PriceChanged"] == [
        "A-1"
    ]


async def test_a_price_import_commits_once_per_batch_and_reports_its_progress() -> None:
    uow = FakeUnitOfWork()
    skus = [f"A-{n}" for n in range(5)]
    await imports.register_skus(uow, [SkuFacts(sku, None, VAT) for sku in skus])
    commits = uow.commits
    progress: list[tuple[int, int]] = []

    await imports.import_price_list(
        lambda: uow,
        "EUR",
        [PriceRow(sku, "EUR", "9.99") for sku in skus],
        batch_size=2,
        on_progress=lambda done, total: progress.append((done, total)),
    )

    assert uow.commits - commits == 3
    assert progress == [(2, 5), (4, 5), (5, 5)]
    assert len([e for e in uow.events if e.type == "PriceChanged"]) == 5


async def test_a_channel_price_list_overrides_the_all_channel_price_in_that_channel_only() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})

    await imports.import_price_list(
        lambda: uow, "EUR", [PriceRow("A-1", "EUR", "90.00")], channel="web"
    )

    assert await total_of(uow, channel="web") == Decimal("90.00")
    assert await total_of(uow, channel="store") == Decimal("100.00")
    web = uow.events[-1].payload_as(PriceChanged)
    assert (web.channel, web.old_amount, web.new_amount) == ("web", None, Decimal("90.00"))


@pytest.mark.parametrize(
    ("currency", "channel", "code"),
    [("JPY", None, "UNSUPPORTED_CURRENCY"), ("EUR", "fax", "UNKNOWN_CHANNEL")],
)
async def test_a_price_list_in_an_unknown_currency_or_channel_is_refused_whole(
    currency: str, channel: str | None, code: str
) -> None:
    uow = FakeUnitOfWork()
    await imports.register_skus(uow, [SkuFacts("A-1", None, VAT)])
    commits = uow.commits

    with pytest.raises(PricingError) as refused:
        await imports.import_price_list(
            lambda: uow, currency, [PriceRow("A-1", currency, "1.00")], channel=channel
        )

    assert refused.value.code == code
    assert uow.commits == commits
    assert uow.committed.amounts == {}


async def test_sku_registration_records_a_change_only_for_a_known_sku_whose_facts_changed() -> None:
    uow = FakeUnitOfWork()

    assert await imports.register_skus(uow, [SkuFacts("A-1", "apparel/tops", VAT)]) == 1
    assert await imports.register_skus(uow, [SkuFacts("A-1", "apparel/tops", VAT)]) == 0
    assert await imports.register_skus(uow, [SkuFacts("A-1", "apparel/knit", Decimal("0.07"))]) == 1

    assert [e.payload_as(SkuPricingChanged) for e in uow.events] == [
        SkuPricingChanged(sku="A-1", category="apparel/knit", tax_rate=Decimal("0.07"))
    ]
    assert uow.committed.skus == {"A-1": ("apparel/knit", Decimal("0.07"))}


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (SkuFacts("", None, VAT), "INVALID_SKU"),
        (SkuFacts("A" * 65, None, VAT), "INVALID_SKU"),
        (SkuFacts("A-1", None, Decimal(1)), "INVALID_TAX_RATE"),
        (SkuFacts("A-1", None, Decimal("-0.01")), "INVALID_TAX_RATE"),
    ],
)
async def test_an_invalid_sku_registration_is_refused_with_its_code_and_commits_nothing(
    facts: SkuFacts, code: str
) -> None:
    uow = FakeUnitOfWork()

    with pytest.raises(PricingError) as refused:
        await imports.register_skus(uow, [SkuFacts("B-1", None, VAT), facts])

    assert refused.value.code == code
    assert uow.commits == 0
    assert uow.committed.skus == {}


# Quotes


async def test_a_quote_applies_the_live_promotion_of_its_channel_at_its_moment() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "live", percent_off("10", channels=["web"]))
    await live_promotion(
        uow,
        "expired",
        percent_off("50", channels=["web"], starts_at=NOW - 5 * DAY, ends_at=NOW - DAY),
        at=NOW - 3 * DAY,
    )
    await live_promotion(
        uow,
        "future",
        percent_off("40", channels=["web"], starts_at=NOW + DAY, ends_at=NOW + 5 * DAY),
    )
    await live_promotion(uow, "app", percent_off("30", channels=["app"]))
    await service.create_promotion(uow, percent_off("60"), promotion_id="draft", at=NOW)
    await live_promotion(uow, "paused", percent_off("70"))
    await service.pause_promotion(uow, "paused", at=NOW)
    commits, events = uow.commits, list(uow.events)

    quote = await service.quote(uow, [("A-1", 2)], channel="web", currency="EUR", at=NOW)

    (line,) = quote.lines
    assert [a.promotion_id for a in line.applied] == ["live"]
    assert (line.unit_base, line.unit_promotional) == (Decimal("100.00"), Decimal("90.00"))
    assert (quote.subtotal, quote.discount, quote.total) == (
        Decimal("200.00"),
        Decimal("20.00"),
        Decimal("180.00"),
    )
    assert (quote.net, quote.tax) == (Decimal("150.00"), Decimal("30.00"))
    assert (uow.commits, uow.events) == (commits, events)  # a quote stores nothing


async def test_a_quote_applies_what_is_in_force_at_its_moment_and_in_its_channel() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "now", percent_off("10", channels=["web"]))
    await live_promotion(
        uow,
        "later",
        percent_off("40", channels=["web"], starts_at=NOW + DAY, ends_at=NOW + 5 * DAY),
    )
    await live_promotion(uow, "app", percent_off("30", channels=["app"]))

    assert await total_of(uow, at=NOW + DAY - timedelta(microseconds=1)) == Decimal("90.00")
    assert await total_of(uow, at=NOW + DAY) == Decimal("60.00")  # "now" ended as "later" began
    assert await total_of(uow, at=NOW + 5 * DAY) == Decimal("100.00")
    assert await total_of(uow, channel="app") == Decimal("70.00")
    assert await total_of(uow, channel="store") == Decimal("100.00")


async def test_a_quote_without_a_moment_is_priced_at_the_clocks_time() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(
        uow, "weekend", percent_off("25", starts_at=NOW + DAY, ends_at=NOW + 3 * DAY)
    )

    before = await service.quote(uow, [("A-1", 1)], channel="web", currency="EUR")
    uow.clock.set(NOW + 2 * DAY)
    during = await service.quote(uow, [("A-1", 1)], channel="web", currency="EUR")

    assert (before.at, before.total) == (NOW, Decimal("100.00"))
    assert (during.at, during.total) == (NOW + 2 * DAY, Decimal("75.00"))


async def test_a_promotion_paused_for_low_stock_in_a_region_still_applies_elsewhere() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00", "B-1": "50.00"})
    await live_promotion(uow, "sale", percent_off("10", low_stock_threshold=5))
    await handlers.apply_regional_availability(uow, sku="A-1", region="north", available=2)

    quote = await service.quote(
        uow, [("A-1", 1), ("B-1", 1)], channel="web", currency="EUR", region="north", at=NOW
    )

    assert [line.line_total for line in quote.lines] == [Decimal("100.00"), Decimal("45.00")]
    assert await total_of(uow, region="south") == Decimal("90.00")
    assert await total_of(uow) == Decimal("90.00")  # no region: no regional pause applies


@pytest.mark.parametrize(
    ("lines", "channel", "currency", "code"),
    [
        ([], "web", "EUR", "EMPTY_QUOTE"),
        ([("A-1", 0)], "web", "EUR", "INVALID_QUANTITY"),
        ([("A-1", 10_001)], "web", "EUR", "INVALID_QUANTITY"),
        ([("A-1", 1)] * 501, "web", "EUR", "INVALID_QUANTITY"),
        ([("A-1", 1)], "fax", "EUR", "UNKNOWN_CHANNEL"),
        ([("A-1", 1)], "web", "JPY", "UNSUPPORTED_CURRENCY"),
        ([("A-1", 1), ("Z-9", 1)], "web", "EUR", "UNKNOWN_SKU"),
        ([("B-1", 1)], "web", "EUR", "PRICE_NOT_FOUND"),
        ([("A-1", 1)], "web", "USD", "PRICE_NOT_FOUND"),
    ],
)
async def test_a_quote_with_invalid_input_is_refused_with_its_code(
    lines: list[tuple[str, int]], channel: str, currency: str, code: str
) -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await imports.register_skus(uow, [SkuFacts("B-1", None, VAT)])
    commits, events = uow.commits, list(uow.events)

    with pytest.raises(PricingError) as refused:
        await service.quote(uow, lines, channel=channel, currency=currency)

    assert refused.value.code == code
    assert (uow.commits, uow.events) == (commits, events)


# Promotions: versions, lifecycle, rollback


async def test_the_promotion_lifecycle_records_one_event_per_step_keyed_by_the_promotion() -> None:
    uow = FakeUnitOfWork()

    await service.create_promotion(uow, percent_off("10"), promotion_id="p1")
    uow.clock.set(NOW + timedelta(hours=1))
    await service.activate_promotion(uow, "p1")
    uow.clock.set(NOW + timedelta(hours=2))
    await service.pause_promotion(uow, "p1")
    await service.activate_promotion(uow, "p1")

    assert uow.commits == 4
    assert [(e.type, e.payload["status"], e.occurred_at) for e in uow.events] == [
        ("PromotionCreated", "DRAFT", NOW),
        ("PromotionActivated", "ACTIVE", NOW + timedelta(hours=1)),
        ("PromotionPaused", "PAUSED", NOW + timedelta(hours=2)),
        ("PromotionActivated", "ACTIVE", NOW + timedelta(hours=2)),
    ]
    assert {e.partition_key for e in uow.events} == {"p1"}
    assert uow.committed.promotions["p1"].lifecycle is Lifecycle.LIVE


async def test_a_new_promotion_version_is_numbered_and_applies_from_its_own_window() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "p1", percent_off("10"))
    autumn = percent_off("25", name="Autumn", starts_at=NOW + DAY, ends_at=NOW + 3 * DAY)

    published = await service.publish_promotion_version(uow, "p1", autumn, at=NOW)

    stored = uow.committed.promotions["p1"]
    assert [(v.number, v.terms.name, v.published_at) for v in stored.versions] == [
        (1, "10% off", NOW),
        (2, "Autumn", NOW),
    ]
    assert stored.versions[0].terms == percent_off("10")  # the first version stays as it was
    assert (published.current_version, stored.current_version) == (2, 2)
    change = uow.events[-1].payload_as(PromotionVersionPublished)
    assert (change.promotion_id, change.promotion_version, change.status) == ("p1", 2, "SCHEDULED")
    assert (change.terms.name, change.terms.percent) == ("Autumn", Decimal(25))
    assert (change.terms.starts_at, change.terms.ends_at) == (NOW + DAY, NOW + 3 * DAY)
    assert await total_of(uow, at=NOW) == Decimal("100.00")  # version 1's terms no longer apply
    assert await total_of(uow, at=NOW + DAY) == Decimal("75.00")
    assert await total_of(uow, at=NOW + 3 * DAY) == Decimal("100.00")


async def test_a_rollback_restores_the_previous_version_and_records_its_terms() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "p1", percent_off("10"))
    await service.publish_promotion_version(uow, "p1", percent_off("25"), at=NOW)
    assert await total_of(uow) == Decimal("75.00")

    rolled = await service.rollback_promotion(uow, "p1", at=NOW)

    assert (rolled.current_version, rolled.rolled_back) == (1, True)
    assert [v.number for v in uow.committed.promotions["p1"].versions] == [1, 2]
    event = uow.events[-1]
    change = event.payload_as(PromotionRolledBack)
    assert (event.partition_key, event.occurred_at) == ("p1", NOW)
    assert (change.promotion_version, change.status, change.terms.percent) == (
        1,
        "ROLLED_BACK",
        Decimal(10),
    )
    assert await total_of(uow) == Decimal("90.00")


async def test_a_promotion_with_a_single_version_cannot_be_rolled_back() -> None:
    uow = FakeUnitOfWork()
    await live_promotion(uow, "p1", percent_off("10"))
    commits, events = uow.commits, list(uow.events)

    with pytest.raises(PricingError) as refused:
        await service.rollback_promotion(uow, "p1", at=NOW)

    assert refused.value.code == "NO_PREVIOUS_VERSION"
    assert (uow.commits, uow.events) == (commits, events)
    assert uow.committed.promotions["p1"].rolled_back is False


@pytest.mark.parametrize(
    "change",
    [
        lambda uow: service.activate_promotion(uow, "nope"),
        lambda uow: service.pause_promotion(uow, "nope"),
        lambda uow: service.rollback_promotion(uow, "nope"),
        lambda uow: service.publish_promotion_version(uow, "nope", percent_off("5")),
    ],
    ids=["activate", "pause", "rollback", "publish"],
)
async def test_changing_an_unknown_promotion_is_refused_and_commits_nothing(
    change: Callable[[FakeUnitOfWork], Awaitable[Promotion]],
) -> None:
    uow = FakeUnitOfWork()

    with pytest.raises(PricingError) as refused:
        await change(uow)

    assert (refused.value.code, refused.value.details) == (
        "PROMOTION_NOT_FOUND",
        {"promotionId": "nope"},
    )
    assert (uow.commits, uow.events) == (0, [])


async def test_an_invalid_status_transition_is_refused_and_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    await service.create_promotion(uow, percent_off("10"), promotion_id="draft", at=NOW)
    await live_promotion(uow, "live", percent_off("10"))
    commits, events = uow.commits, list(uow.events)

    for attempt in (
        service.pause_promotion(uow, "draft", at=NOW),
        service.activate_promotion(uow, "live", at=NOW),
        service.activate_promotion(uow, "draft", at=NOW + DAY),  # its window has ended
    ):
        with pytest.raises(PricingError) as refused:
            await attempt
        assert refused.value.code == "INVALID_STATUS_TRANSITION"

    assert (uow.commits, uow.events) == (commits, events)
    assert uow.committed.promotions["draft"].lifecycle is Lifecycle.DRAFT


# Low stock


async def test_low_stock_pauses_a_promotion_for_the_sku_and_region_and_recovery_resumes_it() -> (
    None
):
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(
        uow,
        "sale",
        percent_off("10", channels=["web", "app"], low_stock_threshold=5, auto_resume=True),
    )

    paused = await handlers.apply_regional_availability(
        uow, sku="A-1", region="north", available=4, at=NOW
    )

    assert paused == [StockPauseChange("sale", "A-1", "north", StockAction.PAUSE)]
    assert uow.events[-1].partition_key == "sale"
    assert uow.events[-1].payload_as(PromotionStatusChanged) == PromotionStatusChanged(
        promotion_id="sale",
        sku="A-1",
        region="north",
        status="PAUSED",
        reason="LOW_STOCK",
        available=4,
        threshold=5,
        channels=("app", "web"),
    )
    assert await total_of(uow, region="north") == Decimal("100.00")
    assert await total_of(uow, region="south") == Decimal("90.00")

    events = list(uow.events)
    assert (
        await handlers.apply_regional_availability(
            uow, sku="A-1", region="north", available=1, at=NOW
        )
        == []
    )
    assert uow.events == events  # still low: the pause stays as it is

    resumed = await handlers.apply_regional_availability(
        uow, sku="A-1", region="north", available=5, at=NOW
    )

    assert resumed == [StockPauseChange("sale", "A-1", "north", StockAction.RESUME)]
    recovered = uow.events[-1].payload_as(PromotionStatusChanged)
    assert (recovered.status, recovered.reason, recovered.available) == (
        "ACTIVE",
        "STOCK_RECOVERED",
        5,
    )
    assert uow.committed.pauses == {}
    assert await total_of(uow, region="north") == Decimal("90.00")


async def test_a_low_stock_pause_without_auto_resume_stays_when_stock_comes_back() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "sale", percent_off("10", low_stock_threshold=5))
    await handlers.apply_regional_availability(uow, sku="A-1", region="north", available=0)
    events = list(uow.events)

    changes = await handlers.apply_regional_availability(
        uow, sku="A-1", region="north", available=50
    )

    assert changes == []
    assert uow.events == events
    assert uow.committed.pauses == {("sale", "A-1", "north"): 0}
    assert await total_of(uow, region="north") == Decimal("100.00")


async def test_low_stock_pauses_only_live_promotions_with_a_threshold_that_cover_the_sku() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "by-sku", percent_off("10", skus=["A-1"], low_stock_threshold=5))
    await live_promotion(
        uow, "by-category", percent_off("10", categories=["apparel"], low_stock_threshold=5)
    )
    await live_promotion(
        uow, "shoes", percent_off("10", categories=["shoes"], low_stock_threshold=5)
    )
    await live_promotion(uow, "no-threshold", percent_off("10", skus=["A-1"]))
    await service.create_promotion(
        uow, percent_off("10", low_stock_threshold=5), promotion_id="draft", at=NOW
    )

    changes = await handlers.apply_regional_availability(
        uow, sku="A-1", region="north", available=0
    )

    assert [(c.promotion_id, c.action) for c in changes] == [
        ("by-category", StockAction.PAUSE),
        ("by-sku", StockAction.PAUSE),
    ]
    assert sorted(uow.committed.pauses) == [
        ("by-category", "A-1", "north"),
        ("by-sku", "A-1", "north"),
    ]


async def test_a_rollback_lifts_the_pauses_the_restored_terms_no_longer_ask_for() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00", "A-2": "100.00"})
    await live_promotion(uow, "sale", percent_off("10", low_stock_threshold=3))
    await service.publish_promotion_version(
        uow, "sale", percent_off("20", low_stock_threshold=10), at=NOW
    )
    await handlers.apply_regional_availability(uow, sku="A-1", region="north", available=4)
    await handlers.apply_regional_availability(uow, sku="A-2", region="north", available=1)

    await service.rollback_promotion(uow, "sale", at=NOW)

    # 4 units meet the restored threshold of 3; 1 unit does not.
    assert uow.committed.pauses == {("sale", "A-2", "north"): 1}
    lifted = uow.events[-1].payload_as(PromotionStatusChanged)
    assert (lifted.sku, lifted.region, lifted.status, lifted.reason) == (
        "A-1",
        "north",
        "ACTIVE",
        "TERMS_CHANGED",
    )
    assert await total_of(uow, "A-1", region="north") == Decimal("90.00")
    assert await total_of(uow, "A-2", region="north") == Decimal("100.00")


async def test_a_pause_survives_a_whole_pause_and_reactivation_and_lifts_on_a_receipt() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    resuming = percent_off("10", low_stock_threshold=5, auto_resume=True)
    await live_promotion(uow, "sale", resuming)
    await handlers.apply_regional_availability(uow, sku="A-1", region="north", available=2)
    await service.pause_promotion(uow, "sale", at=NOW)
    await service.activate_promotion(uow, "sale", at=NOW)
    assert uow.committed.pauses == {("sale", "A-1", "north"): 2}

    changes = await handlers.apply_regional_availability(
        uow, sku="A-1", region="north", available=202
    )

    assert changes == [StockPauseChange("sale", "A-1", "north", StockAction.RESUME)]
    assert uow.committed.pauses == {}


async def test_an_operator_lift_is_idempotent() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "100.00"})
    await live_promotion(uow, "sale", percent_off("10", low_stock_threshold=5))
    await handlers.apply_regional_availability(uow, sku="A-1", region="north", available=0)

    assert await service.resume_promotion_for_stock(uow, "sale", "A-1", "north")
    events = list(uow.events)
    assert not await service.resume_promotion_for_stock(uow, "sale", "A-1", "north")

    assert uow.events == events
    assert uow.committed.pauses == {}
    assert uow.events[-1].payload_as(PromotionStatusChanged).reason == "OPERATOR"
    with pytest.raises(PricingError):
        await service.resume_promotion_for_stock(uow, "nope", "A-1", "north")


async def test_a_window_start_is_announced_once_with_the_version_in_force() -> None:
    uow = FakeUnitOfWork()
    later = percent_off("10", starts_at=NOW + DAY, ends_at=NOW + 2 * DAY)
    await live_promotion(uow, "weekend", later)

    assert await windows.announce_due_transitions(lambda: uow, at=NOW) == []
    first = await windows.announce_due_transitions(lambda: uow, at=NOW + DAY)
    again = await windows.announce_due_transitions(lambda: uow, at=NOW + DAY)

    assert first == [windows.DueTransition("weekend", 1, WindowTransition.STARTED)]
    assert again == []
    started = uow.events[-1].payload_as(PromotionStatusChanged)
    assert (started.sku, started.status, started.reason, started.promotion_version) == (
        None,
        "ACTIVE",
        "WINDOW_STARTED",
        1,
    )
