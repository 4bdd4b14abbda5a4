"""Promotion windows, status derivation, and versions: publish and roll back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domains.pricing.errors import (
    InvalidDateTime,
    InvalidDiscount,
    InvalidPromotion,
    InvalidStatusTransition,
    InvalidWindow,
    NoPreviousVersion,
    UnknownChannel,
    UnsupportedCurrency,
)
from domains.pricing.model import (
    DiscountKind,
    DiscountRule,
    Eligibility,
    Promotion,
    PromotionStatus,
    PromotionTerms,
    Window,
)

START = datetime(2026, 11, 28, tzinfo=UTC)
END = datetime(2026, 11, 30, tzinfo=UTC)
BEFORE = START - timedelta(days=1)
DURING = START + timedelta(hours=12)
AFTER = END + timedelta(seconds=1)


def terms(percent: str = "20", name: str = "Weekend") -> PromotionTerms:
    return PromotionTerms(
        name=name,
        eligibility=Eligibility(categories=frozenset({"apparel"})),
        window=Window(START, END),
        rule=DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(percent)),
    )


def test_window_that_ends_before_it_starts_is_rejected() -> None:
    with pytest.raises(InvalidWindow) as error:
        Window(END, START)
    assert error.value.code == "INVALID_WINDOW"


def test_window_that_ends_when_it_starts_is_rejected() -> None:
    with pytest.raises(InvalidWindow):
        Window(START, START)


def test_window_includes_its_start_and_excludes_its_end() -> None:
    window = Window(START, END)
    assert window.contains(START)
    assert window.contains(END - timedelta(microseconds=1))
    assert not window.contains(END)
    assert not window.contains(BEFORE)


def test_window_takes_naive_datetimes_as_utc() -> None:
    window = Window(START.replace(tzinfo=None), END.replace(tzinfo=None))
    assert window.starts_at == START
    assert window.contains(DURING.replace(tzinfo=None))


@pytest.mark.parametrize("percent", ["0", "-5", "100.01", "250"])
def test_percent_off_outside_0_to_100_is_rejected(percent: str) -> None:
    with pytest.raises(InvalidDiscount):
        DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(percent))


def test_percent_off_of_exactly_100_is_allowed() -> None:
    assert DiscountRule(DiscountKind.PERCENT_OFF, percent=Decimal(100)).percent == 100


@pytest.mark.parametrize(("buy", "get"), [(None, 1), (2, None), (0, 1), (2, 0), (-1, 1), (2000, 1)])
def test_buy_x_get_y_needs_positive_quantities(buy: int | None, get: int | None) -> None:
    with pytest.raises(InvalidDiscount):
        DiscountRule(DiscountKind.BUY_X_GET_Y, buy=buy, get=get)


def test_amount_rules_need_an_amount_in_a_currency_code() -> None:
    with pytest.raises(InvalidDiscount):
        DiscountRule(DiscountKind.AMOUNT_OFF)
    with pytest.raises(UnsupportedCurrency):
        DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("pounds", Decimal(5)),))
    with pytest.raises(InvalidDiscount):
        DiscountRule(DiscountKind.AMOUNT_OFF, amounts=(("EUR", Decimal(0)),))
    with pytest.raises(InvalidDiscount):
        DiscountRule(DiscountKind.FIXED_PRICE, amounts=(("EUR", Decimal("-1")),))


def test_eligibility_rejects_malformed_channels() -> None:
    with pytest.raises(UnknownChannel):
        Eligibility(channels=frozenset({"Fax Machine"}))


def test_terms_need_a_name() -> None:
    with pytest.raises(InvalidPromotion):
        terms(name="  ")


def test_new_promotion_is_a_draft_with_version_one() -> None:
    promotion = Promotion.create("p1", terms(), BEFORE)
    assert promotion.status(DURING) is PromotionStatus.DRAFT
    assert promotion.current_version == 1
    assert not promotion.in_force(DURING)


def test_activated_promotion_status_follows_its_window() -> None:
    promotion = Promotion.create("p1", terms(), BEFORE).activate(BEFORE)
    assert promotion.status(BEFORE) is PromotionStatus.SCHEDULED
    assert promotion.status(DURING) is PromotionStatus.ACTIVE
    assert promotion.status(END) is PromotionStatus.ENDED
    assert promotion.in_force(DURING)
    assert not promotion.in_force(BEFORE)


def test_paused_promotion_is_not_in_force_and_can_be_reactivated() -> None:
    promotion = Promotion.create("p1", terms(), BEFORE).activate(BEFORE).pause(DURING)
    assert promotion.status(DURING) is PromotionStatus.PAUSED
    assert not promotion.in_force(DURING)
    assert promotion.activate(DURING).status(DURING) is PromotionStatus.ACTIVE


def test_activating_an_active_promotion_is_an_invalid_transition() -> None:
    promotion = Promotion.create("p1", terms(), BEFORE).activate(BEFORE)
    with pytest.raises(InvalidStatusTransition) as error:
        promotion.activate(DURING)
    assert error.value.code == "INVALID_STATUS_TRANSITION"


def test_activating_after_the_window_has_ended_is_invalid() -> None:
    with pytest.raises(InvalidStatusTransition):
        Promotion.create("p1", terms(), BEFORE).activate(AFTER)


def test_pausing_a_draft_or_an_ended_promotion_is_invalid() -> None:
    draft = Promotion.create("p1", terms(), BEFORE)
    with pytest.raises(InvalidStatusTransition):
        draft.pause(DURING)
    with pytest.raises(InvalidStatusTransition):
        draft.activate(BEFORE).pause(AFTER)


def test_publishing_adds_a_version_and_keeps_the_old_one_unchanged() -> None:
    first = Promotion.create("p1", terms("20"), BEFORE)
    second = first.publish(terms("30"), BEFORE)
    assert second.current_version == 2
    assert second.terms.rule.percent == 30
    assert [v.terms.rule.percent for v in second.versions] == [20, 30]
    assert first.versions[0] is second.versions[0]


def test_rollback_restores_the_previous_terms_and_reads_rolled_back() -> None:
    promotion = (
        Promotion.create("p1", terms("20"), BEFORE).publish(terms("30"), BEFORE).activate(BEFORE)
    )
    rolled = promotion.rollback(DURING)
    assert rolled.current_version == 1
    assert rolled.terms.rule.percent == 20
    assert rolled.status(DURING) is PromotionStatus.ROLLED_BACK
    assert rolled.in_force(DURING)
    assert len(rolled.versions) == 2


def test_rollback_twice_walks_back_one_version_at_a_time() -> None:
    promotion = (
        Promotion.create("p1", terms("10"), BEFORE)
        .publish(terms("20"), BEFORE)
        .publish(terms("30"), BEFORE)
    )
    assert promotion.rollback(DURING).current_version == 2
    assert promotion.rollback(DURING).rollback(DURING).current_version == 1


def test_rollback_of_the_first_version_is_refused() -> None:
    with pytest.raises(NoPreviousVersion) as error:
        Promotion.create("p1", terms(), BEFORE).rollback(DURING)
    assert error.value.code == "NO_PREVIOUS_VERSION"


def test_publishing_after_a_rollback_numbers_past_every_version() -> None:
    promotion = Promotion.create("p1", terms("10"), BEFORE).publish(terms("20"), BEFORE)
    republished = promotion.rollback(DURING).publish(terms("40"), DURING)
    assert republished.current_version == 3
    assert not republished.rolled_back
    assert republished.activate(DURING).status(DURING) is PromotionStatus.ACTIVE


def test_window_out_of_the_calendar_in_utc_is_rejected() -> None:
    east = timezone(timedelta(hours=5))
    with pytest.raises(InvalidDateTime):
        Window(datetime(1, 1, 1, tzinfo=east), END)
