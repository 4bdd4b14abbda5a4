"""Pricing's money invariants over any set of promotions, and the edges of its input rules.

The customer always gets the best deal the rules allow: the chosen promotion (or stack)
is never worse for them than any single eligible promotion on its own; the discount is
never more than the line and never negative; net and tax add up to what is paid; and
what each applied promotion took adds up to the line's discount, at any quantity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.pricing.errors import (
    InvalidAmount,
    InvalidDiscount,
    InvalidPromotion,
    InvalidStatusTransition,
    UnknownChannel,
    UnsupportedCurrency,
)
from domains.pricing.model import (
    MAX_AMOUNT,
    DiscountKind,
    DiscountRule,
    Eligibility,
    LinePrice,
    Offer,
    Promotion,
    PromotionStatus,
    PromotionTerms,
    Stacking,
    StockAction,
    Window,
    WindowTransition,
    check_channel,
    check_currency,
    low_stock_action,
    parse_amount,
    passed_transitions,
    price_line,
    split_tax,
    stock_can_matter,
    to_cents,
)
from kernel.channels import SalesVocabulary

AT = datetime(2026, 11, 28, 12, tzinfo=UTC)
WINDOW = Window(datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
PROPERTIES = settings(max_examples=80, deadline=None)


def terms(
    rule: DiscountRule,
    *,
    stacking: Stacking = Stacking.EXCLUSIVE,
    priority: int = 0,
    name: str = "deal",
    eligibility: Eligibility | None = None,
    threshold: int | None = None,
    auto_resume: bool = False,
) -> PromotionTerms:
    return PromotionTerms(
        name=name,
        eligibility=eligibility or Eligibility(),
        window=WINDOW,
        rule=rule,
        priority=priority,
        stacking=stacking,
        low_stock_threshold=threshold,
        auto_resume=auto_resume,
    )


def price(offers: list[Offer], *, base: str | Decimal = "10.00", quantity: int = 1) -> LinePrice:
    return price_line(
        sku="SKU-1",
        category="apparel/tops",
        quantity=quantity,
        unit_base=Decimal(base),
        tax_rate=Decimal("0.19"),
        currency="EUR",
        channel="web",
        segment=None,
        at=AT,
        offers=offers,
    )


PERCENT = st.builds(
    lambda p: DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(p)),
    st.integers(1, 100),
)
AMOUNT_OFF = st.builds(
    lambda a: DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("EUR", a),)),
    st.decimals("0.01", "30.00", places=2),
)
FIXED = st.builds(
    lambda a: DiscountRule(DiscountKind.FIXED_PRICE, amounts=(("EUR", a),)),
    st.decimals("0.00", "30.00", places=2),
)
IN_DOLLARS = st.just(DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("USD", Decimal("5.00")),)))
BUY_GET = st.builds(
    lambda b, g: DiscountRule(DiscountKind.BUY_X_GET_Y, buy=b, get=g),
    st.integers(1, 3),
    st.integers(1, 2),
)
RULES = st.one_of(PERCENT, AMOUNT_OFF, FIXED, BUY_GET, IN_DOLLARS)
OFFERS = st.lists(
    st.builds(
        lambda rule, stacking, priority: (rule, stacking, priority),
        RULES,
        st.sampled_from(list(Stacking)),
        st.integers(-2, 2),
    ),
    max_size=5,
).map(
    lambda drawn: [
        Offer(f"p{i}", terms(rule, stacking=stacking, priority=priority, name=f"p{i}"))
        for i, (rule, stacking, priority) in enumerate(drawn)
    ]
)


@PROPERTIES
@given(
    offers=OFFERS,
    base=st.decimals("0.01", "50.00", places=2),
    quantity=st.integers(1, 7),
)
def test_the_chosen_deal_is_never_worse_than_any_eligible_promotion_alone(
    offers: list[Offer], base: Decimal, quantity: int
) -> None:
    chosen = price(offers, base=base, quantity=quantity)
    for offer in offers:
        alone = price([offer], base=base, quantity=quantity)
        assert chosen.line_total <= alone.line_total
    stackables = [o for o in offers if o.terms.stacking is Stacking.STACKABLE]
    assert chosen.line_total <= price(stackables, base=base, quantity=quantity).line_total
    # The money adds up.
    assert chosen.line_base == base * quantity
    assert 0 <= chosen.line_discount <= chosen.line_base
    assert chosen.line_total == chosen.line_base - chosen.line_discount >= 0
    assert chosen.line_net + chosen.line_tax == chosen.line_total
    assert chosen.line_net == to_cents(chosen.line_total / Decimal("1.19"))
    assert sum((a.amount for a in chosen.applied), Decimal(0)) == chosen.line_discount
    assert all(a.amount > 0 for a in chosen.applied)
    assert 0 <= chosen.unit_promotional <= chosen.unit_base == base
    assert chosen.quantity == quantity
    exclusives = [a for a in chosen.applied if a.stacking is Stacking.EXCLUSIVE]
    assert len(exclusives) <= 1
    assert not (exclusives and len(chosen.applied) > 1)


def test_the_exclusive_picker_takes_the_better_deal_for_the_customer() -> None:
    # Three units at 10.00: 10% off costs 27.00, buy 2 get 1 costs 20.00.
    offers = [
        Offer("tenth", terms(DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal("10")))),
        Offer("b2g1", terms(DiscountRule(DiscountKind.BUY_X_GET_Y, buy=2, get=1))),
    ]
    for ordered in (offers, offers[::-1]):
        priced = price(ordered, quantity=3)
        assert priced.line_total == Decimal("20.00")
        assert [(a.promotion_id, a.amount) for a in priced.applied] == [("b2g1", Decimal("10.00"))]


@pytest.mark.parametrize(
    ("rule", "unit_off"),
    [
        (DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal("15")), Decimal("1.50")),
        (
            DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("EUR", Decimal("2.00")),)),
            Decimal("2.00"),
        ),
        (
            DiscountRule(DiscountKind.FIXED_PRICE, amounts=(("EUR", Decimal("7.00")),)),
            Decimal("3.00"),
        ),
    ],
)
@pytest.mark.parametrize("quantity", [1, 3, 4])
def test_the_discount_taken_is_the_unit_discount_times_the_quantity(
    rule: DiscountRule, unit_off: Decimal, quantity: int
) -> None:
    for stacking in Stacking:
        priced = price([Offer("p", terms(rule, stacking=stacking))], quantity=quantity)
        assert priced.line_discount == unit_off * quantity
        assert priced.line_total == (Decimal("10.00") - unit_off) * quantity
        assert priced.unit_promotional == Decimal("10.00") - unit_off
        (applied,) = priced.applied
        assert (applied.promotion_id, applied.kind, applied.stacking, applied.amount) == (
            "p",
            rule.kind,
            stacking,
            unit_off * quantity,
        )


def test_stacked_discounts_each_name_what_they_took_at_quantity_above_one() -> None:
    offers = [
        Offer(
            "pct",
            terms(
                DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal("10")),
                stacking=Stacking.STACKABLE,
                priority=1,
            ),
        ),
        Offer(
            "off",
            terms(
                DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("EUR", Decimal("1.00")),)),
                stacking=Stacking.STACKABLE,
            ),
        ),
        Offer(
            "b1g1",
            terms(
                DiscountRule(DiscountKind.BUY_X_GET_Y, buy=1, get=1), stacking=Stacking.STACKABLE
            ),
        ),
    ]
    # 4 units at 10.00: 1.00 + 1.00 off each (8.00 a unit), then 2 of 4 free at 8.00.
    priced = price(offers, quantity=4)
    assert [(a.promotion_id, a.amount, a.priority) for a in priced.applied] == [
        ("pct", Decimal("4.00"), 1),
        ("off", Decimal("4.00"), 0),
        ("b1g1", Decimal("16.00"), 0),
    ]
    assert (priced.line_discount, priced.line_total, priced.unit_promotional) == (
        Decimal("24.00"),
        Decimal("16.00"),
        Decimal("8.00"),
    )


def test_buy_one_get_one_is_a_valid_deal_and_frees_every_second_unit() -> None:
    rule = DiscountRule(DiscountKind.BUY_X_GET_Y, buy=1, get=1)
    assert [rule.free_units(q) for q in (1, 2, 3, 4)] == [0, 1, 1, 2]
    priced = price([Offer("b1g1", terms(rule))], quantity=2)
    assert (priced.line_discount, priced.line_total) == (Decimal("10.00"), Decimal("10.00"))
    assert DiscountRule(DiscountKind.BUY_X_GET_Y, buy=1000, get=1000).free_units(2000) == 1000
    assert DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(50)).free_units(4) == 0


def test_no_discount_leaves_the_line_at_its_base_price() -> None:
    priced = price(
        [Offer("p", terms(DiscountRule(DiscountKind.BUY_X_GET_Y, buy=3, get=1)))], quantity=2
    )
    assert (priced.line_discount, priced.line_total, priced.applied) == (
        Decimal(0),
        Decimal("20.00"),
        (),
    )
    assert priced.unit_promotional == Decimal("10.00")


def test_equal_deals_go_to_the_higher_priority_then_the_smaller_id() -> None:
    rule = DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal("20"))
    low, high = Offer("a", terms(rule, priority=-1)), Offer("z", terms(rule, priority=5))
    assert [a.promotion_id for a in price([low, high]).applied] == ["z"]
    assert [
        a.promotion_id for a in price([Offer("b", terms(rule)), Offer("a", terms(rule))]).applied
    ] == ["a"]


def test_only_promotions_in_force_for_the_line_apply() -> None:
    rule = DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal("20"))
    later = Window(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    outside = PromotionTerms(name="later", eligibility=Eligibility(), window=later, rule=rule)
    elsewhere = terms(rule, eligibility=Eligibility(channels=frozenset({"store"})))
    other_sku = terms(rule, eligibility=Eligibility(skus=frozenset({"SKU-2"})))
    offers = [Offer("a", outside), Offer("b", elsewhere), Offer("c", other_sku)]
    assert price(offers).applied == ()


@pytest.mark.parametrize(
    ("eligibility", "channel", "segment", "covered"),
    [
        (Eligibility(), None, None, True),
        (Eligibility(channels=frozenset({"web"})), None, None, True),
        (Eligibility(channels=frozenset({"web"})), "web", None, True),
        (Eligibility(channels=frozenset({"web"})), "app", None, False),
        (Eligibility(segments=frozenset({"vip"})), "web", "vip", True),
        (Eligibility(segments=frozenset({"vip"})), "web", None, False),
        (Eligibility(skus=frozenset({"SKU-1"})), "web", None, True),
        (Eligibility(categories=frozenset({"apparel"})), "web", None, True),
        (Eligibility(categories=frozenset({"apparel/tops"})), "web", None, True),
        (Eligibility(categories=frozenset({"shoes"})), "web", None, False),
        (Eligibility(skus=frozenset({"SKU-2"})), "web", None, False),
    ],
)
def test_eligibility_by_channel_segment_sku_and_category(
    eligibility: Eligibility, channel: str | None, segment: str | None, covered: bool
) -> None:
    assert eligibility.covers("SKU-1", "apparel/tops", channel, segment) is covered


def test_a_product_without_a_category_is_covered_only_by_its_sku() -> None:
    assert not Eligibility(categories=frozenset({"apparel"})).covers_product("SKU-1", None)
    assert Eligibility(skus=frozenset({"SKU-1"}), categories=frozenset({"x"})).covers_product(
        "SKU-1", None
    )


# -- input rules at their edges --------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": DiscountKind.PERCENT_OFF, "percent": Decimal("0.01")},
        {"kind": DiscountKind.PERCENT_OFF, "percent": Decimal("100")},
        {"kind": DiscountKind.AMOUNT_OFF, "amounts": (("EUR", Decimal("0.01")),)},
        {"kind": DiscountKind.FIXED_PRICE, "amounts": (("EUR", Decimal("0.00")),)},
        {
            "kind": DiscountKind.AMOUNT_OFF,
            "amounts": (("EUR", Decimal("1")), ("USD", Decimal("1"))),
        },
        {"kind": DiscountKind.BUY_X_GET_Y, "buy": 1, "get": 1},
        {"kind": DiscountKind.BUY_X_GET_Y, "buy": 1000, "get": 1000},
    ],
)
def test_discount_rules_at_their_limits_are_accepted(rule: dict[str, object]) -> None:
    DiscountRule(**rule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"kind": DiscountKind.PERCENT_OFF, "percent": Decimal("0")}, InvalidDiscount),
        ({"kind": DiscountKind.PERCENT_OFF, "percent": Decimal("100.01")}, InvalidDiscount),
        ({"kind": DiscountKind.PERCENT_OFF}, InvalidDiscount),
        ({"kind": DiscountKind.AMOUNT_OFF}, InvalidDiscount),
        (
            {"kind": DiscountKind.AMOUNT_OFF, "amounts": (("EUR", Decimal("0.00")),)},
            InvalidDiscount,
        ),
        (
            {"kind": DiscountKind.FIXED_PRICE, "amounts": (("EUR", Decimal("-0.01")),)},
            InvalidDiscount,
        ),
        (
            {"kind": DiscountKind.FIXED_PRICE, "amounts": (("EUR", Decimal("1.001")),)},
            InvalidDiscount,
        ),
        (
            {"kind": DiscountKind.AMOUNT_OFF, "amounts": (("gbp", Decimal("1")),)},
            UnsupportedCurrency,
        ),
        (
            {
                "kind": DiscountKind.AMOUNT_OFF,
                "amounts": (("EUR", Decimal("1")), ("EUR", Decimal("2"))),
            },
            InvalidDiscount,
        ),
        ({"kind": DiscountKind.BUY_X_GET_Y, "buy": 0, "get": 1}, InvalidDiscount),
        ({"kind": DiscountKind.BUY_X_GET_Y, "buy": 1, "get": 0}, InvalidDiscount),
        ({"kind": DiscountKind.BUY_X_GET_Y, "buy": 1001, "get": 1}, InvalidDiscount),
        ({"kind": DiscountKind.BUY_X_GET_Y, "buy": 1, "get": 1001}, InvalidDiscount),
        ({"kind": DiscountKind.BUY_X_GET_Y, "get": 1}, InvalidDiscount),
    ],
)
def test_discount_rules_past_their_limits_are_refused(
    rule: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        DiscountRule(**rule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "x"},
        {"name": "x" * 200},
        {"priority": -1000},
        {"priority": 1000},
        {"low_stock_threshold": 0},
        {"low_stock_threshold": 10**9},
    ],
)
def test_promotion_terms_at_their_limits_are_accepted(changes: dict[str, object]) -> None:
    rule = DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(5))
    values: dict[str, object] = {"name": "n", "eligibility": Eligibility(), "window": WINDOW}
    PromotionTerms(rule=rule, **(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {"name": " "},
        {"name": "x" * 201},
        {"priority": -1001},
        {"priority": 1001},
        {"low_stock_threshold": -1},
        {"low_stock_threshold": 10**9 + 1},
    ],
)
def test_promotion_terms_past_their_limits_are_refused(changes: dict[str, object]) -> None:
    rule = DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(5))
    values: dict[str, object] = {"name": "n", "eligibility": Eligibility(), "window": WINDOW}
    with pytest.raises(InvalidPromotion):
        PromotionTerms(rule=rule, **(values | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0", "0.01", "-0.01", " 12.50 ", "1000000000", "-1000000000"])
def test_amounts_at_their_limits_are_accepted(text: str) -> None:
    assert parse_amount(text) == Decimal(text.strip())


@pytest.mark.parametrize(
    "text", ["1000000000.01", "-1000000000.01", "0.001", "Infinity", "x", None]
)
def test_amounts_past_their_limits_are_refused(text: object) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text, field_name="price")
    assert Decimal("1000000000") == MAX_AMOUNT


def test_currencies_and_channels_are_checked_against_the_retailers_own() -> None:
    sales = SalesVocabulary(channels=("web", "amazon"), currencies=("EUR", "GBP"))
    assert check_currency("GBP", sales) == "GBP"
    assert check_channel("amazon", sales) == "amazon"
    with pytest.raises(UnsupportedCurrency):
        check_currency("USD", sales)
    with pytest.raises(UnknownChannel):
        check_channel("store", sales)


def test_promotion_terms_accept_any_well_formed_channel_and_currency_only() -> None:
    assert Eligibility(channels=frozenset({"amazon"})).channels == {"amazon"}
    with pytest.raises(UnknownChannel):
        Eligibility(channels=frozenset({"Fax Machine"}))
    with pytest.raises(UnsupportedCurrency):
        DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("euro", Decimal(1)),))


@PROPERTIES
@given(
    gross=st.decimals("0.00", "100000.00", places=2),
    rate=st.sampled_from(["0", "0.07", "0.19", "0.2"]),
)
def test_net_and_tax_add_up_to_the_gross(gross: Decimal, rate: str) -> None:
    net, tax = split_tax(gross, Decimal(rate))
    assert net + tax == gross
    assert net == to_cents(gross / (1 + Decimal(rate)))
    assert 0 <= tax <= gross


# -- low stock and lifecycle ----------------------------------------------------------------


@PROPERTIES
@given(
    threshold=st.none() | st.integers(0, 10),
    auto_resume=st.booleans(),
    available=st.integers(0, 12),
    paused=st.booleans(),
)
def test_low_stock_pauses_below_the_threshold_and_resumes_at_it_when_configured(
    threshold: int | None, auto_resume: bool, available: int, paused: bool
) -> None:
    promotion = terms(
        DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(5)),
        threshold=threshold,
        auto_resume=auto_resume,
    )
    low = threshold is not None and available < threshold
    expected = (
        (StockAction.RESUME if auto_resume and not low else None)
        if paused
        else (StockAction.PAUSE if low else None)
    )
    assert low_stock_action(promotion, available, paused) is expected
    assert stock_can_matter(promotion, available) is (auto_resume or low)


def test_a_paused_promotion_can_be_activated_again_but_not_paused_twice() -> None:
    promotion = Promotion.create(
        "p1", terms(DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(5))), AT
    )
    live = promotion.activate(AT)
    assert live.in_force(AT)
    assert live.status(WINDOW.ends_at - timedelta(microseconds=1)) is PromotionStatus.ACTIVE
    paused = live.pause(AT)
    assert paused.status(AT) is PromotionStatus.PAUSED
    assert not paused.in_force(AT)
    with pytest.raises(InvalidStatusTransition):
        paused.pause(AT)
    assert paused.activate(AT).in_force(AT)
    with pytest.raises(InvalidStatusTransition):
        live.pause(WINDOW.ends_at)
    with pytest.raises(InvalidStatusTransition):
        promotion.activate(WINDOW.ends_at)
    assert promotion.activate(WINDOW.ends_at - timedelta(microseconds=1)).lifecycle.value == "LIVE"


def test_stacked_free_units_never_take_the_line_below_zero() -> None:
    # Two stackable "buy 1 get 2" on 3 units would free 4 of 3: the line costs nothing.
    rule = DiscountRule(DiscountKind.BUY_X_GET_Y, buy=1, get=2)
    offers = [Offer(f"b1g2-{i}", terms(rule, stacking=Stacking.STACKABLE)) for i in (1, 2)]
    priced = price(offers, quantity=3)
    assert (priced.line_discount, priced.line_total) == (Decimal("30.00"), Decimal("0.00"))
    assert [(a.promotion_id, a.amount) for a in priced.applied] == [
        ("b1g2-1", Decimal("20.00")),
        ("b1g2-2", Decimal("10.00")),
    ]


@pytest.mark.parametrize(
    "rule",
    [
        DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("EUR", Decimal("2.00")),)),
        DiscountRule(DiscountKind.FIXED_PRICE, amounts=(("EUR", Decimal("2.00")),)),
        DiscountRule(DiscountKind.BUY_X_GET_Y, buy=1, get=1),
    ],
)
def test_a_rule_takes_nothing_off_a_unit_in_a_currency_it_does_not_name(
    rule: DiscountRule,
) -> None:
    assert rule.unit_discount(Decimal("10.00"), "USD") == Decimal(0)
    assert rule.applies_in("USD") is (rule.kind is DiscountKind.BUY_X_GET_Y)


def test_a_promotion_is_active_from_the_first_instant_of_its_window() -> None:
    rule = DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(5))
    live = Promotion.create("p1", terms(rule), AT).activate(AT)
    before = WINDOW.starts_at - timedelta(microseconds=1)
    assert live.status(before) is PromotionStatus.SCHEDULED
    assert live.status(WINDOW.starts_at) is PromotionStatus.ACTIVE
    assert live.status(WINDOW.ends_at) is PromotionStatus.ENDED


def test_window_transitions_take_a_naive_moment_as_utc() -> None:
    naive_start = WINDOW.starts_at.replace(tzinfo=None)
    assert passed_transitions(WINDOW, naive_start - timedelta(microseconds=1)) == ()
    assert passed_transitions(WINDOW, naive_start) == (WindowTransition.STARTED,)
    assert passed_transitions(WINDOW, WINDOW.ends_at.replace(tzinfo=None)) == (
        WindowTransition.STARTED,
        WindowTransition.ENDED,
    )
