"""When a promotion window's opening or closing is due to be announced, and the scopes
(regions, chosen stores) a promotion applies in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domains.pricing.model import (
    Eligibility,
    Window,
    WindowTransition,
    due_transition,
    passed_transitions,
)

START = datetime(2026, 11, 28, tzinfo=UTC)
END = START + timedelta(days=2)
WINDOW = Window(START, END)
STARTED, ENDED = WindowTransition.STARTED, WindowTransition.ENDED


@pytest.mark.parametrize(
    ("at", "passed"),
    [
        (START - timedelta(microseconds=1), ()),
        (START, (STARTED,)),
        (END - timedelta(microseconds=1), (STARTED,)),
        (END, (STARTED, ENDED)),
    ],
)
def test_a_transition_has_passed_from_its_moment_on(
    at: datetime, passed: tuple[WindowTransition, ...]
) -> None:
    assert passed_transitions(WINDOW, at) == passed


@pytest.mark.parametrize(
    ("at", "announced", "due"),
    [
        (START - timedelta(seconds=1), set(), None),
        (START, set(), STARTED),
        (START, {STARTED}, None),
        (END, {STARTED}, ENDED),
        (END, {STARTED, ENDED}, None),
        (END, set(), ENDED),  # a window missed whole: its end only
    ],
)
def test_the_latest_transition_passed_is_due_until_announced(
    at: datetime, announced: set[WindowTransition], due: WindowTransition | None
) -> None:
    assert due_transition(WINDOW, at, announced) is due


SCOPED = Eligibility(
    channels=frozenset({"web", "app", "store"}),
    regions=frozenset({"north"}),
    locations=frozenset({"ST-1"}),
)


@pytest.mark.parametrize(
    ("channel", "region", "location", "covered"),
    [
        ("web", "north", None, True),  # web is not narrowed by the chosen stores
        ("web", "south", None, False),  # another region
        ("web", None, None, False),  # a region scope needs the sale's region
        ("store", "north", "ST-1", True),
        ("store", "north", "ST-2", False),  # a store not chosen
        ("store", "north", None, False),
    ],
)
def test_regions_narrow_every_channel_and_chosen_stores_the_store_channel(
    channel: str, region: str | None, location: str | None, covered: bool
) -> None:
    covers = SCOPED.covers("A-1", None, channel, None, region=region, location=location)
    assert covers is covered


def test_a_promotion_without_scopes_covers_every_region_and_store() -> None:
    assert Eligibility().covers("A-1", None, "store", None, region=None, location=None)
