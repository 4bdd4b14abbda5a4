"""Base prices over time: each import adds effective-dated rows to a list's history, a
scheduled price takes effect at its moment (announced once), and a change larger than the
guard allows waits for an operator."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domains.pricing import imports
from domains.pricing.errors import HeldChangeDecided, HeldChangeNotFound, PriceNotFound
from domains.pricing.imports import HELD_FOR_APPROVAL, PriceRow, SkuFacts
from domains.pricing.model import HeldStatus, needs_approval
from kernel.event_types import PriceChanged, PriceScheduled
from tests.unit.pricing.test_service import (
    NOW,
    VAT,
    FakeUnitOfWork,
    priced_skus,
    total_of,
)

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def events_of(uow: FakeUnitOfWork, event_type: str, since: int = 0) -> list[str]:
    return [e.partition_key for e in uow.events[since:] if e.type == event_type]


async def test_a_scheduled_price_leaves_the_price_in_effect_alone_until_its_moment() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    before = len(uow.events)

    report = await imports.import_price_list(
        lambda: uow, "EUR", [PriceRow("A-1", "EUR", "12.00")], effective_from=NOW + DAY
    )

    assert report.changed == 1
    assert await total_of(uow, at=NOW) == Decimal("10.00")
    assert await total_of(uow, at=NOW + DAY - HOUR) == Decimal("10.00")
    assert await total_of(uow, at=NOW + DAY) == Decimal("12.00")
    assert await total_of(uow, at=NOW + 400 * DAY) == Decimal("12.00")
    scheduled = [e.payload_as(PriceScheduled) for e in uow.events[before:]]
    assert scheduled == [
        PriceScheduled(
            sku="A-1",
            currency="EUR",
            channel="*",
            amount=Decimal("12.00"),
            effective_from=NOW + DAY,
        )
    ]


async def test_every_price_stays_in_the_history_and_a_past_moment_is_answered_by_it() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    uow.clock.set(NOW + DAY)
    await imports.import_price_list(lambda: uow, "EUR", [PriceRow("A-1", "EUR", "11.00")])
    uow.clock.set(NOW + 2 * DAY)
    await imports.import_price_list(lambda: uow, "EUR", [PriceRow("A-1", "EUR", "12.00")])

    assert [await total_of(uow, at=NOW + n * DAY) for n in (0, 1, 2)] == [
        Decimal("10.00"),
        Decimal("11.00"),
        Decimal("12.00"),
    ]
    with pytest.raises(PriceNotFound):
        await total_of(uow, at=NOW - HOUR)  # before its first price, A-1 had none


async def test_a_moment_already_past_takes_effect_now_so_the_history_is_never_rewritten() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    uow.clock.set(NOW + 2 * DAY)

    await imports.import_price_list(
        lambda: uow, "EUR", [PriceRow("A-1", "EUR", "11.00", effective_from=NOW + DAY)]
    )

    assert await total_of(uow, at=NOW + DAY) == Decimal("10.00"), "what was charged then"
    assert await total_of(uow, at=NOW + 2 * DAY) == Decimal("11.00")
    assert events_of(uow, "PriceChanged")[-1] == "A-1"


async def test_a_first_price_may_be_dated_back_as_it_rewrites_nothing() -> None:
    uow = FakeUnitOfWork()
    await imports.register_skus(uow, [SkuFacts("A-1", "apparel/tops", VAT)])

    await imports.import_price_list(
        lambda: uow, "EUR", [PriceRow("A-1", "EUR", "10.00")], effective_from=NOW - 30 * DAY
    )

    assert await total_of(uow, at=NOW - 30 * DAY) == Decimal("10.00")


async def test_a_scheduled_price_is_announced_once_when_its_moment_comes() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    await imports.import_price_list(
        lambda: uow, "EUR", [PriceRow("A-1", "EUR", "12.00")], effective_from=NOW + DAY
    )
    before = len(uow.events)

    assert await imports.announce_due_prices(lambda: uow) == 0
    uow.clock.set(NOW + DAY)
    assert await imports.announce_due_prices(lambda: uow) == 1
    assert await imports.announce_due_prices(lambda: uow) == 0

    (announced,) = uow.events[before:]
    assert announced.payload_as(PriceChanged) == PriceChanged(
        sku="A-1",
        currency="EUR",
        channel="*",
        old_amount=Decimal("10.00"),
        new_amount=Decimal("12.00"),
    )
    assert announced.occurred_at == NOW + DAY


async def test_a_change_beyond_the_guard_is_held_reported_and_not_applied() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00", "B-1": "10.00", "C-1": "10.00"})
    before = len(uow.events)
    rows = [
        PriceRow("A-1", "EUR", "15.00"),  # +50%: the most an import applies alone
        PriceRow("B-1", "EUR", "15.01"),  # more: held
        PriceRow("C-1", "EUR", "4.99"),  # -50.1%: held
    ]

    report = await imports.import_price_list(lambda: uow, "EUR", rows)

    assert (report.changed, report.unchanged, report.held) == (1, 0, 2)
    assert [(r.index, r.sku, r.code) for r in report.rejected] == [
        (1, "B-1", HELD_FOR_APPROVAL),
        (2, "C-1", HELD_FOR_APPROVAL),
    ]
    assert "held as" in report.rejected[0].reason
    assert await total_of(uow, "B-1") == Decimal("10.00")
    assert await total_of(uow, "C-1") == Decimal("10.00")
    assert events_of(uow, "PriceChanged", before) == ["A-1"]
    held = {c.sku: c for c in uow.committed.held.values()}
    assert (held["B-1"].old_amount, held["B-1"].new_amount) == (Decimal("10.00"), Decimal("15.01"))
    assert held["B-1"].status is HeldStatus.HELD


async def test_importing_the_same_held_change_again_holds_it_once() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    row = [PriceRow("A-1", "EUR", "30.00")]

    first = await imports.import_price_list(lambda: uow, "EUR", row)
    again = await imports.import_price_list(lambda: uow, "EUR", row)

    assert first.rejected[0].held_id == again.rejected[0].held_id
    assert len(uow.committed.held) == 1


async def test_the_guard_is_the_retailers_to_set() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})

    report = await imports.import_price_list(
        lambda: uow, "EUR", [PriceRow("A-1", "EUR", "30.00")], max_change_percent=Decimal(250)
    )

    assert (report.changed, report.held) == (1, 0)
    assert await total_of(uow) == Decimal("30.00")


async def test_an_approved_change_is_applied_once() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    report = await imports.import_price_list(lambda: uow, "EUR", [PriceRow("A-1", "EUR", "30.00")])
    held_id = report.rejected[0].held_id
    assert held_id is not None
    uow.clock.set(NOW + HOUR)
    before = len(uow.events)

    (approved,) = await imports.approve_held_changes(uow, [held_id])
    (again,) = await imports.approve_held_changes(uow, [held_id])

    assert approved.status is again.status is HeldStatus.APPROVED
    assert await total_of(uow, at=NOW + HOUR) == Decimal("30.00")
    assert await total_of(uow, at=NOW) == Decimal("10.00"), "in effect from its approval"
    assert events_of(uow, "PriceChanged", before) == ["A-1"]
    with pytest.raises(HeldChangeDecided):
        await imports.discard_held_changes(uow, [held_id])


async def test_a_discarded_change_is_never_applied() -> None:
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    report = await imports.import_price_list(lambda: uow, "EUR", [PriceRow("A-1", "EUR", "1.00")])
    held_id = report.rejected[0].held_id
    assert held_id is not None
    before = len(uow.events)

    (discarded,) = await imports.discard_held_changes(uow, [held_id])

    assert discarded.status is HeldStatus.DISCARDED
    assert await total_of(uow) == Decimal("10.00")
    assert uow.events[before:] == []
    with pytest.raises(HeldChangeDecided):
        await imports.approve_held_changes(uow, [held_id])
    with pytest.raises(HeldChangeNotFound):
        await imports.approve_held_changes(uow, ["nobody-held-this"])


@pytest.mark.parametrize(
    ("old", "new", "held"),
    [
        (None, "99999.00", False),  # a first price has nothing to compare with
        ("10.00", "10.00", False),
        ("10.00", "15.00", False),
        ("10.00", "5.00", False),
        ("10.00", "15.01", True),
        ("10.00", "4.99", True),
        ("0.00", "0.01", True),  # any change from nothing is too large to guess at
        ("10.00", "0.00", True),
    ],
)
def test_the_guard_holds_changes_of_more_than_the_share_allowed(
    old: str | None, new: str, held: bool
) -> None:
    before = None if old is None else Decimal(old)
    assert needs_approval(before, Decimal(new), Decimal(50)) is held


async def test_a_first_channel_price_dated_back_takes_effect_now_as_the_channel_paid_the_list() -> (
    None
):
    uow = FakeUnitOfWork()
    await priced_skus(uow, {"A-1": "10.00"})
    uow.clock.set(NOW + DAY)

    await imports.import_price_list(
        lambda: uow,
        "EUR",
        [PriceRow("A-1", "EUR", "9.00", effective_from=NOW)],
        channel="web",
    )

    assert await total_of(uow, channel="web", at=NOW) == Decimal("10.00"), "what web charged"
    assert await total_of(uow, channel="web", at=NOW + DAY) == Decimal("9.00")
