"""Inventory's use cases against an in-memory unit of work: what they store, what they
announce, what they refuse, and that a refused request leaves nothing behind."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Self

import pytest

from domains.inventory import service
from domains.inventory.errors import (
    DuplicateMovement,
    DuplicateReservation,
    InventoryError,
)
from domains.inventory.handlers import OrderStockHandler
from domains.inventory.model import (
    ChannelRule,
    ErpMove,
    Location,
    LocationKind,
    Movement,
    MovementOrigin,
    MovementType,
    Place,
    Reservation,
    ReservationStatus,
    StockLevel,
    reserved_quantity,
)
from domains.inventory.picture import StockPicture
from domains.inventory.service import ReservationRequest
from kernel.clock import SettableClock
from kernel.event_types import (
    AvailabilityChanged,
    ChannelPolicyChanged,
    RegionalAvailabilityChanged,
    ReservationConsumed,
    ReservationCreated,
    ReservationExpired,
    ReservationReleased,
    StockChanged,
)
from kernel.events import Event
from tests.fakes import StagedUnitOfWork
from tests.support import EVENT_TIME, TEST_NOW

Pair = tuple[str, str]
SKU = "SHIRT-M"
DC = "DC-NORTH"


@dataclass
class FakeStock:
    """The stock tables in memory; ``reserved`` is summed from live reservations, as the
    real repository does."""

    locations: dict[str, Location] = field(default_factory=dict)
    policies: dict[str, bool] = field(default_factory=dict)
    levels: dict[Pair, StockLevel] = field(default_factory=dict)
    reservations: dict[str, Reservation] = field(default_factory=dict)
    movements: dict[tuple[str, int], Movement] = field(default_factory=dict)
    handled: set[tuple[str, str]] = field(default_factory=set)
    # The ERP moves owed per movement line, as the postings queue holds them.
    owed: dict[tuple[str, int], list[ErpMove]] = field(default_factory=dict)

    def copy(self) -> Self:
        twin = copy.copy(self)
        twin.locations = dict(self.locations)
        twin.policies = dict(self.policies)
        twin.levels = dict(self.levels)
        twin.reservations = dict(self.reservations)
        twin.movements = dict(self.movements)
        twin.handled = set(self.handled)
        twin.owed = dict(self.owed)
        return twin

    def with_reserved(self, level: StockLevel, now: datetime) -> StockLevel:
        held = [
            r
            for r in self.reservations.values()
            if (r.sku, r.location_id) == (level.sku, level.location_id)
        ]
        return replace(level, reserved=reserved_quantity(held, now))

    async def save_location(self, location: Location) -> None:
        self.locations[location.id] = location

    async def save_channel_policy(self, channel: str, *, counts_incoming: bool) -> None:
        self.policies[channel] = counts_incoming

    async def existing_location_ids(self, ids: Iterable[str]) -> set[str]:
        return {i for i in ids if i in self.locations}

    async def lock_stock(self, pairs: Collection[Pair]) -> None:
        return None

    async def lock_free_stock(self, pairs: Collection[Pair]) -> set[Pair]:
        return set(pairs)

    async def load_picture(self, skus: Collection[str], now: datetime) -> StockPicture:
        levels = {
            pair: self.with_reserved(level, now)
            for pair, level in sorted(self.levels.items())
            if pair[0] in skus
        }
        at = {location_id for _, location_id in levels}
        return StockPicture(
            levels,
            {i: self.locations[i].region for i in at if i in self.locations},
            {i: self.locations[i].rules for i in at if i in self.locations},
            self.policies,
        )

    async def ensure_stock_rows(self, pairs: Collection[Pair], now: datetime) -> None:
        for sku, location_id in pairs:
            self.levels.setdefault((sku, location_id), StockLevel(sku, location_id))

    async def save_levels(self, levels: Iterable[StockLevel], now: datetime) -> None:
        for level in levels:
            if (level.sku, level.location_id) in self.levels:
                self.levels[(level.sku, level.location_id)] = replace(level, reserved=0)

    async def sku_is_stocked(self, sku: str) -> bool:
        return any(stocked == sku for stocked, _ in self.levels)

    async def load_reservations(
        self,
        *,
        ids: Collection[str] | None = None,
        idempotency_keys: Collection[str] | None = None,
        for_update: bool = False,
    ) -> list[Reservation]:
        return [
            r
            for r in self.reservations.values()
            if (ids is None or r.id in ids)
            and (idempotency_keys is None or r.idempotency_key in idempotency_keys)
        ]

    async def insert_reservations(self, reservations: Sequence[Reservation], now: datetime) -> None:
        taken = {r.idempotency_key for r in self.reservations.values()}
        if any(r.idempotency_key in taken for r in reservations):
            raise DuplicateReservation([r.idempotency_key for r in reservations])
        self.reservations.update({r.id: r for r in reservations})

    async def set_reservation_status(
        self, ids: Collection[str], status: ReservationStatus, now: datetime
    ) -> None:
        for id in ids:
            self.reservations[id] = replace(self.reservations[id], status=status)

    async def due_reservations(self, now: datetime, limit: int) -> list[Reservation]:
        due = [
            r
            for r in self.reservations.values()
            if r.status is ReservationStatus.ACTIVE and r.expires_at <= now
        ]
        return sorted(due, key=lambda r: r.expires_at)[:limit]

    async def applied_lines(
        self, lines: Collection[tuple[str, int]]
    ) -> dict[tuple[str, int], Movement]:
        return {key: self.movements[key] for key in lines if key in self.movements}

    async def record_movements(self, applied: Sequence[Movement], now: datetime) -> None:
        if any(m.line_key in self.movements for m in applied):
            raise DuplicateMovement([m.line_key for m in applied])
        self.movements.update((m.line_key, m) for m in applied)

    async def owe_erp(
        self,
        owed: Sequence[tuple[Movement, Sequence[ErpMove]]],
        now: datetime,
        *,
        correlation_id: str | None,
        traceparent: str | None,
    ) -> None:
        self.owed.update({m.line_key: list(moves) for m, moves in owed if moves})

    async def mark_event_handled(self, consumer: str, event_id: str, now: datetime) -> bool:
        first = (consumer, event_id) not in self.handled
        self.handled.add((consumer, event_id))
        return first


class FakeUnitOfWork(StagedUnitOfWork[FakeStock]):
    def __init__(self, committed: FakeStock | None = None) -> None:
        super().__init__(committed or FakeStock(), SettableClock(TEST_NOW))

    @property
    def stock(self) -> FakeStock:
        return self.staged

    async def insert_reservations(self, reservations: Sequence[Reservation], now: datetime) -> None:
        await self.stock.insert_reservations(reservations, now)

    def level(self, sku: str = SKU, location_id: str = DC) -> StockLevel:
        """The committed level, with the reservations live now summed in."""
        return self.committed.with_reserved(
            self.committed.levels[(sku, location_id)], self.clock.now()
        )

    def events_since(self, mark: int) -> list[Event]:
        return self.events[mark:]


async def stocked(
    uow: FakeUnitOfWork, *, sku: str = SKU, location_id: str = DC, **quantities: int
) -> None:
    """A location serving web (all of it) and store pickups (half, at most 4 units),
    holding ``quantities`` of ``sku``."""
    if location_id not in uow.committed.locations:
        await service.save_location(
            uow,
            id=location_id,
            name=f"{location_id} warehouse",
            kind=LocationKind.DC,
            region="north",
            rules=[ChannelRule("web"), ChannelRule("store", share_percent=50, cap=4)],
        )
    await service.import_stock_levels(uow, [StockLevel(sku, location_id, **quantities)])


async def refused(code: str, call: Any) -> InventoryError:
    with pytest.raises(InventoryError) as raised:
        await call
    assert raised.value.code == code
    return raised.value


def of(events: Iterable[Event], contract: Any) -> list[Any]:
    return [event.payload_as(contract) for event in events if event.type == contract.TYPE]


def reserve(uow: FakeUnitOfWork, quantity: int, key: str = "cart-1", **more: Any) -> Any:
    return service.reserve_stock(
        uow, sku=SKU, location_id=DC, quantity=quantity, idempotency_key=key, **more
    )


# Locations and channel policies


async def test_a_location_is_saved_with_the_channels_it_serves() -> None:
    uow = FakeUnitOfWork()
    location = await service.save_location(
        uow, id=DC, name="North", kind=LocationKind.DC, region="north", rules=[ChannelRule("web")]
    )
    assert uow.committed.locations == {DC: location}
    assert location.channels == ("web",)
    assert uow.commits == 1


async def test_a_location_serving_a_channel_twice_is_refused() -> None:
    uow = FakeUnitOfWork()
    await refused(
        "DUPLICATE_CHANNEL",
        service.save_location(
            uow,
            id=DC,
            name="North",
            kind=LocationKind.DC,
            region="north",
            rules=[ChannelRule("web"), ChannelRule("web", share_percent=10)],
        ),
    )
    assert uow.committed.locations == {}
    assert uow.commits == 0


async def test_a_channel_policy_change_is_stored_and_announced() -> None:
    uow = FakeUnitOfWork()
    await service.set_channel_policy(uow, "web", counts_incoming=True)
    assert uow.committed.policies == {"web": True}
    (changed,) = of(uow.events, ChannelPolicyChanged)
    assert (changed.channel, changed.counts_incoming) == ("web", True)
    assert uow.events[0].partition_key == "web"


# Stock levels


async def test_importing_stock_levels_sets_on_hand_and_records_stock_changed() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10, safety_stock=2)

    assert uow.level() == StockLevel(SKU, DC, on_hand=10, safety_stock=2)
    (changed,) = of(uow.events, StockChanged)
    assert (changed.sku, changed.location_id) == (SKU, DC)
    assert (changed.on_hand, changed.safety_stock, changed.available) == (10, 2, 8)
    availability = {a.channel: a.available for a in of(uow.events, AvailabilityChanged)}
    assert availability == {"web": 8, "store": 4}
    (regional,) = of(uow.events, RegionalAvailabilityChanged)
    assert (regional.region, regional.available) == ("north", 8)
    assert uow.commits == 2  # the location, then the levels


async def test_an_imported_snapshot_keeps_the_units_that_live_reservations_hold() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await reserve(uow, 3)
    await service.import_stock_levels(uow, [StockLevel(SKU, DC, on_hand=12, reserved=99)])
    assert (uow.level().on_hand, uow.level().reserved, uow.level().available) == (12, 3, 9)
    assert of(uow.events, StockChanged)[-1].reserved == 3


async def test_stock_at_an_unknown_location_is_refused_and_nothing_is_imported() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    before = (uow.commits, len(uow.events))
    error = await refused(
        "UNKNOWN_LOCATION",
        service.import_stock_levels(
            uow, [StockLevel(SKU, DC, on_hand=1), StockLevel(SKU, "NOWHERE", on_hand=5)]
        ),
    )
    assert error.details == {"locationId": "NOWHERE"}
    assert uow.level().on_hand == 10
    assert (uow.commits, len(uow.events)) == before


async def test_a_negative_quantity_in_a_snapshot_is_refused() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await refused(
        "NEGATIVE_QUANTITY",
        service.import_stock_levels(uow, [StockLevel(SKU, DC, on_hand=-1)]),
    )
    assert uow.level().on_hand == 10


# Reservations


async def test_reserving_within_available_stock_creates_a_reservation() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    mark = len(uow.events)

    reservation = await reserve(uow, 3, order_reference="order-7")

    assert reservation.status is ReservationStatus.ACTIVE
    assert reservation.expires_at == TEST_NOW + timedelta(seconds=service.DEFAULT_TTL_SECONDS)
    assert uow.committed.reservations == {reservation.id: reservation}
    assert (uow.level().reserved, uow.level().available) == (3, 7)
    new = uow.events_since(mark)
    (created,) = of(new, ReservationCreated)
    assert (created.id, created.sku, created.location_id) == (reservation.id, SKU, DC)
    assert (created.quantity, created.status, created.order_reference) == (3, "ACTIVE", "order-7")
    assert created.expires_at == reservation.expires_at
    (changed,) = of(new, StockChanged)
    assert (changed.reserved, changed.available) == (3, 7)
    assert {a.channel: a.available for a in of(new, AvailabilityChanged)} == {
        "web": 7,
        "store": 3,
    }
    assert {e.partition_key for e in new if e.type == "ReservationCreated"} == {f"{SKU}@{DC}"}


async def test_reserving_more_than_is_sellable_is_refused_and_commits_nothing() -> None:
    uow = FakeUnitOfWork()
    # Sellable: 20 on hand - 5 committed - 3 reserved - 2 safety stock - 4 quarantined = 6;
    # the 7 incoming units do not count toward a reservation.
    await stocked(uow, on_hand=20, committed=5, safety_stock=2, quarantined=4, incoming=7)
    await reserve(uow, 3, key="cart-0")
    assert uow.level().available == 6
    before = (uow.commits, len(uow.events), dict(uow.committed.reservations))

    error = await refused("INSUFFICIENT_STOCK", reserve(uow, 7))

    assert error.details == {"sku": SKU, "locationId": DC, "requested": 7, "available": 6}
    assert (uow.commits, len(uow.events), uow.committed.reservations) == before
    last = await reserve(uow, 6)
    assert last.quantity == 6
    assert uow.level().available == 0


async def test_incoming_units_count_only_toward_a_channel_whose_policy_counts_them() -> None:
    uow = FakeUnitOfWork()
    await service.set_channel_policy(uow, "web", counts_incoming=True)
    await stocked(uow, on_hand=2, incoming=5)

    availability = {a.channel: a.available for a in of(uow.events, AvailabilityChanged)}
    assert availability == {"web": 7, "store": 1}
    error = await refused("INSUFFICIENT_STOCK", reserve(uow, 3))
    assert error.details["available"] == 2


async def test_all_lines_of_an_order_are_reserved_or_none() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=5)
    await stocked(uow, sku="SOCKS", on_hand=1)
    lines = [
        ReservationRequest(SKU, DC, 2, "order-1:1", "order-1"),
        ReservationRequest("SOCKS", DC, 2, "order-1:2", "order-1"),
    ]
    commits = uow.commits

    await refused("INSUFFICIENT_STOCK", service.reserve_stock_lines(uow, lines))
    assert uow.committed.reservations == {}
    assert uow.commits == commits

    lines[1] = replace(lines[1], quantity=1)
    reserved = await service.reserve_stock_lines(uow, lines)
    assert [(r.idempotency_key, r.sku, r.quantity) for r in reserved] == [
        ("order-1:1", SKU, 2),
        ("order-1:2", "SOCKS", 1),
    ]
    assert uow.commits == commits + 1
    assert [r.quantity for r in of(uow.events, ReservationCreated)] == [2, 1]


async def test_the_lines_of_one_sku_are_counted_together() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=5)
    lines = [
        ReservationRequest(SKU, DC, 3, "order-1:1"),
        ReservationRequest(SKU, DC, 3, "order-1:2"),
    ]
    error = await refused("INSUFFICIENT_STOCK", service.reserve_stock_lines(uow, lines))
    assert (error.details["requested"], error.details["available"]) == (6, 5)


async def test_lines_sharing_an_idempotency_key_are_refused() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=5)
    lines = [ReservationRequest(SKU, DC, 1, "same"), ReservationRequest(SKU, DC, 1, "same")]
    await refused("DUPLICATE_IDEMPOTENCY_KEY", service.reserve_stock_lines(uow, lines))


async def test_a_repeated_key_returns_the_first_reservation_and_records_nothing() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    first = await reserve(uow, 3)
    before = (uow.commits, len(uow.events))

    again = await reserve(uow, 3)

    assert again == first
    assert (uow.commits, len(uow.events)) == before
    assert uow.level().reserved == 3


async def test_a_key_reused_for_a_different_request_is_refused() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await reserve(uow, 3)
    error = await refused("IDEMPOTENCY_KEY_REUSED", reserve(uow, 4))
    assert error.details == {"idempotencyKey": "cart-1"}
    assert uow.level().reserved == 3


async def test_a_repeat_of_a_partly_reserved_order_reserves_only_the_missing_lines() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    first = await reserve(uow, 2, key="order-1:1")
    lines = [
        ReservationRequest(SKU, DC, 2, "order-1:1"),
        ReservationRequest(SKU, DC, 5, "order-1:2"),
    ]

    reserved = await service.reserve_stock_lines(uow, lines)

    assert reserved[0] == first
    assert reserved[1].quantity == 5
    created = of(uow.events, ReservationCreated)
    assert [(r.id, r.quantity) for r in created] == [(first.id, 2), (reserved[1].id, 5)]
    assert uow.level().reserved == 7


class RacingStock(FakeStock):
    """A store where another request commits the same reservations, or applies the same
    movement lines, just before this one writes them (once), so the unique key refuses
    this one's write."""

    rival: FakeUnitOfWork
    raced: list[str]  # shared by every copy of the store

    async def insert_reservations(self, reservations: Sequence[Reservation], now: datetime) -> None:
        if not self.raced:
            self.raced.append("reservations")
            for r in reservations:
                winner = replace(r, id=f"rival-{r.idempotency_key}")
                self.rival.committed.reservations[winner.id] = winner
            raise DuplicateReservation([r.idempotency_key for r in reservations])
        await super().insert_reservations(reservations, now)

    async def record_movements(self, applied: Sequence[Movement], now: datetime) -> None:
        if not self.raced:
            self.raced.append("movements")
            self.rival.committed.movements.update((m.line_key, m) for m in applied)
            self.rival.committed.levels = dict(self.levels)
            raise DuplicateMovement([m.line_key for m in applied])
        await super().record_movements(applied, now)


def racing(uow: FakeUnitOfWork) -> RacingStock:
    stock = RacingStock(**vars(uow.committed))
    stock.rival = uow
    stock.raced = []
    uow.committed = stock
    return stock


async def test_a_repeat_that_raced_the_first_request_returns_the_first_reservation() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    stock = racing(uow)
    before = (uow.commits, len(uow.events))

    reservation = await reserve(uow, 3)

    assert reservation.id == "rival-cart-1"
    assert (uow.commits, len(uow.events)) == before  # the rival recorded its own events
    assert list(uow.committed.reservations) == ["rival-cart-1"]
    assert stock.raced == ["reservations"]


class HeldStock(FakeStock):
    """A store whose stock rows another transaction holds: locking them without waiting
    gets none of them; ``locks`` lists the lock calls (shared by every copy)."""

    locks: list[str]

    async def lock_free_stock(self, pairs: Collection[Pair]) -> set[Pair]:
        self.locks.append("without waiting")
        return set()

    async def lock_stock(self, pairs: Collection[Pair]) -> None:
        self.locks.append("waiting")


def held(uow: FakeUnitOfWork) -> HeldStock:
    stock = HeldStock(**vars(uow.committed))
    stock.locks = []
    uow.committed = stock
    return stock


async def test_a_request_the_committed_stock_refuses_is_refused_without_waiting() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=5)
    await reserve(uow, 3, key="cart-0")
    stock = held(uow)

    error = await refused("INSUFFICIENT_STOCK", reserve(uow, 4))

    assert error.details == {"sku": SKU, "locationId": DC, "requested": 4, "available": 2}
    assert stock.locks == ["without waiting"]
    assert uow.level().reserved == 3


async def test_a_whole_repeat_is_answered_without_waiting_though_the_stock_is_short() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=3)
    first = await reserve(uow, 3)
    stock = held(uow)
    before = (uow.commits, len(uow.events))

    assert await reserve(uow, 3) == first
    assert stock.locks == ["without waiting"]
    assert (uow.commits, len(uow.events)) == before
    await refused("IDEMPOTENCY_KEY_REUSED", reserve(uow, 2))


async def test_a_request_the_committed_stock_can_hold_waits_for_the_locks() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=5)
    stock = held(uow)

    reservation = await reserve(uow, 5)

    assert reservation.quantity == 5
    assert stock.locks == ["without waiting", "waiting"]
    assert uow.level().available == 0


async def test_releasing_returns_the_units_and_releasing_twice_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    reservation = await reserve(uow, 4)
    mark = len(uow.events)

    released = await service.release_reservation(uow, id=reservation.id)

    assert released.status is ReservationStatus.RELEASED
    assert uow.committed.reservations[reservation.id].status is ReservationStatus.RELEASED
    assert (uow.level().reserved, uow.level().available) == (0, 10)
    new = uow.events_since(mark)
    (event,) = of(new, ReservationReleased)
    assert (event.id, event.status, event.quantity) == (reservation.id, "RELEASED", 4)
    assert of(new, StockChanged)[0].available == 10

    before = (uow.commits, len(uow.events))
    again = await service.release_reservation(uow, idempotency_key="cart-1")
    assert again.status is ReservationStatus.RELEASED
    assert (uow.commits, len(uow.events)) == before


async def test_releasing_an_unknown_reservation_is_refused() -> None:
    uow = FakeUnitOfWork()
    await refused("RESERVATION_NOT_FOUND", service.release_reservation(uow, id="no-such-id"))
    await refused("BAD_USER_INPUT", service.release_reservation(uow, id="a", idempotency_key="b"))


async def test_consuming_moves_the_units_from_reserved_to_committed() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10, committed=1)
    reservation = await reserve(uow, 4)
    mark = len(uow.events)

    consumed = await service.consume_reservation(uow, id=reservation.id)

    assert consumed.status is ReservationStatus.CONSUMED
    level = uow.level()
    assert (level.committed, level.reserved, level.available) == (5, 0, 5)
    new = uow.events_since(mark)
    assert of(new, ReservationConsumed)[0].status == "CONSUMED"
    assert (of(new, StockChanged)[0].committed, of(new, StockChanged)[0].reserved) == (5, 0)

    before = (uow.commits, len(uow.events))
    await service.consume_reservation(uow, id=reservation.id)
    assert uow.level().committed == 5
    assert (uow.commits, len(uow.events)) == before


async def test_a_consumed_reservation_cannot_be_released_nor_an_expired_one_consumed() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    consumed = await reserve(uow, 1, key="cart-1")
    await service.consume_reservation(uow, id=consumed.id)
    await refused("INVALID_TRANSITION", service.release_reservation(uow, id=consumed.id))

    lapsing = await reserve(uow, 1, key="cart-2", ttl_seconds=60)
    uow.clock.advance(timedelta(seconds=61))
    await refused("INVALID_TRANSITION", service.consume_reservation(uow, id=lapsing.id))
    assert uow.level().committed == 1


async def test_expired_reservations_are_swept_to_expired_with_their_events() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    short = await reserve(uow, 2, key="cart-1", ttl_seconds=60)
    long = await reserve(uow, 3, key="cart-2", ttl_seconds=3600)
    uow.clock.advance(timedelta(seconds=60))
    # Past its expiry a reservation stops holding stock, swept or not.
    assert uow.level().reserved == 3
    mark = len(uow.events)

    expired = await service.expire_reservations(uow)

    assert [r.id for r in expired] == [short.id]
    statuses = {r.id: r.status for r in uow.committed.reservations.values()}
    assert statuses == {short.id: ReservationStatus.EXPIRED, long.id: ReservationStatus.ACTIVE}
    new = uow.events_since(mark)
    (event,) = of(new, ReservationExpired)
    assert (event.id, event.status, event.quantity) == (short.id, "EXPIRED", 2)
    assert (of(new, StockChanged)[0].reserved, of(new, StockChanged)[0].available) == (3, 7)

    before = (uow.commits, len(uow.events))
    assert await service.expire_reservations(uow) == []
    assert (uow.commits, len(uow.events)) == before


async def test_releasing_an_expired_reservation_returns_it_as_expired() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    reservation = await reserve(uow, 2, ttl_seconds=60)
    uow.clock.advance(timedelta(minutes=5))
    mark = len(uow.events)

    released = await service.release_reservation(uow, id=reservation.id)

    assert released.status is ReservationStatus.EXPIRED
    assert uow.events_since(mark)[0].type == "ReservationExpired"


async def test_an_unknown_location_or_sku_is_refused_with_its_code() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await stocked(uow, sku="SOCKS", location_id="DC-SOUTH", on_hand=10)

    error = await refused(
        "UNKNOWN_LOCATION",
        service.reserve_stock(
            uow, sku=SKU, location_id="NOWHERE", quantity=1, idempotency_key="k1"
        ),
    )
    assert error.details == {"locationId": "NOWHERE"}
    error = await refused(
        "UNKNOWN_SKU",
        service.reserve_stock(uow, sku="HAT", location_id=DC, quantity=1, idempotency_key="k2"),
    )
    assert error.details == {"sku": "HAT"}
    # Stocked elsewhere, but never here: none available.
    error = await refused(
        "INSUFFICIENT_STOCK",
        service.reserve_stock(uow, sku="SOCKS", location_id=DC, quantity=1, idempotency_key="k3"),
    )
    assert error.details["available"] == 0
    assert uow.committed.reservations == {}


async def test_a_malformed_reservation_is_refused_with_its_rule() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await refused("INVALID_QUANTITY", reserve(uow, 0))
    await refused("INVALID_TTL", reserve(uow, 1, ttl_seconds=0))
    await refused("INVALID_LINES", service.reserve_stock_lines(uow, []))


# Stock movements


def movement(
    type: MovementType,
    quantity: int,
    line: int,
    *,
    document: str = "DOC-1",
    location_id: str = DC,
    to: str | None = None,
) -> Movement:
    return Movement(type, SKU, location_id, quantity, document, line, to)


async def test_a_receipt_adds_on_hand_and_lands_incoming_units_first() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=2, incoming=5)
    report = await service.apply_stock_movements(uow, [movement(MovementType.RECEIPT, 3, 1)])
    assert len(report.applied) == 1
    assert (uow.level().on_hand, uow.level().incoming) == (5, 2)
    assert report.levels == [uow.level()]
    assert of(uow.events, StockChanged)[-1].on_hand == 5
    assert uow.committed.movements.keys() == {("DOC-1", 1)}


async def test_a_pick_takes_units_off_hand_and_fulfils_commitments_first() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10, committed=4)
    await service.apply_stock_movements(uow, [movement(MovementType.PICK, 3, 1)])
    assert (uow.level().on_hand, uow.level().committed, uow.level().available) == (7, 1, 6)


async def test_an_adjustment_adds_a_signed_delta() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await service.apply_stock_movements(
        uow,
        [movement(MovementType.ADJUSTMENT, -4, 1), movement(MovementType.ADJUSTMENT, 1, 2)],
    )
    assert uow.level().on_hand == 7


async def test_a_transfer_puts_the_units_in_transit_to_the_other_location() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await stocked(uow, location_id="DC-SOUTH", on_hand=1)
    mark = len(uow.events)

    report = await service.apply_stock_movements(
        uow, [movement(MovementType.TRANSFER, 4, 1, to="DC-SOUTH")]
    )

    assert len(report.applied) == 1
    assert uow.level().on_hand == 6
    south = uow.level(location_id="DC-SOUTH")
    assert (south.on_hand, south.incoming) == (1, 4)
    changed = {
        (e.location_id, e.on_hand, e.incoming) for e in of(uow.events_since(mark), StockChanged)
    }
    assert changed == {(DC, 6, 0), ("DC-SOUTH", 1, 4)}


async def test_each_movement_from_a_wms_owes_the_erp_the_moves_that_make_its_on_hand_ours() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await stocked(uow, location_id="DC-SOUTH", on_hand=1, incoming=3)

    await service.apply_stock_movements(
        uow,
        [
            movement(MovementType.TRANSFER, 4, 1, to="DC-SOUTH"),
            # 3 + 4 in transit to the south: 7 of the 8 land, 1 comes from a supplier.
            movement(MovementType.RECEIPT, 8, 2, location_id="DC-SOUTH"),
            movement(MovementType.ADJUSTMENT, -2, 3),
            movement(MovementType.CYCLE_COUNT, 5, 4),  # 4 on hand were counted as 5
            movement(MovementType.CYCLE_COUNT, 5, 5),  # the same count again moves nothing
            movement(MovementType.RETURN, 1, 6),
            movement(MovementType.PICK, 1, 7),  # the order's sale ships it in the ERP
        ],
        origin=MovementOrigin.WMS,
    )

    assert uow.committed.owed == {
        ("DOC-1", 1): [ErpMove(SKU, 4, DC, None, to_kind=Place.TRANSIT)],
        ("DOC-1", 2): [
            ErpMove(SKU, 7, None, "DC-SOUTH", from_kind=Place.TRANSIT),
            ErpMove(SKU, 1, None, "DC-SOUTH", from_kind=Place.SUPPLIER),
        ],
        ("DOC-1", 3): [ErpMove(SKU, 2, DC, None, to_kind=Place.LOST_FOUND)],
        ("DOC-1", 4): [ErpMove(SKU, 1, None, DC, from_kind=Place.LOST_FOUND)],
        ("DOC-1", 6): [ErpMove(SKU, 1, None, DC, from_kind=Place.CUSTOMER)],
    }
    # What the ERP is owed brings its on hand where ours went, but for the picked unit,
    # which the order's sale takes out of the ERP.
    change: dict[str, int] = {}
    for moves in uow.committed.owed.values():
        for move in moves:
            for location, units in move.on_hand_change().items():
                change[location] = change.get(location, 0) + units
    assert change == {DC: (5 - 10) + 1, "DC-SOUTH": 9 - 1}
    assert (uow.level().on_hand, uow.level(location_id="DC-SOUTH").on_hand) == (5, 9)


async def test_movements_the_erp_told_us_of_owe_it_nothing_and_a_replay_owes_nothing_twice() -> (
    None
):
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)

    await service.apply_stock_movements(
        uow, [movement(MovementType.RECEIPT, 5, 1)], origin=MovementOrigin.ERP
    )
    assert uow.committed.owed == {}

    receipt = movement(MovementType.RECEIPT, 2, 1, document="ASN-7")
    await service.apply_stock_movements(uow, [receipt], origin=MovementOrigin.WMS)
    owed = dict(uow.committed.owed)
    again = await service.apply_stock_movements(uow, [receipt], origin=MovementOrigin.WMS)
    assert again.duplicates == [receipt]
    assert (
        uow.committed.owed
        == owed
        == {("ASN-7", 1): [ErpMove(SKU, 2, None, DC, from_kind=Place.SUPPLIER)]}
    )


async def test_a_movement_line_applies_once_however_often_it_is_sent() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    receipt = movement(MovementType.RECEIPT, 5, 1)

    first = await service.apply_stock_movements(uow, [receipt, receipt])
    before = len(uow.events)
    again = await service.apply_stock_movements(uow, [receipt])

    assert (len(first.applied), len(first.duplicates)) == (1, 1)
    assert (len(again.applied), again.duplicates) == (0, [receipt])
    assert uow.level().on_hand == 15
    assert len(uow.events) == before


async def test_invalid_movement_lines_are_rejected_and_the_valid_ones_still_apply() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=2)
    report = await service.apply_stock_movements(
        uow,
        [
            movement(MovementType.PICK, 3, 1),
            movement(MovementType.RECEIPT, 1, 2, location_id="NOWHERE"),
            movement(MovementType.RECEIPT, 0, 3),
            movement(MovementType.RECEIPT, 4, 4),
        ],
    )
    assert sorted((r.movement.line_number, r.code) for r in report.rejected) == [
        (1, "NEGATIVE_ON_HAND"),
        (2, "UNKNOWN_LOCATION"),
        (3, "NEGATIVE_QUANTITY"),
    ]
    assert [m.line_number for m in report.applied] == [4]
    assert uow.level().on_hand == 6
    # A rejected line is not remembered: once corrected it can be sent again.
    assert uow.committed.movements.keys() == {("DOC-1", 4)}
    retried = await service.apply_stock_movements(uow, [movement(MovementType.PICK, 1, 1)])
    assert len(retried.applied) == 1


async def test_a_batch_of_only_rejected_lines_changes_no_stock() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=2)
    before = len(uow.events)
    report = await service.apply_stock_movements(uow, [movement(MovementType.PICK, 3, 1)])
    assert report.applied == []
    assert uow.level().on_hand == 2
    assert len(uow.events) == before


async def test_a_movement_replay_that_raced_the_first_applies_nothing_twice() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    stock = racing(uow)
    receipt = movement(MovementType.RECEIPT, 5, 1)

    report = await service.apply_stock_movements(uow, [receipt])

    assert (report.applied, report.duplicates) == ([], [receipt])
    assert uow.level().on_hand == 15
    assert stock.raced == ["movements"]


async def test_a_batch_over_the_limit_is_refused() -> None:
    uow = FakeUnitOfWork()
    lines = [movement(MovementType.RECEIPT, 1, n) for n in range(1001)]
    await refused("BATCH_TOO_LARGE", service.apply_stock_movements(uow, lines))


# Orders' events


def order_event(type: str, quantity: int, **payload: object) -> Event:
    fields: dict[str, object] = (
        {
            "channel": "web",
            "customerReference": "",
            "fulfilment": {"type": "SHIP_FROM_DC", "locationId": DC},
            "currency": "EUR",
            "lines": [
                {
                    "lineId": "l1",
                    "sku": SKU,
                    "quantity": quantity,
                    "unitPrice": "1.00",
                    "promotionalUnitPrice": "1.00",
                    "taxRate": "0",
                }
            ],
            "totals": {"subtotal": "4.00", "discount": "0.00", "tax": "0.00", "total": "4.00"},
        }
        if type == "OrderCreated"
        else {"reason": "", "wholeOrder": False}
    )
    return Event(
        type=type,
        partition_key="order-1",
        payload={
            "orderId": "order-1",
            "number": "RG-0000001",
            "idempotencyKey": "checkout-1",
            "locationId": DC,
            "lines": [{"lineId": "l1", "position": 1, "sku": SKU, "quantity": quantity}],
            **fields,
            **payload,
        },
        occurred_at=EVENT_TIME,
    )


async def test_a_placed_order_commits_its_reservations_once_however_often_it_arrives() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await reserve(uow, 4, key="checkout-1:1", order_reference="order-1")
    handler = OrderStockHandler(lambda: uow)
    created = order_event("OrderCreated", 4)

    for _ in range(2):
        await handler(created)

    level = uow.level()
    assert (level.committed, level.reserved, level.available) == (4, 0, 6)
    (consumed,) = of(uow.events, ReservationConsumed)
    assert (consumed.quantity, consumed.order_reference) == (4, "order-1")


async def test_cancelled_order_lines_give_their_committed_units_back_once() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    await reserve(uow, 4, key="checkout-1:1", order_reference="order-1")
    handler = OrderStockHandler(lambda: uow)
    await handler(order_event("OrderCreated", 4))
    cancelled = order_event("OrderLinesCancelled", 3)

    for _ in range(2):
        await handler(cancelled)

    assert (uow.level().committed, uow.level().available) == (1, 9)


async def test_cancelling_a_line_before_the_order_committed_it_releases_the_reservation() -> None:
    uow = FakeUnitOfWork()
    await stocked(uow, on_hand=10)
    reservation = await reserve(uow, 4, key="checkout-1:1")

    await OrderStockHandler(lambda: uow)(order_event("OrderLinesCancelled", 4))

    assert uow.committed.reservations[reservation.id].status is ReservationStatus.RELEASED
    assert (uow.level().reserved, uow.level().committed) == (0, 0)
    assert of(uow.events, ReservationReleased)[0].id == reservation.id
