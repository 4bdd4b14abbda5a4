"""Inventory's rules: sellable stock, channel allocation, reservations and movements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domains.inventory.model import (
    ChannelRule,
    Location,
    LocationKind,
    Movement,
    MovementType,
    Reservation,
    ReservationStatus,
    RuleViolation,
    StockLevel,
    allocate,
    channel_availability,
    consume,
    release,
    reserved_quantity,
    sellable,
    validate_movement,
    validate_reservation_request,
    validate_rule,
    validate_rules,
)
from kernel.keys import MAX_RESERVATION_KEY

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _level(location_id: str = "DC", **quantities: int) -> StockLevel:
    return StockLevel(sku="SKU-1", location_id=location_id, **quantities)


def _reservation(**overrides: object) -> Reservation:
    values: dict[str, object] = {
        "id": "r1",
        "idempotency_key": "k1",
        "sku": "SKU-1",
        "location_id": "DC",
        "quantity": 2,
        "expires_at": NOW + timedelta(minutes=15),
    }
    values.update(overrides)
    return Reservation(**values)  # type: ignore[arg-type]


def _move(kind: MovementType, quantity: int, **overrides: object) -> Movement:
    values: dict[str, object] = {
        "type": kind,
        "sku": "SKU-1",
        "location_id": "DC",
        "quantity": quantity,
        "source_document_id": "DOC-1",
        "line_number": 1,
    }
    values.update(overrides)
    return Movement(**values)  # type: ignore[arg-type]


# Sellable stock


def test_available_subtracts_every_held_quantity_from_on_hand() -> None:
    level = _level(on_hand=100, committed=10, reserved=5, safety_stock=3, quarantined=2)
    assert level.available == 80


def test_available_ignores_incoming_units() -> None:
    assert _level(on_hand=10, incoming=500).available == 10


def test_available_never_goes_below_zero() -> None:
    assert sellable(on_hand=5, committed=4, reserved=4, safety_stock=0, quarantined=0) == 0
    assert _level(on_hand=0, safety_stock=5).available == 0


def test_quantities_name_every_state_and_the_available_result() -> None:
    quantities = _level(on_hand=9, committed=1, reserved=2, incoming=4).quantities()
    assert quantities == {
        "onHand": 9,
        "committed": 1,
        "reserved": 2,
        "safetyStock": 0,
        "quarantined": 0,
        "incoming": 4,
        "available": 6,
    }


# Allocation per channel


def test_allocation_applies_the_share_rounded_down() -> None:
    allocation = allocate(_level(on_hand=15), ChannelRule("app", 50), counts_incoming=False)
    assert allocation.allocated == 7


def test_allocation_is_capped() -> None:
    allocation = allocate(
        _level(on_hand=100), ChannelRule("app", 100, cap=10), counts_incoming=False
    )
    assert allocation.allocated == 10


def test_allocation_counts_incoming_only_when_the_channel_policy_says_so() -> None:
    level = _level(on_hand=10, incoming=20)
    assert allocate(level, ChannelRule("web"), counts_incoming=True).allocated == 30
    assert allocate(level, ChannelRule("web"), counts_incoming=False).allocated == 10
    assert allocate(level, ChannelRule("web"), counts_incoming=True).incoming_counted == 20


def test_allocation_of_an_oversubscribed_location_is_zero_not_negative() -> None:
    level = _level(on_hand=1, committed=5)
    assert allocate(level, ChannelRule("web"), counts_incoming=False).allocated == 0


def test_channel_availability_sums_only_the_locations_serving_the_channel() -> None:
    locations = {
        "DC": Location("DC", "DC", LocationKind.DC, "north", (ChannelRule("web", 50),)),
        "ST": Location(
            "ST", "Store", LocationKind.STORE, "north", (ChannelRule("store"), ChannelRule("web"))
        ),
        "HB": Location("HB", "Hamburg", LocationKind.STORE, "north", (ChannelRule("store"),)),
    }
    levels = [_level("DC", on_hand=40), _level("ST", on_hand=7), _level("HB", on_hand=100)]
    rules = {location.id: location.rules for location in locations.values()}
    web = channel_availability("SKU-1", "web", levels, rules, counts_incoming=False)
    assert web.available == 27
    assert [a.location_id for a in web.locations] == ["DC", "ST"]
    store = channel_availability("SKU-1", "store", levels, rules, counts_incoming=False)
    assert store.available == 107


def test_channel_availability_of_an_unserved_channel_is_zero() -> None:
    locations = {"DC": Location("DC", "DC", LocationKind.DC, "north", (ChannelRule("web"),))}
    rules = {location.id: location.rules for location in locations.values()}
    result = channel_availability("SKU-1", "b2b", [_level(on_hand=5)], rules, counts_incoming=True)
    assert result.available == 0
    assert result.locations == ()


@pytest.mark.parametrize(
    "rule",
    [ChannelRule(""), ChannelRule("web", 101), ChannelRule("web", -1), ChannelRule("web", 50, -3)],
)
def test_invalid_allocation_rules_are_refused(rule: ChannelRule) -> None:
    with pytest.raises(RuleViolation):
        validate_rule(rule)


def test_a_location_serves_each_channel_once() -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_rules([ChannelRule("web"), ChannelRule("web", 50)])
    assert caught.value.code == "DUPLICATE_CHANNEL"


# Reservations


def test_reservation_counts_until_it_expires() -> None:
    reservation = _reservation()
    assert reservation.counts_at(NOW)
    assert not reservation.counts_at(NOW + timedelta(minutes=15))
    assert reservation.status_at(NOW + timedelta(minutes=15)) is ReservationStatus.EXPIRED


def test_reserved_quantity_sums_only_live_reservations() -> None:
    reservations = [
        _reservation(id="a", quantity=2),
        _reservation(id="b", quantity=3, expires_at=NOW - timedelta(seconds=1)),
        _reservation(id="c", quantity=4, status=ReservationStatus.RELEASED),
        _reservation(id="d", quantity=5, status=ReservationStatus.CONSUMED),
    ]
    assert reserved_quantity(reservations, NOW) == 2


def test_release_of_an_active_reservation_releases_it() -> None:
    assert release(_reservation(), NOW).status is ReservationStatus.RELEASED


def test_release_twice_or_after_expiry_changes_nothing() -> None:
    released = release(_reservation(status=ReservationStatus.RELEASED), NOW)
    assert released.status is ReservationStatus.RELEASED
    late = release(_reservation(expires_at=NOW - timedelta(seconds=1)), NOW)
    assert late.status is ReservationStatus.EXPIRED


def test_release_of_a_consumed_reservation_is_an_invalid_transition() -> None:
    with pytest.raises(RuleViolation) as caught:
        release(_reservation(status=ReservationStatus.CONSUMED), NOW)
    assert caught.value.code == "INVALID_TRANSITION"


def test_consume_needs_a_live_reservation() -> None:
    assert consume(_reservation(), NOW).status is ReservationStatus.CONSUMED
    with pytest.raises(RuleViolation):
        consume(_reservation(expires_at=NOW), NOW)
    with pytest.raises(RuleViolation):
        consume(_reservation(status=ReservationStatus.RELEASED), NOW)


def test_a_repeat_is_the_same_request_only_with_the_same_parameters() -> None:
    reservation = _reservation(order_reference="O-1")
    assert reservation.same_request("SKU-1", "DC", 2, "O-1")
    assert not reservation.same_request("SKU-1", "DC", 3, "O-1")


@pytest.mark.parametrize(
    ("quantity", "ttl", "key", "code"),
    [
        (0, 60, "k", "INVALID_QUANTITY"),
        (-1, 60, "k", "INVALID_QUANTITY"),
        (1, 0, "k", "INVALID_TTL"),
        (1, 10**9, "k", "INVALID_TTL"),
        (1, 60, "", "INVALID_IDEMPOTENCY_KEY"),
        # A reservation key is a checkout's key (up to 200 characters) and ":<line>".
        (1, 60, "k" * (MAX_RESERVATION_KEY + 1), "INVALID_IDEMPOTENCY_KEY"),
    ],
)
def test_invalid_reservation_requests_are_refused_with_a_code(
    quantity: int, ttl: int, key: str, code: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_reservation_request(quantity, ttl, key)
    assert caught.value.code == code


def test_an_order_reference_fits_its_column() -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_reservation_request(1, 60, "k", "O" * 201)
    assert caught.value.code == "INVALID_ORDER_REFERENCE"


# Movements


def _apply(movement: Movement, **levels: StockLevel) -> dict[str, StockLevel]:
    from domains.inventory.model import apply_movement

    return apply_movement(movement, levels)


def test_receipt_adds_on_hand_and_lands_in_transit_units() -> None:
    after = _apply(_move(MovementType.RECEIPT, 30), DC=_level(on_hand=5, incoming=20))["DC"]
    assert (after.on_hand, after.incoming) == (35, 0)


def test_transfer_moves_units_off_hand_into_transit_at_the_target() -> None:
    after = _apply(
        _move(MovementType.TRANSFER, 4, to_location_id="ST"),
        DC=_level(on_hand=10),
        ST=_level("ST", on_hand=1),
    )
    assert after["DC"].on_hand == 6
    assert (after["ST"].on_hand, after["ST"].incoming) == (1, 4)


def test_pick_takes_units_off_hand_and_fulfils_commitments() -> None:
    after = _apply(_move(MovementType.PICK, 3), DC=_level(on_hand=10, committed=2))["DC"]
    assert (after.on_hand, after.committed) == (7, 0)


def test_adjustment_applies_a_signed_delta() -> None:
    assert _apply(_move(MovementType.ADJUSTMENT, -4), DC=_level(on_hand=10))["DC"].on_hand == 6
    assert _apply(_move(MovementType.ADJUSTMENT, 4), DC=_level(on_hand=10))["DC"].on_hand == 14


def test_return_adds_units_back() -> None:
    assert _apply(_move(MovementType.RETURN, 2), DC=_level(on_hand=1))["DC"].on_hand == 3


def test_cycle_count_sets_the_counted_quantity() -> None:
    assert _apply(_move(MovementType.CYCLE_COUNT, 0), DC=_level(on_hand=10))["DC"].on_hand == 0


def test_a_movement_that_would_leave_negative_on_hand_is_rejected() -> None:
    with pytest.raises(RuleViolation) as caught:
        _apply(_move(MovementType.PICK, 11), DC=_level(on_hand=10))
    assert caught.value.code == "NEGATIVE_ON_HAND"


@pytest.mark.parametrize(
    ("movement", "code"),
    [
        (_move(MovementType.RECEIPT, -1), "NEGATIVE_QUANTITY"),
        (_move(MovementType.PICK, 0), "NEGATIVE_QUANTITY"),
        (_move(MovementType.CYCLE_COUNT, -2), "NEGATIVE_QUANTITY"),
        (_move(MovementType.ADJUSTMENT, 0), "INVALID_QUANTITY"),
        (_move(MovementType.TRANSFER, 1), "MISSING_DESTINATION"),
        (_move(MovementType.TRANSFER, 1, to_location_id="DC"), "INVALID_DESTINATION"),
        (_move(MovementType.RECEIPT, 1, to_location_id="ST"), "UNEXPECTED_DESTINATION"),
        (_move(MovementType.RECEIPT, 1, sku=""), "INVALID_SKU"),
        (_move(MovementType.RECEIPT, 1, source_document_id=""), "INVALID_SOURCE_DOCUMENT"),
        (_move(MovementType.RECEIPT, 1, line_number=-1), "INVALID_LINE_NUMBER"),
    ],
)
def test_invalid_movements_are_refused_with_a_code(movement: Movement, code: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_movement(movement)
    assert caught.value.code == code


def test_stock_beyond_any_real_quantity_is_rejected_rather_than_overflowing() -> None:
    with pytest.raises(RuleViolation) as caught:
        _apply(_move(MovementType.RECEIPT, 10**9), DC=_level(on_hand=10**9))
    assert caught.value.code == "QUANTITY_TOO_LARGE"
