"""Discount rules, stacking, rounding and tax on a priced line."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domains.pricing.errors import InvalidAmount
from domains.pricing.model import (
    DiscountKind,
    DiscountRule,
    Eligibility,
    LinePrice,
    Offer,
    PromotionTerms,
    Stacking,
    Window,
    parse_amount,
    price_line,
    split_tax,
    to_cents,
)

AT = datetime(2026, 11, 28, 12, tzinfo=UTC)
WINDOW = Window(datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))


def offer(
    promotion_id: str,
    rule: DiscountRule,
    *,
    stacking: Stacking = Stacking.EXCLUSIVE,
    priority: int = 0,
    eligibility: Eligibility | None = None,
    window: Window = WINDOW,
) -> Offer:
    return Offer(
        promotion_id,
        PromotionTerms(
            name=promotion_id,
            eligibility=eligibility or Eligibility(),
            window=window,
            rule=rule,
            priority=priority,
            stacking=stacking,
        ),
    )


def percent(value: str) -> DiscountRule:
    return DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(value))


def amount_off(eur: str) -> DiscountRule:
    return DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("EUR", Decimal(eur)),))


def fixed(eur: str) -> DiscountRule:
    return DiscountRule(DiscountKind.FIXED_PRICE, amounts=(("EUR", Decimal(eur)),))


def buy_get(buy: int, get: int) -> DiscountRule:
    return DiscountRule(DiscountKind.BUY_X_GET_Y, buy=buy, get=get)


def line(
    offers: list[Offer],
    *,
    base: str = "10.00",
    quantity: int = 1,
    rate: str = "0.19",
    sku: str = "SKU-1",
    category: str | None = "apparel/tops",
    channel: str = "web",
    segment: str | None = None,
    currency: str = "EUR",
    at: datetime = AT,
) -> LinePrice:
    return price_line(
        sku=sku,
        category=category,
        quantity=quantity,
        unit_base=Decimal(base),
        tax_rate=Decimal(rate),
        currency=currency,
        channel=channel,
        segment=segment,
        at=at,
        offers=offers,
    )


def test_line_without_promotions_costs_the_base_price() -> None:
    priced = line([], quantity=3)
    assert (priced.unit_promotional, priced.line_total, priced.applied) == (
        Decimal("10.00"),
        Decimal("30.00"),
        (),
    )


def test_percent_off_rounds_half_up_to_the_cent() -> None:
    # 15% of 0.10 is 0.015: half up gives 0.02 (half even would give 0.02 too), and
    # 15% of 0.30 is 0.045: half up gives 0.05 where half even would give 0.04.
    assert line([offer("p", percent("15"))], base="0.30").unit_promotional == Decimal("0.25")
    assert to_cents(Decimal("0.125")) == Decimal("0.13")


def test_amount_off_never_takes_a_price_below_zero() -> None:
    priced = line([offer("p", amount_off("25.00"))], base="10.00", quantity=2)
    assert priced.unit_promotional == 0
    assert priced.line_total == 0


def test_fixed_price_sets_the_unit_price_and_never_raises_it() -> None:
    assert line([offer("p", fixed("7.99"))]).unit_promotional == Decimal("7.99")
    assert line([offer("p", fixed("12.00"))]).applied == ()


def test_amount_rules_do_not_apply_in_a_currency_they_do_not_name() -> None:
    assert line([offer("p", amount_off("2.00"))], currency="USD").applied == ()


def test_buy_two_get_one_frees_one_unit_in_every_three() -> None:
    rule = buy_get(2, 1)
    assert [rule.free_units(q) for q in (1, 2, 3, 5, 6, 7)] == [0, 0, 1, 1, 2, 2]
    priced = line([offer("p", rule)], base="4.00", quantity=7)
    assert priced.line_discount == Decimal("8.00")
    assert priced.line_total == Decimal("20.00")
    assert priced.unit_promotional == Decimal("4.00")


def test_buy_x_get_y_on_one_unit_applies_nothing() -> None:
    assert line([offer("p", buy_get(2, 1))], quantity=1).applied == ()


def test_best_exclusive_promotion_wins_over_weaker_exclusives() -> None:
    priced = line([offer("small", percent("10")), offer("big", percent("25"))])
    assert [a.promotion_id for a in priced.applied] == ["big"]
    assert priced.unit_promotional == Decimal("7.50")


def test_stackable_promotions_add_up_from_the_base_price() -> None:
    offers = [
        offer("a", percent("10"), stacking=Stacking.STACKABLE),
        offer("b", amount_off("1.00"), stacking=Stacking.STACKABLE),
    ]
    priced = line(offers)
    assert priced.unit_promotional == Decimal("8.00")
    assert {a.promotion_id: a.amount for a in priced.applied} == {
        "a": Decimal("1.00"),
        "b": Decimal("1.00"),
    }


def test_stackables_together_beat_a_weaker_exclusive() -> None:
    offers = [
        offer("excl", percent("15")),
        offer("a", percent("10"), stacking=Stacking.STACKABLE),
        offer("b", percent("10"), stacking=Stacking.STACKABLE),
    ]
    assert [a.promotion_id for a in line(offers).applied] == ["a", "b"]


def test_a_stronger_exclusive_beats_the_stackables() -> None:
    offers = [
        offer("excl", percent("30")),
        offer("a", percent("10"), stacking=Stacking.STACKABLE),
        offer("b", percent("10"), stacking=Stacking.STACKABLE),
    ]
    assert [a.promotion_id for a in line(offers).applied] == ["excl"]


def test_equal_exclusives_go_to_the_higher_priority() -> None:
    offers = [offer("low", percent("20"), priority=1), offer("high", percent("20"), priority=9)]
    assert [a.promotion_id for a in line(offers).applied] == ["high"]


def test_stacked_discounts_are_capped_at_the_base_price() -> None:
    offers = [
        offer("a", percent("70"), stacking=Stacking.STACKABLE),
        offer("b", percent("60"), stacking=Stacking.STACKABLE),
    ]
    priced = line(offers, quantity=2)
    assert priced.unit_promotional == 0
    assert priced.line_total == 0
    assert priced.line_discount == Decimal("20.00")


def test_stacked_buy_x_get_y_frees_units_at_the_discounted_price() -> None:
    offers = [
        offer("pct", percent("20"), stacking=Stacking.STACKABLE),
        offer("b2g1", buy_get(2, 1), stacking=Stacking.STACKABLE),
    ]
    priced = line(offers, quantity=3)
    # three units at 8.00, one of them free
    assert priced.line_total == Decimal("16.00")
    assert priced.unit_promotional == Decimal("8.00")


def test_promotions_outside_their_window_do_not_apply() -> None:
    later = Window(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    assert line([offer("p", percent("50"), window=later)]).applied == ()


def test_eligibility_by_sku_category_path_channel_and_segment() -> None:
    scoped = Eligibility(
        skus=frozenset({"SKU-9"}),
        categories=frozenset({"apparel"}),
        channels=frozenset({"store"}),
        segments=frozenset({"members"}),
    )
    p = [offer("p", percent("10"), eligibility=scoped)]
    assert line(p, channel="store", segment="members").applied != ()
    assert line(p, channel="store", segment="members", category="footwear").applied == ()
    assert line(p, channel="store", segment="members", sku="SKU-9", category=None).applied
    assert line(p, channel="web", segment="members").applied == ()
    assert line(p, channel="store", segment=None).applied == ()


def test_category_eligibility_does_not_match_a_mere_prefix() -> None:
    scoped = Eligibility(categories=frozenset({"home"}))
    assert not scoped.covers_product("x", "homeware")
    assert scoped.covers_product("x", "home/kitchen")


def test_tax_is_split_out_of_the_tax_inclusive_price() -> None:
    net, tax = split_tax(Decimal("119.00"), Decimal("0.19"))
    assert (net, tax) == (Decimal("100.00"), Decimal("19.00"))
    net, tax = split_tax(Decimal("9.99"), Decimal("0.07"))
    assert net + tax == Decimal("9.99")
    assert net == Decimal("9.34")


def test_line_tax_is_taken_from_the_discounted_total() -> None:
    priced = line([offer("p", percent("50"))], base="23.80", quantity=2)
    assert priced.line_total == Decimal("23.80")
    assert (priced.line_net, priced.line_tax) == (Decimal("20.00"), Decimal("3.80"))


def test_zero_tax_rate_leaves_net_equal_to_gross() -> None:
    assert line([], rate="0").line_net == Decimal("10.00")


@pytest.mark.parametrize("text", ["abc", "NaN", "Infinity", "1e12", "1.005", ""])
def test_amounts_must_be_finite_decimals_in_cents(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text)
