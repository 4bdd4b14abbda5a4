"""The low-stock rule of a promotion, on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domains.pricing.model import (
    StockAction,
    low_stock_action,
    pause_still_applies,
    stock_can_matter,
)
from domains.pricing.service import build_terms

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def terms(threshold: int | None, auto_resume: bool = False):  # type: ignore[no-untyped-def]
    return build_terms(
        name="20% off",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=2),
        kind="PERCENT_OFF",
        percent="20",
        low_stock_threshold=threshold,
        auto_resume=auto_resume,
    )


@pytest.mark.parametrize(
    ("threshold", "auto_resume", "available", "paused", "action"),
    [
        (5, False, 4, False, StockAction.PAUSE),  # below the threshold
        (5, False, 5, False, None),  # at the threshold is enough
        (None, False, 0, False, None),  # no threshold: stock never pauses it
        (5, False, 4, True, None),  # already paused: nothing new
        (5, True, 5, True, StockAction.RESUME),  # recovered, and resumes on its own
        (5, False, 50, True, None),  # recovered, but someone must resume it
        (5, True, 4, True, None),  # still low
        (None, True, 0, True, StockAction.RESUME),  # the threshold was dropped since
    ],
)
def test_low_stock_action_pauses_below_the_threshold_and_resumes_only_when_configured(
    threshold: int | None,
    auto_resume: bool,
    available: int,
    paused: bool,
    action: StockAction | None,
) -> None:
    assert low_stock_action(terms(threshold, auto_resume), available, paused) is action


def test_stock_can_matter_only_below_a_threshold_or_for_a_promotion_that_resumes() -> None:
    assert stock_can_matter(terms(5), 4)
    assert not stock_can_matter(terms(5), 5)
    assert not stock_can_matter(terms(None), 0)
    assert stock_can_matter(terms(5, auto_resume=True), 50)  # it may be paused somewhere


@pytest.mark.parametrize(
    ("threshold", "available", "applies"),
    [
        (5, 4, True),  # still under the restored threshold
        (5, 5, False),  # the restored threshold is met by the units it paused at
        (3, 4, False),  # a lower threshold
        (None, 0, False),  # the restored terms have no threshold at all
    ],
)
def test_a_pause_still_applies_only_while_the_terms_in_force_ask_for_it(
    threshold: int | None, available: int, applies: bool
) -> None:
    assert pause_still_applies(terms(threshold), available) is applies
