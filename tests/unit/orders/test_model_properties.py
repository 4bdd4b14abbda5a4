"""The order's money and quantity invariants, over any sequence of lifecycle steps.

A reference written here, independently of the model, says what each step must do: which
steps the order must refuse (and with which error), how every line's quantities move,
which events the step records, and what the totals and refunds come to. Hypothesis then
plays random orders through random steps and compares, and the examples below pin down
the multi-step flows (two returns, two refunds, cancel then totals) by their figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domains.orders.creation import new_order
from domains.orders.errors import InvalidOrderInput, InvalidTransition
from domains.orders.model import (
    TRANSITIONS,
    Fulfilment,
    FulfilmentType,
    LineStatus,
    NewLine,
    Order,
    OrderLine,
    OrderStatus,
    ReturnDisposition,
    request_fingerprint,
    spread,
    unit_amount,
)
from kernel.actors import Actor

S = OrderStatus
AT = datetime(2026, 11, 1, 12, tzinfo=UTC)
CENT = Decimal("0.01")
PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def order_of(*lines: NewLine) -> Order:
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
    order.sequence = 7
    return order


def delivered(order: Order, shipped: dict[str, int] | None = None) -> Order:
    order.confirm(at=AT)
    order.authorize_payment(at=AT)
    order.release_to_fulfilment(at=AT)
    order.confirm_shipment(shipped or {line.id: line.quantity for line in order.lines}, at=AT)
    order.confirm_delivery(at=AT)
    return order


# -- the reference ----------------------------------------------------------------------


@dataclass
class Counts:
    cancelled: int = 0
    shipped: int = 0
    requested: int = 0
    returned: int = 0
    refunded: int = 0


@dataclass
class Reference:
    """What the order must look like: its status, its stage and each line's counts."""

    lines: list[NewLine]
    status: OrderStatus = S.PENDING
    stage: OrderStatus = S.PENDING
    counts: dict[str, Counts] = field(default_factory=dict)
    references: set[str] = field(default_factory=set)
    refunded_total: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        self.counts = {f"l-{i}": Counts() for i in range(1, len(self.lines) + 1)}

    def line(self, line_id: str) -> NewLine:
        return self.lines[int(line_id.split("-")[1]) - 1]

    def allows(self, to: OrderStatus) -> bool:
        return to in TRANSITIONS[self.stage]

    def move(self, to: OrderStatus) -> None:
        self.status = to
        if to is not S.PARTIALLY_CANCELLED:
            self.stage = to

    def active(self, line_id: str) -> int:
        return self.line(line_id).quantity - self.counts[line_id].cancelled

    def paid(self, line_id: str, quantity: int) -> Decimal:
        new = self.line(line_id)
        promotional = new.promotional_unit_price
        return cents((new.unit_price if promotional is None else promotional) * quantity)


def expected_refusal(
    reference: Reference,
    quantities: dict[str, int],
    target: OrderStatus,
    room: dict[str, int],
) -> type[Exception] | None:
    """The error a quantity step must raise, in the order the model checks: the input,
    then the transition, then each line's room."""
    if not quantities or any(
        q <= 0 or line_id not in reference.counts for line_id, q in quantities.items()
    ):
        return InvalidOrderInput
    if not reference.allows(target):
        return InvalidTransition
    if any(q > room[line_id] for line_id, q in quantities.items()):
        return InvalidOrderInput
    return None


def expected_line_status(reference: Reference, line_id: str) -> LineStatus:
    counts, active = reference.counts[line_id], reference.active(line_id)
    if active == 0:
        return LineStatus.CANCELLED
    if counts.requested > counts.returned:
        return LineStatus.RETURN_REQUESTED
    if counts.returned == active:
        return LineStatus.RETURNED
    if counts.shipped == active:
        return LineStatus.SHIPPED
    if counts.shipped > 0:
        return LineStatus.PARTIALLY_SHIPPED
    return LineStatus.OPEN


def check_matches(order: Order, reference: Reference) -> None:
    """The order agrees with the reference, and the invariants hold."""
    assert order.status is reference.status
    assert order.stage is reference.stage
    subtotal = discount = tax = refunded = Decimal("0.00")
    for line in order.lines:
        counts = reference.counts[line.id]
        new = reference.line(line.id)
        assert (
            line.quantity_cancelled,
            line.quantity_shipped,
            line.quantity_return_requested,
            line.quantity_returned,
            line.quantity_refunded,
        ) == (counts.cancelled, counts.shipped, counts.requested, counts.returned, counts.refunded)
        # The invariants the money rests on.
        assert line.quantity_cancelled + line.quantity_shipped <= line.quantity
        assert line.quantity_returned <= line.quantity_return_requested <= line.quantity_shipped
        assert line.quantity_refunded <= line.quantity_returned
        active = reference.active(line.id)
        assert line.active_quantity == active
        assert line.unshipped_quantity == active - counts.shipped >= 0
        assert line.returnable_quantity == counts.shipped - counts.requested >= 0
        line_subtotal = cents(new.unit_price * active)
        line_total = reference.paid(line.id, active)
        line_tax = line_total - cents(line_total / (1 + new.tax_rate))
        assert (line.subtotal, line.line_total, line.discount, line.tax) == (
            line_subtotal,
            line_total,
            line_subtotal - line_total,
            line_tax,
        )
        assert line.status is expected_line_status(reference, line.id)
        subtotal += line_subtotal
        discount += line_subtotal - line_total
        tax += line_tax
        refunded += reference.paid(line.id, counts.refunded)
    totals = order.totals
    assert (totals.currency, totals.subtotal, totals.discount, totals.tax) == (
        "EUR",
        subtotal,
        discount,
        tax,
    )
    assert totals.total == subtotal - discount
    assert totals.refunded == refunded == reference.refunded_total
    # Never more refunded than was paid for what came back.
    paid_for_returned = sum(
        (reference.paid(line.id, line.quantity_returned) for line in order.lines),
        Decimal("0.00"),
    )
    assert totals.refunded <= paid_for_returned


# -- the steps ----------------------------------------------------------------------------

LINE_IDS = st.sampled_from(["l-1", "l-2", "l-3", "l-9"])
QUANTITIES = st.dictionaries(LINE_IDS, st.integers(-1, 4), max_size=3)
REFERENCES = st.sampled_from(["", "DOC-1", "DOC-2", "DOC-3"])

NEW_LINES = st.lists(
    st.builds(
        NewLine,
        sku=st.sampled_from(["SKU-A", "SKU-B", "SKU-C"]),
        quantity=st.integers(1, 4),
        unit_price=st.decimals("0.01", "99.99", places=2),
        promotional_unit_price=st.none(),
        tax_rate=st.sampled_from([Decimal("0"), Decimal("0.07"), Decimal("0.19")]),
    ),
    min_size=1,
    max_size=3,
)


def promotional(lines: list[NewLine], discounts: list[Decimal]) -> list[NewLine]:
    return [
        NewLine(
            line.sku, line.quantity, line.unit_price, cents(line.unit_price * share), line.tax_rate
        )
        for line, share in zip(lines, discounts, strict=False)
    ] + lines[len(discounts) :]


STEPS: st.SearchStrategy[tuple[str, dict[str, int], str]] = st.one_of(
    st.tuples(
        st.sampled_from(
            [
                "confirm",
                "authorize",
                "hold",
                "release_hold",
                "release",
                "deliver",
                "cancel",
                "refund",
            ]
        ),
        st.just({}),
        REFERENCES,
    ),
    st.tuples(
        st.sampled_from(["ship", "cancel_lines", "request_return", "receive"]),
        QUANTITIES,
        REFERENCES,
    ),
)


def play(
    order: Order, reference: Reference, step: tuple[str, dict[str, int], str], at: datetime
) -> None:
    """Take one step on the order and on the reference; refusals change nothing."""
    name, quantities, doc = step
    before_changes = len(order.changes)
    before_history = len(order.history)
    before_status = reference.status
    expected: type[Exception] | None
    call: Callable[[], object]
    outcome: Callable[[], None]
    events: list[str] = []

    def room(get: object) -> dict[str, int]:
        return {line_id: get(line_id) for line_id in reference.counts}  # type: ignore[operator]

    simple = {
        "confirm": (S.CONFIRMED, lambda: order.confirm(at=at)),
        "authorize": (S.PAYMENT_AUTHORIZED, lambda: order.authorize_payment(at=at)),
        "hold": (S.FRAUD_HOLD, lambda: order.hold_for_fraud(at=at, reason="velocity")),
        "release": (S.RELEASED_TO_FULFILMENT, lambda: order.release_to_fulfilment(at=at)),
        "deliver": (S.DELIVERED, lambda: order.confirm_delivery(at=at)),
    }
    if name in simple:
        target, action = simple[name]
        allowed = reference.allows(target)
        if name == "authorize" and reference.status is S.FRAUD_HOLD:
            allowed = False
        expected = None if allowed else InvalidTransition
        outcome = lambda: reference.move(target)  # noqa: E731
        call = action
    elif name == "release_hold":
        allowed = reference.status is S.FRAUD_HOLD
        expected = None if allowed else InvalidTransition
        outcome = lambda: reference.move(S.PAYMENT_AUTHORIZED)  # noqa: E731
        call = lambda: order.release_fraud_hold(at=at)  # noqa: E731
    elif name == "cancel":
        expected = None if reference.allows(S.CANCELLED) else InvalidTransition
        released = {i: reference.active(i) for i in reference.counts if reference.active(i)}
        events = ["OrderLinesCancelled"]

        def outcome() -> None:
            for line_id, quantity in released.items():
                reference.counts[line_id].cancelled += quantity
            reference.move(S.CANCELLED)

        call = lambda: order.cancel(at=at, reason="customer")  # noqa: E731
    elif name == "cancel_lines":
        expected = expected_refusal(
            reference, quantities, S.PARTIALLY_CANCELLED, room(reference.active)
        )
        events = ["OrderLinesCancelled"]

        def outcome() -> None:
            for line_id, quantity in quantities.items():
                reference.counts[line_id].cancelled += quantity
            whole = all(reference.active(i) == 0 for i in reference.counts)
            reference.move(S.CANCELLED if whole else S.PARTIALLY_CANCELLED)

        call = lambda: order.cancel_lines(quantities, at=at, reason="")  # noqa: E731
    elif name == "ship":
        expected = expected_refusal(
            reference,
            quantities,
            S.PARTIALLY_SHIPPED,
            room(lambda i: reference.active(i) - reference.counts[i].shipped),
        )
        events = ["OrderLinesShipped"]

        def outcome() -> None:
            for line_id, quantity in quantities.items():
                reference.counts[line_id].shipped += quantity
            done = all(reference.active(i) == reference.counts[i].shipped for i in reference.counts)
            reference.move(S.SHIPPED if done else S.PARTIALLY_SHIPPED)

        call = lambda: order.confirm_shipment(quantities, at=at, reference=doc)  # noqa: E731
    elif name == "request_return":
        expected = expected_refusal(
            reference,
            quantities,
            S.RETURN_REQUESTED,
            room(lambda i: reference.counts[i].shipped - reference.counts[i].requested),
        )
        events = ["OrderReturnRequested"]

        def outcome() -> None:
            for line_id, quantity in quantities.items():
                reference.counts[line_id].requested += quantity
            reference.move(S.RETURN_REQUESTED)

        call = lambda: order.request_return(quantities, at=at, reason="")  # noqa: E731
    elif name == "receive":
        expected = expected_refusal(
            reference,
            quantities,
            S.RETURNED,
            room(lambda i: reference.counts[i].requested - reference.counts[i].returned),
        )
        events = ["OrderReturnReceived"]

        def outcome() -> None:
            for line_id, quantity in quantities.items():
                reference.counts[line_id].returned += quantity
            awaiting = any(c.requested > c.returned for c in reference.counts.values())
            reference.move(S.RETURN_REQUESTED if awaiting else S.RETURNED)

        call = lambda: order.confirm_return(  # noqa: E731
            quantities, disposition=ReturnDisposition.RESTOCK, at=at, reference=doc
        )
    else:  # refund
        expected = None if reference.allows(S.REFUNDED) else InvalidTransition
        due = {
            i: c.returned - c.refunded
            for i, c in reference.counts.items()
            if c.returned > c.refunded
        }
        amount = sum((reference.paid(i, q) for i, q in due.items()), Decimal("0.00"))
        events = ["OrderRefunded"]

        def outcome() -> None:
            for line_id, quantity in due.items():
                reference.counts[line_id].refunded += quantity
            reference.refunded_total += amount
            reference.move(S.REFUNDED)

        call = lambda: order.refund(at=at, reference=doc)  # noqa: E731

    replay = name in ("ship", "receive", "refund") and doc in reference.references
    if replay:
        # A document applied before changes nothing, whatever else it says.
        result = call()
        assert result in (False, Decimal("0.00"))
        assert len(order.changes) == before_changes
        assert len(order.history) == before_history
        return
    if expected is not None:
        with pytest.raises(expected):
            call()
        assert len(order.changes) == before_changes
        assert len(order.history) == before_history
        return
    result = call()
    outcome()
    if name in ("ship", "receive", "refund") and doc:
        reference.references.add(doc)
    if name in ("ship", "receive"):
        assert result is True
    if name == "refund":
        assert result == amount
    # The step records its fact, then the status change when there is one.
    recorded = order.changes[before_changes:]
    status_changed = reference.status is not before_status
    assert [change.TYPE for change, _ in recorded] == events + (
        ["OrderStatusChanged"] if status_changed else []
    )
    assert all(moment == at for _, moment in recorded)
    assert order.updated_at == at
    if status_changed:
        change = recorded[-1][0]
        assert (change.from_status, change.to_status) == (before_status, reference.status)  # type: ignore[attr-defined]
        entry = order.history[-1]
        assert (entry.from_status, entry.to_status, entry.at) == (
            before_status,
            reference.status,
            at,
        )
        assert len(order.history) == before_history + 1
    else:
        assert len(order.history) == before_history
    for change, _ in recorded[: len(events)]:
        assert change.order_id == "o-1"
        assert change.location_id == "DC-NORTH"
        assert change.number == "RG-0000007"
        if name in ("ship", "cancel_lines", "request_return", "receive"):
            assert {q.line_id: q.quantity for q in change.lines} == quantities  # type: ignore[attr-defined]
        if name == "cancel":
            assert {q.line_id: q.quantity for q in change.lines} == released  # type: ignore[attr-defined]
        if name == "refund":
            assert change.amount == amount  # type: ignore[attr-defined]
            assert {q.line_id: q.quantity for q in change.lines} == due  # type: ignore[attr-defined]


# How far along the happy path an order starts before the random steps: random steps
# alone seldom get past payment, so every stage gets its share of them.
START = [
    ("confirm", {}, ""),
    ("authorize", {}, ""),
    ("release", {}, ""),
    ("ship", {"l-1": 1}, "SHP-0"),
    ("ship", {"l-1": 9, "l-2": 9, "l-3": 9}, ""),  # the rest: trimmed to what is left
    ("deliver", {}, ""),
    ("request_return", {"l-1": 1}, ""),
    ("receive", {"l-1": 1}, "RET-0"),
    ("refund", {}, "RF-0"),
]


@PROPERTIES
@given(
    lines=NEW_LINES,
    discounts=st.lists(st.sampled_from([Decimal("0.5"), Decimal("0.8"), Decimal("1")]), max_size=3),
    start=st.integers(0, len(START)),
    steps=st.lists(STEPS, max_size=25),
)
def test_any_sequence_of_steps_keeps_quantities_totals_and_refunds_right(
    lines: list[NewLine],
    discounts: list[Decimal],
    start: int,
    steps: list[tuple[str, dict[str, int], str]],
) -> None:
    lines = promotional(lines, discounts)
    order = order_of(*lines)
    reference = Reference(lines)
    check_matches(order, reference)
    at = AT
    for name, quantities, doc in START[:start]:
        if name == "ship":
            left = {i: reference.active(i) - c.shipped for i, c in reference.counts.items()}
            quantities = {i: min(q, left[i]) for i, q in quantities.items() if left.get(i)}
        at += timedelta(minutes=1)
        play(order, reference, (name, quantities, doc), at)
    check_matches(order, reference)
    for step in steps:
        at += timedelta(minutes=1)
        play(order, reference, step, at)
        check_matches(order, reference)


# A happy path with some detours, so that returns and refunds come up often.
HAPPY: list[tuple[str, dict[str, int], str]] = [
    ("confirm", {}, ""),
    ("authorize", {}, ""),
    ("release", {}, ""),
]


@PROPERTIES
@given(
    lines=NEW_LINES,
    cancelled=st.dictionaries(st.sampled_from(["l-1", "l-2"]), st.integers(1, 2), max_size=1),
    returns=st.lists(
        st.tuples(
            st.sampled_from(["request_return", "receive", "refund", "cancel_lines", "ship"]),
            QUANTITIES,
            REFERENCES,
        ),
        max_size=12,
    ),
)
def test_returns_and_refunds_after_delivery_never_pay_out_more_than_came_back(
    lines: list[NewLine],
    cancelled: dict[str, int],
    returns: list[tuple[str, dict[str, int], str]],
) -> None:
    order = order_of(*lines)
    reference = Reference(lines)
    at = AT
    steps = [*HAPPY[:2], ("cancel_lines", cancelled, ""), HAPPY[2]]
    for step in steps:
        at += timedelta(minutes=1)
        play(order, reference, step, at)
    shipped = {i: reference.active(i) - reference.counts[i].shipped for i in reference.counts}
    for step in [("ship", {i: q for i, q in shipped.items() if q}, "SHP-1"), ("deliver", {}, "")]:
        at += timedelta(minutes=1)
        play(order, reference, step, at)
    for step in returns:
        at += timedelta(minutes=1)
        play(order, reference, step, at)
        check_matches(order, reference)


# -- the flows, by their figures ------------------------------------------------------------


def test_two_returns_two_refunds_each_pay_the_units_that_came_back() -> None:
    # 3 units listed at 10.00, sold at 8.00.
    order = delivered(order_of(NewLine("SKU-A", 3, Decimal("10.00"), Decimal("8.00"))))
    order.request_return({"l-1": 1}, at=AT, reason="size")
    order.confirm_return({"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=AT)
    assert order.refund(at=AT, reference="RF-1") == Decimal("8.00")
    order.request_return({"l-1": 1}, at=AT, reason="colour")
    order.confirm_return({"l-1": 1}, disposition=ReturnDisposition.DAMAGED, at=AT)
    assert order.refund(at=AT, reference="RF-2") == Decimal("8.00")
    assert order.totals.refunded == Decimal("16.00")
    assert order.lines[0].quantity_refunded == 2
    assert order.lines[0].status is LineStatus.SHIPPED
    assert order.status is S.REFUNDED


def test_a_return_request_beyond_the_shipped_units_is_refused_on_the_third_request() -> None:
    order = delivered(order_of(NewLine("SKU-A", 3, Decimal("10.00"))))
    order.request_return({"l-1": 1}, at=AT, reason="")
    order.request_return({"l-1": 1}, at=AT, reason="")
    with pytest.raises(InvalidOrderInput, match="has 1 units that can be returned, not 2"):
        order.request_return({"l-1": 2}, at=AT, reason="")
    order.request_return({"l-1": 1}, at=AT, reason="")
    assert order.lines[0].quantity_return_requested == 3
    assert order.lines[0].returnable_quantity == 0
    with pytest.raises(InvalidOrderInput, match="has 0 units"):
        order.request_return({"l-1": 1}, at=AT, reason="")


def test_only_shipped_units_can_be_returned_after_a_partial_shipment() -> None:
    order = order_of(NewLine("SKU-A", 4, Decimal("10.00")))
    order.confirm(at=AT)
    order.authorize_payment(at=AT)
    order.release_to_fulfilment(at=AT)
    order.confirm_shipment({"l-1": 1}, at=AT)
    order.confirm_shipment({"l-1": 3}, at=AT)
    order.confirm_delivery(at=AT)
    with pytest.raises(InvalidOrderInput, match="has 4 units that can be returned, not 5"):
        order.request_return({"l-1": 5}, at=AT, reason="")


def test_cancelling_the_whole_order_cancels_every_unit_and_zeroes_the_totals() -> None:
    order = order_of(
        NewLine("SKU-A", 2, Decimal("10.00"), Decimal("8.00"), Decimal("0.19")),
        NewLine("SKU-B", 3, Decimal("5.00"), None, Decimal("0.07")),
    )
    order.cancel_lines({"l-2": 1}, at=AT, reason="out of stock")
    assert (order.totals.subtotal, order.totals.total) == (Decimal("30.00"), Decimal("26.00"))
    order.cancel(at=AT, reason="customer")
    assert [(line.quantity, line.quantity_cancelled) for line in order.lines] == [(2, 2), (3, 3)]
    assert [line.active_quantity for line in order.lines] == [0, 0]
    assert [line.status for line in order.lines] == [LineStatus.CANCELLED] * 2
    totals = order.totals
    assert (totals.subtotal, totals.discount, totals.tax, totals.total, totals.refunded) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    cancelled = order.changes[-2][0]
    assert cancelled.TYPE == "OrderLinesCancelled"
    assert [(q.line_id, q.quantity) for q in cancelled.lines] == [("l-1", 2), ("l-2", 2)]  # type: ignore[attr-defined]
    assert cancelled.whole_order is True  # type: ignore[attr-defined]


def test_a_fraud_hold_that_was_never_placed_cannot_be_released() -> None:
    for steps in ([], ["confirm"], ["confirm", "authorize_payment"]):
        order = order_of(NewLine("SKU-A", 1, Decimal("10.00")))
        for step in steps:
            getattr(order, step)(at=AT)
        status = order.status
        with pytest.raises(InvalidTransition, match="not on hold"):
            order.release_fraud_hold(at=AT)
        assert order.status is status


def test_a_held_order_is_released_to_payment_authorized_with_its_reason() -> None:
    order = order_of(NewLine("SKU-A", 1, Decimal("10.00")))
    order.confirm(at=AT)
    order.hold_for_fraud(at=AT, reason="")
    assert order.history[-1].reason == "fraud hold"
    order.release_fraud_hold(at=AT + timedelta(hours=1))
    assert order.status is S.PAYMENT_AUTHORIZED
    assert (order.history[-1].reason, order.updated_at) == (
        "fraud hold released",
        AT + timedelta(hours=1),
    )


def test_a_return_receipt_takes_no_more_units_than_are_awaited() -> None:
    order = delivered(order_of(NewLine("SKU-A", 3, Decimal("10.00"))))
    with pytest.raises(InvalidTransition):
        order.confirm_return({"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=AT)
    order.request_return({"l-1": 2}, at=AT, reason="")
    order.confirm_return({"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=AT)
    with pytest.raises(InvalidOrderInput, match="awaits 1 returned units, not 2"):
        order.confirm_return({"l-1": 2}, disposition=ReturnDisposition.RESTOCK, at=AT)
    assert order.lines[0].quantity_returned == 1


def test_a_cancellation_takes_no_more_units_than_are_left() -> None:
    order = order_of(NewLine("SKU-A", 3, Decimal("10.00")), NewLine("SKU-B", 1, Decimal("1.00")))
    with pytest.raises(InvalidOrderInput, match="has 3 units left to cancel, not 4"):
        order.cancel_lines({"l-1": 4}, at=AT, reason="")
    order.cancel_lines({"l-1": 2}, at=AT, reason="")
    with pytest.raises(InvalidOrderInput, match="has 1 units left to cancel, not 2"):
        order.cancel_lines({"l-1": 2}, at=AT, reason="")
    assert (order.lines[0].active_quantity, order.totals.total) == (1, Decimal("11.00"))


def test_shipped_or_held_orders_refuse_a_cancellation_of_lines_and_keep_them() -> None:
    shipping = order_of(NewLine("SKU-A", 3, Decimal("10.00")))
    shipping.confirm(at=AT)
    shipping.authorize_payment(at=AT)
    shipping.release_to_fulfilment(at=AT)
    shipping.confirm_shipment({"l-1": 1}, at=AT)
    with pytest.raises(InvalidTransition):
        shipping.cancel_lines({"l-1": 1}, at=AT, reason="")
    assert shipping.lines[0].quantity_cancelled == 0
    held = order_of(NewLine("SKU-A", 1, Decimal("10.00")))
    held.confirm(at=AT)
    held.hold_for_fraud(at=AT, reason="velocity")
    with pytest.raises(InvalidTransition):
        held.cancel_lines({"l-1": 1}, at=AT, reason="")  # all of it: cancel the order instead
    assert (held.status, held.lines[0].quantity_cancelled) == (S.FRAUD_HOLD, 0)


def test_a_replayed_return_receipt_receives_nothing_more() -> None:
    order = delivered(order_of(NewLine("SKU-A", 2, Decimal("10.00"))))
    order.request_return({"l-1": 2}, at=AT, reason="")
    assert order.confirm_return(
        {"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=AT, reference="RET-1"
    )
    assert not order.confirm_return(
        {"l-1": 1}, disposition=ReturnDisposition.RESTOCK, at=AT, reference="RET-1"
    )
    assert order.lines[0].quantity_returned == 1
    assert order.status is S.RETURN_REQUESTED
    assert order.applied_references == ["RET-1"]


def test_steps_without_a_reference_are_never_taken_for_replays() -> None:
    order = order_of(NewLine("SKU-A", 2, Decimal("10.00")))
    order.confirm(at=AT)
    order.authorize_payment(at=AT)
    order.release_to_fulfilment(at=AT)
    assert order.confirm_shipment({"l-1": 1}, at=AT)
    assert order.confirm_shipment({"l-1": 1}, at=AT)
    assert order.applied_references == []
    assert order.status is S.SHIPPED


def test_reasons_default_to_the_step_and_keep_the_callers() -> None:
    order = order_of(NewLine("SKU-A", 2, Decimal("10.00")), NewLine("SKU-B", 1, Decimal("1.00")))
    order.confirm(at=AT, reason="")
    order.cancel_lines({"l-2": 1}, at=AT, reason="")
    order.cancel(at=AT, reason="")
    assert [entry.reason for entry in order.history] == [
        "created",
        "confirmed",
        "lines cancelled",
        "cancelled",
    ]
    order = order_of(NewLine("SKU-A", 2, Decimal("10.00")))
    order.confirm(at=AT, reason="phone")
    order.cancel(at=AT, reason="customer")
    assert [entry.reason for entry in order.history][1:] == ["phone", "customer"]


def test_history_names_the_actor_and_correlation_of_each_step() -> None:
    order = order_of(NewLine("SKU-A", 1, Decimal("10.00")))
    order.step_actor = Actor("console", "ana")
    order.step_correlation_id = "corr-9"
    order.confirm(at=AT)
    entry = order.history[-1]
    assert (entry.actor, entry.correlation_id, entry.from_status) == (
        Actor("console", "ana"),
        "corr-9",
        S.PENDING,
    )
    assert entry.to_dict()["actor"] == {"client": "console", "subject": "ana"}


def test_allowed_transitions_follow_the_stage_of_a_partially_cancelled_order() -> None:
    order = order_of(NewLine("SKU-A", 2, Decimal("10.00")))
    assert order.allowed_transitions() == TRANSITIONS[S.PENDING]
    order.confirm(at=AT)
    order.cancel_lines({"l-1": 1}, at=AT, reason="")
    assert order.allowed_transitions() == TRANSITIONS[S.CONFIRMED]


def test_number_and_fingerprint_identify_the_order_and_its_request() -> None:
    order = order_of(NewLine("SKU-A", 1, Decimal("10.00")))
    assert order.number == "RG-0000007"
    order.sequence = None
    assert order.number == ""
    fingerprint = request_fingerprint(
        channel="web",
        currency="EUR",
        fulfilment=Fulfilment(FulfilmentType.SHIP_FROM_DC, "DC-NORTH"),
        customer_reference="cust-1",
        lines=[NewLine("SKU-A", 1, Decimal("10.00"))],
    )
    assert order.answers(fingerprint)
    order.request_fingerprint = fingerprint
    assert order.answers(fingerprint)
    assert not order.answers("other")


def test_a_line_that_does_not_exist_is_named_in_the_error() -> None:
    order = order_of(NewLine("SKU-A", 1, Decimal("10.00")))
    assert order.line("l-1").sku == "SKU-A"
    with pytest.raises(InvalidOrderInput, match="'l-2'") as raised:
        order.line("l-2")
    assert raised.value.details == {"line_id": "l-2"}


@pytest.mark.parametrize("quantity", [True, 1.0, "1"])
def test_quantities_must_be_whole_numbers(quantity: object) -> None:
    order = order_of(NewLine("SKU-A", 2, Decimal("10.00")))
    with pytest.raises(InvalidOrderInput, match="positive whole numbers") as raised:
        order.cancel_lines({"l-1": quantity}, at=AT, reason="")  # type: ignore[dict-item]
    assert raised.value.details == {"line_id": "l-1"}


@PROPERTIES
@given(total=st.decimals("0.01", "10000.00", places=2), quantity=st.integers(1, 500))
def test_a_spread_unit_price_gives_the_line_total_back(total: Decimal, quantity: int) -> None:
    unit = spread(total, quantity)
    assert cents(unit * quantity) == total
    assert unit == unit_amount(unit)
    assert abs(unit - total / quantity) < Decimal("0.01")


@pytest.mark.parametrize(
    ("value", "unit"),
    [("8.00", "8.00"), ("7.4925", "7.4925"), ("6.66666666666", "6.6666666667"), ("8", "8.00")],
)
def test_a_unit_amount_keeps_cents_or_the_places_it_needs(value: str, unit: str) -> None:
    assert str(unit_amount(Decimal(value))) == unit


def test_line_status_follows_its_units_through_return() -> None:
    line = OrderLine("l-1", 1, "SKU-A", 3, Decimal("1.00"), Decimal("1.00"), Decimal("0"))
    seen = [line.status]
    for field_name, value in [
        ("quantity_shipped", 1),
        ("quantity_shipped", 3),
        ("quantity_return_requested", 3),
        ("quantity_returned", 3),
        ("quantity_cancelled", 3),
    ]:
        setattr(line, field_name, value)
        seen.append(line.status)
    assert seen == [
        LineStatus.OPEN,
        LineStatus.PARTIALLY_SHIPPED,
        LineStatus.SHIPPED,
        LineStatus.RETURN_REQUESTED,
        LineStatus.RETURNED,
        LineStatus.CANCELLED,
    ]


@pytest.mark.parametrize(
    ("total", "quantity", "unit"),
    [("20.00", 2, "10.00"), ("19.80", 3, "6.60"), ("20.00", 3, "6.667"), ("0.01", 3, "0.003")],
)
def test_a_spread_unit_price_keeps_cents_when_cents_are_enough(
    total: str, quantity: int, unit: str
) -> None:
    assert str(spread(Decimal(total), quantity)) == unit
