"""Inventory's quantity invariants over any stock, and the edges of every input rule.

Availability is never negative and never more than the stock that is free; a channel is
never promised more than its share or cap; a movement either leaves on hand at zero or
more or is refused; a reservation moves only forward (consumed twice is still consumed).
The edge cases accept what is valid at the very boundary as well as refuse what is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.inventory.model import (
    MAX_QUANTITY,
    MAX_TTL_SECONDS,
    CauseTotals,
    ChannelRule,
    Divergence,
    DivergenceCause,
    Location,
    LocationKind,
    Movement,
    MovementType,
    Reconciliation,
    Reservation,
    ReservationStatus,
    RuleViolation,
    StockLevel,
    allocate,
    apply_movement,
    channel_availability,
    consume,
    divergence_cause,
    expiry,
    is_text,
    release,
    reserved_quantity,
    sellable,
    take_back,
    totals_by_cause,
    validate_movement,
    validate_reservation_request,
    validate_rule,
    validate_rules,
    validate_snapshot,
)
from kernel.keys import MAX_RESERVATION_KEY

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
PROPERTIES = settings(max_examples=80, deadline=None)

COUNTS = st.integers(0, 60)
LEVELS = st.builds(
    StockLevel,
    sku=st.just("SKU-1"),
    location_id=st.sampled_from(["DC", "STORE"]),
    on_hand=COUNTS,
    committed=COUNTS,
    reserved=COUNTS,
    safety_stock=COUNTS,
    quarantined=COUNTS,
    incoming=COUNTS,
)
RULES = st.builds(
    ChannelRule,
    channel=st.just("web"),
    share_percent=st.integers(0, 100),
    cap=st.none() | st.integers(0, 80),
)


def move(kind: MovementType, quantity: int, **overrides: object) -> Movement:
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


def reservation(status: ReservationStatus, expires_in: timedelta) -> Reservation:
    return Reservation("r1", "k1", "SKU-1", "DC", 2, NOW + expires_in, status, "O-1")


# -- availability and allocation ------------------------------------------------------------


@PROPERTIES
@given(level=LEVELS)
def test_availability_is_what_is_free_and_never_negative(level: StockLevel) -> None:
    held = level.committed + level.reserved + level.safety_stock + level.quarantined
    assert level.available == max(0, level.on_hand - held) >= 0
    assert level.available <= level.on_hand
    assert level.quantities() == {
        "onHand": level.on_hand,
        "committed": level.committed,
        "reserved": level.reserved,
        "safetyStock": level.safety_stock,
        "quarantined": level.quarantined,
        "incoming": level.incoming,
        "available": level.available,
    }


@pytest.mark.parametrize(
    ("held", "available"),
    [
        ({"committed": 3}, 7),
        ({"reserved": 3}, 7),
        ({"safety_stock": 3}, 7),
        ({"quarantined": 3}, 7),
        ({"committed": 10}, 0),
        ({"committed": 6, "quarantined": 6}, 0),
    ],
)
def test_each_held_quantity_comes_off_the_available(held: dict[str, int], available: int) -> None:
    values = {"committed": 0, "reserved": 0, "safety_stock": 0, "quarantined": 0} | held
    assert sellable(on_hand=10, **values) == available


@PROPERTIES
@given(level=LEVELS, rule=RULES, counts_incoming=st.booleans())
def test_a_channel_is_promised_its_share_of_free_stock_within_its_cap(
    level: StockLevel, rule: ChannelRule, counts_incoming: bool
) -> None:
    allocation = allocate(level, rule, counts_incoming=counts_incoming)
    incoming = level.incoming if counts_incoming else 0
    expected = (level.available + incoming) * rule.share_percent // 100
    if rule.cap is not None:
        expected = min(expected, rule.cap)
    assert allocation.allocated == expected >= 0
    assert allocation.allocated <= level.available + incoming
    assert (
        allocation.location_id,
        allocation.available,
        allocation.incoming_counted,
        allocation.share_percent,
        allocation.cap,
    ) == (level.location_id, level.available, incoming, rule.share_percent, rule.cap)


@PROPERTIES
@given(
    levels=st.lists(LEVELS, max_size=3, unique_by=lambda level: level.location_id),
    other=LEVELS,
    dc_rule=RULES,
    counts_incoming=st.booleans(),
)
def test_channel_availability_is_the_sum_over_the_serving_locations(
    levels: list[StockLevel],
    other: StockLevel,
    dc_rule: ChannelRule,
    counts_incoming: bool,
) -> None:
    # DC serves web by the drawn rule; STORE serves only the app; another SKU never counts.
    rules = {"DC": (ChannelRule("app"), dc_rule), "STORE": (ChannelRule("app"),)}
    stranger = StockLevel("SKU-2", "DC", on_hand=other.on_hand)
    result = channel_availability(
        "SKU-1", "web", [*levels, stranger], rules, counts_incoming=counts_incoming
    )
    serving = [level for level in levels if level.location_id == "DC"]
    assert [a.location_id for a in result.locations] == ["DC"] * len(serving)
    expected = sum(
        allocate(lvl, dc_rule, counts_incoming=counts_incoming).allocated for lvl in serving
    )
    assert result.available == expected
    assert (result.sku, result.channel, result.counts_incoming) == ("SKU-1", "web", counts_incoming)


def test_channel_availability_lists_locations_in_id_order() -> None:
    rules = {"A": (ChannelRule("web"),), "B": (ChannelRule("web", 50),)}
    levels = [StockLevel("SKU-1", "B", on_hand=10), StockLevel("SKU-1", "A", on_hand=3)]
    result = channel_availability("SKU-1", "web", levels, rules, counts_incoming=False)
    assert [(a.location_id, a.allocated) for a in result.locations] == [("A", 3), ("B", 5)]
    assert result.available == 8


def test_a_location_names_its_channels_and_their_rules() -> None:
    web, app = ChannelRule("web", 50), ChannelRule("app", 100, 4)
    location = Location("DC", "Central", LocationKind.DC, "north", (web, app))
    assert location.channels == ("web", "app")
    assert location.rule_for("app") is app
    assert location.rule_for("store") is None


@pytest.mark.parametrize(
    "rule",
    [
        ChannelRule("w"),
        ChannelRule("w" * 32, 0),
        ChannelRule("web", 100, 0),
        ChannelRule("web", 0, MAX_QUANTITY),
    ],
)
def test_allocation_rules_at_their_limits_are_accepted(rule: ChannelRule) -> None:
    validate_rule(rule)
    validate_rules([rule, ChannelRule("other")])


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        (ChannelRule("w" * 33), "INVALID_CHANNEL"),
        (ChannelRule("we\x00b"), "INVALID_CHANNEL"),
        (ChannelRule("web", 101), "INVALID_ALLOCATION"),
        (ChannelRule("web", -1), "INVALID_ALLOCATION"),
        (ChannelRule("web", 50, -1), "INVALID_ALLOCATION"),
        (ChannelRule("web", 50, MAX_QUANTITY + 1), "INVALID_ALLOCATION"),
    ],
)
def test_allocation_rules_past_their_limits_are_refused_with_a_code(
    rule: ChannelRule, code: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_rules([rule])
    assert caught.value.code == code


# -- reservations -------------------------------------------------------------------------


@PROPERTIES
@given(
    plans=st.lists(
        st.tuples(
            st.integers(1, 9),
            st.sampled_from(list(ReservationStatus)),
            st.integers(-3, 3),
        ),
        max_size=6,
    )
)
def test_reserved_stock_is_the_live_reservations_and_nothing_else(
    plans: list[tuple[int, ReservationStatus, int]],
) -> None:
    reservations = [
        Reservation(f"r{i}", f"k{i}", "SKU-1", "DC", quantity, NOW + timedelta(minutes=m), status)
        for i, (quantity, status, m) in enumerate(plans)
    ]
    live = sum(
        quantity
        for quantity, status, minutes in plans
        if status is ReservationStatus.ACTIVE and minutes > 0
    )
    assert reserved_quantity(reservations, NOW) == live


def test_a_reservation_stops_counting_at_the_instant_it_expires() -> None:
    at_expiry = reservation(ReservationStatus.ACTIVE, timedelta(0))
    assert not at_expiry.counts_at(NOW)
    assert at_expiry.status_at(NOW) is ReservationStatus.EXPIRED
    just_before = reservation(ReservationStatus.ACTIVE, timedelta(microseconds=1))
    assert just_before.counts_at(NOW)
    assert just_before.status_at(NOW) is ReservationStatus.ACTIVE
    released = reservation(ReservationStatus.RELEASED, timedelta(minutes=5))
    assert not released.counts_at(NOW)
    assert released.status_at(NOW) is ReservationStatus.RELEASED
    assert reservation(ReservationStatus.CONSUMED, -timedelta(minutes=5)).status_at(NOW) is (
        ReservationStatus.CONSUMED
    )


def test_a_reservation_consumed_twice_stays_consumed() -> None:
    live = reservation(ReservationStatus.ACTIVE, timedelta(minutes=5))
    once = consume(live, NOW)
    assert once.status is ReservationStatus.CONSUMED
    twice = consume(once, NOW)
    assert twice == once
    # Consumed stays consumed after the reservation's expiry, too.
    assert consume(once, NOW + timedelta(hours=1)) == once


@pytest.mark.parametrize(
    ("status", "expires_in", "word"),
    [
        (ReservationStatus.RELEASED, timedelta(minutes=5), "released"),
        (ReservationStatus.EXPIRED, timedelta(minutes=5), "expired"),
        (ReservationStatus.ACTIVE, timedelta(0), "expired"),
    ],
)
def test_only_a_live_reservation_can_be_consumed(
    status: ReservationStatus, expires_in: timedelta, word: str
) -> None:
    with pytest.raises(RuleViolation, match=f"a {word} reservation") as caught:
        consume(reservation(status, expires_in), NOW)
    assert caught.value.code == "INVALID_TRANSITION"


@pytest.mark.parametrize(
    ("status", "expires_in", "after"),
    [
        (ReservationStatus.ACTIVE, timedelta(minutes=5), ReservationStatus.RELEASED),
        (ReservationStatus.ACTIVE, timedelta(0), ReservationStatus.EXPIRED),
        (ReservationStatus.RELEASED, timedelta(minutes=5), ReservationStatus.RELEASED),
        (ReservationStatus.EXPIRED, timedelta(minutes=5), ReservationStatus.EXPIRED),
    ],
)
def test_release_ends_a_reservation_once_and_keeps_how_it_ended(
    status: ReservationStatus, expires_in: timedelta, after: ReservationStatus
) -> None:
    released = release(reservation(status, expires_in), NOW)
    assert released.status is after
    assert released.quantity == 2


def test_a_consumed_reservation_cannot_be_released() -> None:
    with pytest.raises(RuleViolation) as caught:
        release(reservation(ReservationStatus.CONSUMED, timedelta(minutes=5)), NOW)
    assert caught.value.code == "INVALID_TRANSITION"


def test_a_repeat_names_the_same_sku_location_quantity_and_order() -> None:
    live = reservation(ReservationStatus.ACTIVE, timedelta(minutes=5))
    assert live.same_request("SKU-1", "DC", 2, "O-1")
    assert not live.same_request("SKU-2", "DC", 2, "O-1")
    assert not live.same_request("SKU-1", "STORE", 2, "O-1")
    assert not live.same_request("SKU-1", "DC", 2, None)


def test_a_reservation_expires_its_time_to_live_after_now() -> None:
    assert expiry(NOW, 90) == NOW + timedelta(seconds=90)


@pytest.mark.parametrize(
    ("quantity", "ttl", "key", "reference"),
    [
        (1, 1, "k", None),
        (MAX_QUANTITY, MAX_TTL_SECONDS, "k" * MAX_RESERVATION_KEY, "O" * 200),
        (1, 60, "k", "O"),
    ],
)
def test_reservation_requests_at_their_limits_are_accepted(
    quantity: int, ttl: int, key: str, reference: str | None
) -> None:
    validate_reservation_request(quantity, ttl, key, reference, sku="S" * 64, location_id="L")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"quantity": MAX_QUANTITY + 1}, "INVALID_QUANTITY"),
        ({"ttl_seconds": MAX_TTL_SECONDS + 1}, "INVALID_TTL"),
        ({"ttl_seconds": -1}, "INVALID_TTL"),
        ({"sku": ""}, "INVALID_REFERENCE"),
        ({"sku": "S" * 65}, "INVALID_REFERENCE"),
        ({"location_id": ""}, "INVALID_REFERENCE"),
        ({"location_id": "L\x00"}, "INVALID_REFERENCE"),
        ({"location_id": "L" * 65}, "INVALID_REFERENCE"),
        ({"order_reference": ""}, "INVALID_ORDER_REFERENCE"),
        ({"idempotency_key": "k\x00"}, "INVALID_IDEMPOTENCY_KEY"),
    ],
)
def test_reservation_requests_past_their_limits_are_refused_with_a_code(
    overrides: dict[str, object], code: str
) -> None:
    values: dict[str, object] = {
        "quantity": 1,
        "ttl_seconds": 60,
        "idempotency_key": "k",
        "order_reference": None,
        "sku": "S",
        "location_id": "L",
    } | overrides
    with pytest.raises(RuleViolation) as caught:
        validate_reservation_request(**values)  # type: ignore[arg-type]
    assert caught.value.code == code
    # The message is the exception's text too, for logs and tracebacks.
    assert str(caught.value) == caught.value.message != ""


@pytest.mark.parametrize(
    ("value", "limit", "fits"),
    [("a", 1, True), ("ab", 1, False), ("", 5, False), ("a\x00", 5, False), (7, 5, False)],
)
def test_text_fits_when_it_is_a_non_empty_string_within_its_length(
    value: object, limit: int, fits: bool
) -> None:
    assert is_text(value, limit) is fits


# -- movements ----------------------------------------------------------------------------

KINDS = st.sampled_from(list(MovementType))


@PROPERTIES
@given(
    kind=KINDS,
    quantity=st.integers(-70, 70),
    source=LEVELS,
    target_incoming=COUNTS,
)
def test_a_movement_never_leaves_on_hand_negative_and_moves_exactly_its_quantity(
    kind: MovementType, quantity: int, source: StockLevel, target_incoming: int
) -> None:
    source = StockLevel("SKU-1", "DC", source.on_hand, source.committed, 0, 0, 0, source.incoming)
    target = StockLevel("SKU-1", "STORE", on_hand=5, incoming=target_incoming)
    movement = move(
        kind, quantity, to_location_id="STORE" if kind is MovementType.TRANSFER else None
    )
    expected_on_hand = {
        MovementType.RECEIPT: source.on_hand + quantity,
        MovementType.RETURN: source.on_hand + quantity,
        MovementType.ADJUSTMENT: source.on_hand + quantity,
        MovementType.CYCLE_COUNT: quantity,
        MovementType.PICK: source.on_hand - quantity,
        MovementType.TRANSFER: source.on_hand - quantity,
    }[kind]
    if expected_on_hand < 0:
        with pytest.raises(RuleViolation) as caught:
            apply_movement(movement, {"DC": source, "STORE": target})
        assert caught.value.code == "NEGATIVE_ON_HAND"
        assert f"with {expected_on_hand} on hand" in caught.value.message
        return
    after = apply_movement(movement, {"DC": source, "STORE": target})
    assert after["DC"].on_hand == expected_on_hand >= 0
    committed = source.committed
    incoming = source.incoming
    if kind is MovementType.PICK:
        committed = max(0, source.committed - quantity)
    if kind is MovementType.RECEIPT:
        incoming = max(0, source.incoming - quantity)
    assert (after["DC"].committed, after["DC"].incoming) == (committed, incoming)
    if kind is MovementType.TRANSFER:
        assert after["STORE"] == StockLevel(
            "SKU-1", "STORE", on_hand=5, incoming=target_incoming + quantity
        )
    else:
        assert set(after) == {"DC"}


def test_stock_past_any_real_quantity_is_refused_at_the_source_and_the_target() -> None:
    full = StockLevel("SKU-1", "DC", on_hand=MAX_QUANTITY)
    assert apply_movement(move(MovementType.CYCLE_COUNT, MAX_QUANTITY), {"DC": full})["DC"] == full
    with pytest.raises(RuleViolation) as caught:
        apply_movement(move(MovementType.RECEIPT, 1), {"DC": full})
    assert caught.value.code == "QUANTITY_TOO_LARGE"
    target = StockLevel("SKU-1", "STORE", incoming=MAX_QUANTITY)
    transfer = move(MovementType.TRANSFER, 1, to_location_id="STORE")
    with pytest.raises(RuleViolation):
        apply_movement(transfer, {"DC": StockLevel("SKU-1", "DC", on_hand=1), "STORE": target})


@pytest.mark.parametrize(
    "movement",
    [
        move(MovementType.CYCLE_COUNT, 0),
        move(MovementType.CYCLE_COUNT, MAX_QUANTITY),
        move(MovementType.ADJUSTMENT, -1),
        move(MovementType.ADJUSTMENT, -MAX_QUANTITY),
        move(MovementType.RECEIPT, 1, line_number=0),
        move(MovementType.RETURN, 1, line_number=MAX_QUANTITY),
        move(MovementType.PICK, 1, sku="S" * 64, source_document_id="D" * 200),
        move(MovementType.TRANSFER, 1, to_location_id="STORE"),
    ],
)
def test_movements_at_their_limits_are_accepted(movement: Movement) -> None:
    validate_movement(movement)


@pytest.mark.parametrize(
    ("movement", "code"),
    [
        (move(MovementType.CYCLE_COUNT, -1), "NEGATIVE_QUANTITY"),
        (move(MovementType.ADJUSTMENT, 0), "INVALID_QUANTITY"),
        (move(MovementType.ADJUSTMENT, MAX_QUANTITY + 1), "INVALID_QUANTITY"),
        (move(MovementType.ADJUSTMENT, -MAX_QUANTITY - 1), "INVALID_QUANTITY"),
        (move(MovementType.RECEIPT, 0), "NEGATIVE_QUANTITY"),
        (move(MovementType.PICK, -1), "NEGATIVE_QUANTITY"),
        (move(MovementType.RECEIPT, 1, line_number=-1), "INVALID_LINE_NUMBER"),
        (move(MovementType.RECEIPT, 1, line_number=MAX_QUANTITY + 1), "INVALID_LINE_NUMBER"),
        (move(MovementType.RECEIPT, 1, sku="S" * 65), "INVALID_SKU"),
        (move(MovementType.RECEIPT, 1, location_id=""), "UNKNOWN_LOCATION"),
        (move(MovementType.TRANSFER, 1, to_location_id="L" * 65), "UNKNOWN_LOCATION"),
        (move(MovementType.RECEIPT, 1, source_document_id="D" * 201), "INVALID_SOURCE_DOCUMENT"),
        (move(MovementType.TRANSFER, 1), "MISSING_DESTINATION"),
        (move(MovementType.TRANSFER, 1, to_location_id="DC"), "INVALID_DESTINATION"),
        (move(MovementType.RECEIPT, 1, to_location_id="STORE"), "UNEXPECTED_DESTINATION"),
    ],
)
def test_movements_past_their_limits_are_refused_with_a_code(movement: Movement, code: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_movement(movement)
    assert caught.value.code == code


def test_a_movement_is_keyed_by_its_document_line_and_touches_its_locations() -> None:
    transfer = move(MovementType.TRANSFER, 1, to_location_id="STORE", line_number=3)
    assert transfer.line_key == ("DOC-1", 3)
    assert transfer.touched == ("DC", "STORE")
    assert move(MovementType.PICK, 1).touched == ("DC",)


@pytest.mark.parametrize(
    "field", ["on_hand", "committed", "safety_stock", "quarantined", "incoming"]
)
def test_a_snapshot_is_refused_with_any_quantity_out_of_range(field: str) -> None:
    validate_snapshot(StockLevel("SKU-1", "DC", **{field: 0}))
    validate_snapshot(StockLevel("SKU-1", "DC", **{field: MAX_QUANTITY}))
    for value in (-1, MAX_QUANTITY + 1):
        with pytest.raises(RuleViolation) as caught:
            validate_snapshot(StockLevel("SKU-1", "DC", **{field: value}))
        assert caught.value.code == "NEGATIVE_QUANTITY"


# -- reconciliation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("difference", "pending", "held", "cause"),
    [
        (3, 3, 0, DivergenceCause.PENDING_MOVEMENT),
        (-2, -2, 5, DivergenceCause.PENDING_MOVEMENT),
        (3, 2, 3, DivergenceCause.UNPOSTED_ORDER),
        (-3, 0, 3, DivergenceCause.UNPOSTED_ORDER),
        (0, 0, 0, DivergenceCause.UNPOSTED_ORDER),
        (4, 0, 3, DivergenceCause.UNEXPLAINED),
        (-4, 1, 3, DivergenceCause.UNEXPLAINED),
    ],
)
def test_a_divergence_is_explained_by_pending_moves_then_held_units(
    difference: int, pending: int, held: int, cause: DivergenceCause
) -> None:
    assert divergence_cause(difference, pending, held) is cause


def test_totals_by_cause_count_pairs_and_absolute_units_for_every_cause() -> None:
    divergences = [
        Divergence("A", "DC", erp=5, ours=8, pending=0, held=0, cause=DivergenceCause.UNEXPLAINED),
        Divergence("B", "DC", erp=9, ours=7, pending=0, held=0, cause=DivergenceCause.UNEXPLAINED),
        Divergence(
            "C", "DC", erp=1, ours=0, pending=1, held=0, cause=DivergenceCause.PENDING_MOVEMENT
        ),
    ]
    assert divergences[0].difference == -3
    totals = totals_by_cause(divergences)
    assert totals == {
        DivergenceCause.PENDING_MOVEMENT: CauseTotals(1, 1),
        DivergenceCause.UNPOSTED_ORDER: CauseTotals(0, 0),
        DivergenceCause.UNEXPLAINED: CauseTotals(2, 5),
    }
    report = Reconciliation("rec-1", NOW, compared=10, by_cause=totals)
    assert (report.divergent_pairs, report.divergent_units) == (3, 6)


# -- returns ----------------------------------------------------------------------------------


@PROPERTIES
@given(level=LEVELS, quantity=st.integers(1, 40), damaged=st.booleans())
def test_returned_units_are_on_hand_and_sellable_again_only_when_not_damaged(
    level: StockLevel, quantity: int, damaged: bool
) -> None:
    after = take_back(level, quantity, damaged=damaged)
    assert after.on_hand == level.on_hand + quantity
    assert after.quarantined == level.quarantined + (quantity if damaged else 0)
    assert (after.committed, after.reserved, after.incoming) == (
        level.committed,
        level.reserved,
        level.incoming,
    )
    if damaged:
        assert after.available == level.available
    else:
        assert after.available >= level.available


@pytest.mark.parametrize("quantity", [1, MAX_QUANTITY])
def test_a_return_of_one_unit_up_to_any_real_quantity_is_taken_back(quantity: int) -> None:
    after = take_back(StockLevel("SKU-1", "STORE"), quantity, damaged=False)
    assert after.on_hand == quantity


@pytest.mark.parametrize(
    ("on_hand", "quantity", "code"),
    [
        (0, 0, "INVALID_QUANTITY"),
        (0, -1, "INVALID_QUANTITY"),
        (0, MAX_QUANTITY + 1, "INVALID_QUANTITY"),
        (1, MAX_QUANTITY, "QUANTITY_TOO_LARGE"),
    ],
)
def test_a_return_of_no_units_or_beyond_any_real_stock_is_refused(
    on_hand: int, quantity: int, code: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        take_back(StockLevel("SKU-1", "STORE", on_hand=on_hand), quantity, damaged=True)
    assert caught.value.code == code
