"""The order's rules: the transition table, line quantities, totals and refunds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domains.orders.creation import new_order
from domains.orders.errors import InvalidOrderInput, InvalidTransition
from domains.orders.model import (
    EVENT_TYPES,
    RESUMING,
    TRANSITIONS,
    Fulfilment,
    FulfilmentType,
    HistoryEntry,
    LineStatus,
    NewLine,
    Order,
    OrderStatus,
    ReturnDisposition,
    money,
    spread,
)
from domains.orders.service import created_event, step_events
from domains.orders.transitions import can_transition

S = OrderStatus
AT = datetime(2026, 11, 1, 12, tzinfo=UTC)


def make_order(*lines: NewLine) -> Order:
    lines = lines or (
        NewLine("SKU-A", 2, Decimal("10.00"), Decimal("8.00"), Decimal("0.19")),
        NewLine("SKU-B", 1, Decimal("5.00"), None, Decimal("0.07")),
    )
    order = new_order(
        order_id="o-1",
        idempotency_key="key-1",
        channel="web",
        customer_reference="cust-1",
        fulfilment=Fulfilment(FulfilmentType.SHIP_FROM_DC, "DC-NORTH"),
        currency="EUR",
        lines=list(lines),
        at=AT,
        correlation_id="corr-1",
        line_ids=[f"l-{i}" for i in range(1, len(lines) + 1)],
    )
    order.sequence = 42
    return order


def advance(order: Order, to: OrderStatus) -> Order:
    """Drive ``order`` through the happy path until it reaches ``to``."""
    later = AT + timedelta(hours=1)
    steps = {
        S.CONFIRMED: lambda: order.confirm(at=later),
        S.PAYMENT_AUTHORIZED: lambda: order.authorize_payment(at=later),
        S.RELEASED_TO_FULFILMENT: lambda: order.release_to_fulfilment(at=later),
        S.SHIPPED: lambda: order.confirm_shipment({"l-1": 2, "l-2": 1}, at=later),
        S.DELIVERED: lambda: order.confirm_delivery(at=later),
        S.RETURN_REQUESTED: lambda: order.request_return({"l-1": 1}, at=later, reason="size"),
        S.RETURNED: lambda: order.confirm_return(
            {"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=later
        ),
        S.REFUNDED: lambda: order.refund(at=later),
    }
    for status, step in steps.items():
        if order.status is to:
            break
        step()
        assert order.status is status
    return order


def reach(status: OrderStatus) -> Order:
    order = make_order()
    if status is S.FRAUD_HOLD:
        advance(order, S.CONFIRMED).hold_for_fraud(at=AT, reason="velocity")
    elif status is S.PARTIALLY_SHIPPED:
        advance(order, S.RELEASED_TO_FULFILMENT).confirm_shipment({"l-1": 1}, at=AT)
    elif status is S.PARTIALLY_CANCELLED:
        order.cancel_lines({"l-2": 1}, at=AT, reason="out of stock")
    elif status is S.CANCELLED:
        order.cancel(at=AT, reason="customer")
    else:
        advance(order, status)
    assert order.status is status
    return order


# Each allowed transition, and the step that takes it.
ALLOWED_STEPS = {
    (S.PENDING, S.CONFIRMED): lambda o: o.confirm(at=AT),
    (S.PENDING, S.PARTIALLY_CANCELLED): lambda o: o.cancel_lines({"l-1": 1}, at=AT, reason=""),
    (S.PENDING, S.CANCELLED): lambda o: o.cancel(at=AT, reason="customer"),
    (S.CONFIRMED, S.PAYMENT_AUTHORIZED): lambda o: o.authorize_payment(at=AT),
    (S.CONFIRMED, S.FRAUD_HOLD): lambda o: o.hold_for_fraud(at=AT, reason="velocity"),
    (S.CONFIRMED, S.PARTIALLY_CANCELLED): lambda o: o.cancel_lines({"l-2": 1}, at=AT, reason=""),
    (S.CONFIRMED, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.FRAUD_HOLD, S.PAYMENT_AUTHORIZED): lambda o: o.release_fraud_hold(at=AT),
    (S.FRAUD_HOLD, S.CANCELLED): lambda o: o.cancel(at=AT, reason="fraud"),
    (S.PAYMENT_AUTHORIZED, S.RELEASED_TO_FULFILMENT): lambda o: o.release_to_fulfilment(at=AT),
    (S.PAYMENT_AUTHORIZED, S.PARTIALLY_CANCELLED): lambda o: o.cancel_lines(
        {"l-1": 1}, at=AT, reason=""
    ),
    (S.PAYMENT_AUTHORIZED, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.RELEASED_TO_FULFILMENT, S.PARTIALLY_SHIPPED): lambda o: o.confirm_shipment(
        {"l-1": 1}, at=AT
    ),
    (S.RELEASED_TO_FULFILMENT, S.SHIPPED): lambda o: o.confirm_shipment(
        {"l-1": 2, "l-2": 1}, at=AT
    ),
    (S.RELEASED_TO_FULFILMENT, S.PARTIALLY_CANCELLED): lambda o: o.cancel_lines(
        {"l-1": 2}, at=AT, reason=""
    ),
    (S.RELEASED_TO_FULFILMENT, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED): lambda o: o.confirm_shipment({"l-1": 1}, at=AT),
    (S.PARTIALLY_SHIPPED, S.SHIPPED): lambda o: o.confirm_shipment({"l-1": 1, "l-2": 1}, at=AT),
    (S.SHIPPED, S.DELIVERED): lambda o: o.confirm_delivery(at=AT),
    (S.DELIVERED, S.RETURN_REQUESTED): lambda o: o.request_return({"l-1": 1}, at=AT, reason=""),
    (S.RETURN_REQUESTED, S.RETURN_REQUESTED): lambda o: o.request_return(
        {"l-1": 1}, at=AT, reason=""
    ),
    (S.RETURN_REQUESTED, S.RETURNED): lambda o: o.confirm_return(
        {"l-1": 1}, disposition=ReturnDisposition.DAMAGED, at=AT
    ),
    (S.RETURNED, S.REFUNDED): lambda o: o.refund(at=AT),
    (S.REFUNDED, S.RETURN_REQUESTED): lambda o: o.request_return({"l-2": 1}, at=AT, reason=""),
}


def test_transition_table_every_allowed_transition_has_a_step() -> None:
    table = {(f, t) for f, tos in TRANSITIONS.items() for t in tos}
    assert table == set(ALLOWED_STEPS)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED_STEPS))
def test_order_takes_every_allowed_transition(
    from_status: OrderStatus, to_status: OrderStatus
) -> None:
    order = reach(from_status)
    ALLOWED_STEPS[(from_status, to_status)](order)
    assert order.status is to_status
    assert order.history[-1].to_status is to_status


FORBIDDEN_STEPS = {
    (S.PENDING, S.PAYMENT_AUTHORIZED): lambda o: o.authorize_payment(at=AT),
    (S.PENDING, S.RELEASED_TO_FULFILMENT): lambda o: o.release_to_fulfilment(at=AT),
    (S.PENDING, S.PARTIALLY_SHIPPED): lambda o: o.confirm_shipment({"l-1": 1}, at=AT),
    (S.CONFIRMED, S.CONFIRMED): lambda o: o.confirm(at=AT),
    (S.CONFIRMED, S.RELEASED_TO_FULFILMENT): lambda o: o.release_to_fulfilment(at=AT),
    (S.FRAUD_HOLD, S.RELEASED_TO_FULFILMENT): lambda o: o.release_to_fulfilment(at=AT),
    (S.FRAUD_HOLD, S.PARTIALLY_CANCELLED): lambda o: o.cancel_lines({"l-1": 1}, at=AT, reason=""),
    (S.PAYMENT_AUTHORIZED, S.FRAUD_HOLD): lambda o: o.hold_for_fraud(at=AT, reason="late"),
    (S.PARTIALLY_SHIPPED, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.PARTIALLY_SHIPPED, S.PARTIALLY_CANCELLED): lambda o: o.cancel_lines(
        {"l-2": 1}, at=AT, reason=""
    ),
    (S.SHIPPED, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.SHIPPED, S.RETURN_REQUESTED): lambda o: o.request_return({"l-1": 1}, at=AT, reason=""),
    (S.DELIVERED, S.REFUNDED): lambda o: o.refund(at=AT),
    (S.DELIVERED, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.RETURN_REQUESTED, S.REFUNDED): lambda o: o.refund(at=AT),
    (S.RETURNED, S.RETURN_REQUESTED): lambda o: o.request_return({"l-2": 1}, at=AT, reason=""),
    (S.CANCELLED, S.CONFIRMED): lambda o: o.confirm(at=AT),
    (S.CANCELLED, S.CANCELLED): lambda o: o.cancel(at=AT, reason=""),
    (S.REFUNDED, S.REFUNDED): lambda o: o.refund(at=AT),
}


@pytest.mark.parametrize(("from_status", "to_status"), sorted(FORBIDDEN_STEPS))
def test_order_refuses_forbidden_transition_naming_from_and_to(
    from_status: OrderStatus, to_status: OrderStatus
) -> None:
    order = reach(from_status)
    before = (order.status, len(order.history), len(order.changes))
    with pytest.raises(InvalidTransition) as raised:
        FORBIDDEN_STEPS[(from_status, to_status)](order)
    assert raised.value.code == "INVALID_TRANSITION"
    assert raised.value.details == {"from": from_status.value, "to": to_status.value}
    assert (order.status, len(order.history), len(order.changes)) == before


def test_forbidden_steps_are_absent_from_the_table() -> None:
    for from_status, to_status in FORBIDDEN_STEPS:
        assert not can_transition(from_status, to_status)
    assert {S.PARTIALLY_CANCELLED} == RESUMING


def test_partially_cancelled_order_resumes_its_stage() -> None:
    order = reach(S.PAYMENT_AUTHORIZED)
    order.cancel_lines({"l-2": 1}, at=AT, reason="out of stock")
    assert order.status is S.PARTIALLY_CANCELLED
    assert order.stage is S.PAYMENT_AUTHORIZED
    with pytest.raises(InvalidTransition):
        order.confirm(at=AT)
    order.release_to_fulfilment(at=AT)
    order.confirm_shipment({"l-1": 2}, at=AT)
    assert order.status is S.SHIPPED


def test_cancelling_the_last_open_line_cancels_the_order() -> None:
    order = make_order()
    order.cancel_lines({"l-1": 2}, at=AT, reason="")
    assert order.status is S.PARTIALLY_CANCELLED
    order.cancel_lines({"l-2": 1}, at=AT, reason="")
    assert order.status is S.CANCELLED
    assert [line.status for line in order.lines] == [LineStatus.CANCELLED] * 2


def test_totals_are_recomputed_from_lines_after_partial_cancellation() -> None:
    order = make_order()
    totals = order.totals
    # SKU-A: 2 x 10.00, promo 8.00, 19% tax; SKU-B: 1 x 5.00, 7% tax; tax included.
    assert (totals.subtotal, totals.discount, totals.tax, totals.total) == (
        Decimal("25.00"),
        Decimal("4.00"),
        Decimal("2.88"),
        Decimal("21.00"),
    )
    order.cancel_lines({"l-1": 1}, at=AT, reason="")
    totals = order.totals
    assert (totals.subtotal, totals.discount, totals.tax, totals.total) == (
        Decimal("15.00"),
        Decimal("2.00"),
        Decimal("1.61"),
        Decimal("13.00"),
    )
    assert order.lines[0].line_total == Decimal("8.00")


def test_refund_is_the_promotional_price_actually_paid() -> None:
    order = reach(S.REFUNDED)  # one unit of SKU-A returned: listed 10.00, paid 8.00
    assert order.totals.refunded == Decimal("8.00")
    assert order.lines[0].status is LineStatus.SHIPPED
    assert step_events(order)[-2].type == "OrderRefunded"
    assert step_events(order)[-2].payload["amount"] == "8.00"


def test_partial_return_receipt_keeps_the_order_awaiting_the_rest() -> None:
    order = reach(S.DELIVERED)
    order.request_return({"l-1": 2}, at=AT, reason="")
    order.confirm_return({"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=AT)
    assert order.status is S.RETURN_REQUESTED
    order.confirm_return({"l-1": 1}, disposition=ReturnDisposition.DAMAGED, at=AT)
    assert order.status is S.RETURNED
    assert order.lines[0].status is LineStatus.RETURNED


def test_shipment_replay_with_same_reference_is_a_no_op() -> None:
    order = reach(S.RELEASED_TO_FULFILMENT)
    assert order.confirm_shipment({"l-1": 1}, at=AT, reference="SHP-1")
    events = len(order.changes)
    assert not order.confirm_shipment({"l-1": 1}, at=AT, reference="SHP-1")
    assert order.lines[0].quantity_shipped == 1
    assert len(order.changes) == events


def test_fraud_hold_is_left_by_release_not_by_authorization() -> None:
    order = reach(S.FRAUD_HOLD)
    with pytest.raises(InvalidTransition):
        order.authorize_payment(at=AT)
    order.release_fraud_hold(at=AT, reason="reviewed")
    assert order.status is S.PAYMENT_AUTHORIZED
    with pytest.raises(InvalidTransition):
        order.release_fraud_hold(at=AT)


@pytest.mark.parametrize(
    ("quantities", "message"),
    [
        ({}, "at least one line"),
        ({"l-1": 0}, "positive"),
        ({"l-1": -1}, "positive"),
        ({"nope": 1}, "no line"),
        ({"l-1": 3}, "units left to ship"),
    ],
)
def test_shipment_quantities_must_be_known_lines_within_what_is_left(
    quantities: dict[str, int], message: str
) -> None:
    order = reach(S.RELEASED_TO_FULFILMENT)
    with pytest.raises(InvalidOrderInput, match=message) as raised:
        order.confirm_shipment(quantities, at=AT)
    assert raised.value.code == "BAD_USER_INPUT"


def test_returns_cannot_exceed_shipped_units() -> None:
    order = reach(S.DELIVERED)
    with pytest.raises(InvalidOrderInput, match="can be returned"):
        order.request_return({"l-2": 2}, at=AT, reason="")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"channel": "Fax Machine"}, "not a channel name"),
        ({"currency": "euro"}, "currency"),
        ({"idempotency_key": ""}, "idempotency key"),
        ({"lines": []}, "at least one line"),
        ({"lines": [NewLine("S", -1, Decimal(1))]}, "quantity"),
        ({"lines": [NewLine("S", 1, Decimal(-1))]}, "zero or more"),
        ({"lines": [NewLine("S", 1, Decimal(1), Decimal(2))]}, "exceeds"),
        ({"lines": [NewLine("", 1, Decimal(1))]}, "SKU"),
        ({"lines": [NewLine("S", 1, Decimal(1), tax_rate=Decimal(2))]}, "tax rate"),
        ({"lines": [NewLine("S", 1, Decimal("NaN"))]}, "zero or more"),
    ],
)
def test_new_order_rejects_bad_input(change: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "order_id": "o",
        "idempotency_key": "k",
        "channel": "web",
        "customer_reference": "c",
        "fulfilment": Fulfilment(FulfilmentType.PICKUP_AT_STORE, "STORE-BERLIN"),
        "currency": "EUR",
        "lines": [NewLine("S", 1, Decimal(1))],
        "at": AT,
        "correlation_id": None,
        **change,
    }
    values["line_ids"] = [str(i) for i in range(len(values["lines"]))]  # type: ignore[arg-type]
    with pytest.raises(InvalidOrderInput, match=message):
        new_order(**values)  # type: ignore[arg-type]


def test_events_carry_the_order_id_as_partition_key_and_the_step_correlation_id() -> None:
    order = make_order()
    created = created_event(order)
    assert (created.type, created.partition_key, created.correlation_id) == (
        "OrderCreated",
        "o-1",
        "corr-1",
    )
    assert created.payload["number"] == "RG-0000042"
    assert created.payload["totals"]["total"] == "21.00"
    order.step_correlation_id = "corr-2"
    order.confirm(at=AT)
    assert [(e.type, e.partition_key, e.correlation_id) for e in step_events(order)] == [
        ("OrderStatusChanged", "o-1", "corr-2")
    ]
    assert order.history[-1].correlation_id == "corr-2"
    assert step_events(order)[0].payload["from"] == "PENDING"
    assert step_events(order)[0].payload["locationId"] == "DC-NORTH"


def test_history_round_trips_through_its_stored_form() -> None:
    order = reach(S.SHIPPED)
    assert [HistoryEntry.from_dict(e.to_dict()) for e in order.history] == order.history


def test_every_event_the_lifecycle_records_is_a_known_event_type() -> None:
    order = reach(S.REFUNDED)
    cancelled = reach(S.PARTIALLY_CANCELLED)
    recorded = {e.type for e in step_events(order) + step_events(cancelled)} | {
        created_event(order).type
    }
    assert recorded == set(EVENT_TYPES)


def test_refund_replay_with_same_reference_refunds_nothing_more() -> None:
    order = reach(S.RETURNED)
    assert order.refund(at=AT, reference="RF-1") == Decimal("8.00")
    events = len(order.changes)
    assert order.refund(at=AT, reference="RF-1") == Decimal("0.00")
    assert (order.status, order.totals.refunded, len(order.changes)) == (
        S.REFUNDED,
        Decimal("8.00"),
        events,
    )


@pytest.mark.parametrize(
    ("total", "quantity", "unit"),
    [
        ("29.97", 4, "7.493"),  # buy 2 get 1 on 4 units at 9.99
        ("20.00", 3, "6.667"),
        ("19.98", 3, "6.66"),
        ("49.99", 1, "49.99"),
        ("1000.00", 333, "3.003"),
    ],
)
def test_a_line_total_spread_over_its_units_gives_the_total_back(
    total: str, quantity: int, unit: str
) -> None:
    spread_unit = spread(Decimal(total), quantity)

    assert str(spread_unit) == unit
    assert money(spread_unit * quantity) == Decimal(total)
