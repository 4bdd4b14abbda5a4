"""The order use cases against an in-memory unit of work: creation and its idempotency, each
lifecycle step's status and events, replays, refusals and what gets committed."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar

import pytest

from domains.orders import commands, service
from domains.orders.errors import (
    DuplicateOrder,
    IdempotencyKeyReused,
    InvalidOrderInput,
    InvalidTransition,
    OrderNotFound,
    StepKeyTaken,
    UnknownLocation,
)
from domains.orders.model import LineStatus, NewLine, Order, OrderStatus, ReturnDisposition
from kernel import correlation
from kernel.clock import SettableClock
from kernel.event_types import (
    LineQuantity,
    OrderCreated,
    OrderLinesCancelled,
    OrderLinesShipped,
    OrderRefunded,
    OrderReturnReceived,
    OrderReturnRequested,
    OrderStatusChanged,
)
from kernel.events import Event
from tests.support import TEST_NOW

S = OrderStatus
T = TypeVar("T")


class OrderTable:
    """The committed orders every unit of work on it shares, and the sequence that
    numbers them (a sequence number, once taken, is never given back)."""

    def __init__(self) -> None:
        self.rows: dict[str, Order] = {}
        self.sequence = itertools.count(1)
        # The steps clients made under an idempotency key: key -> (order id, fingerprint).
        self.steps: dict[str, tuple[str, str]] = {}


class FakeOrders:
    """The orders one transaction sees: its snapshot of the table and its own writes.

    Orders go in and come out as copies, as rows do: changing a loaded order changes
    nothing stored until it is saved. The idempotency key is unique across the table,
    orders committed by other transactions since the snapshot included.
    """

    def __init__(self, table: OrderTable, *, insert_gate: asyncio.Event | None = None) -> None:
        self.table = table
        self.rows = dict(table.rows)
        self.written: dict[str, Order] = {}
        self.insert_gate = insert_gate
        self.steps = dict(table.steps)
        self.written_steps: dict[str, tuple[str, str]] = {}

    async def add(self, order: Order) -> None:
        if self.insert_gate is not None:
            await self.insert_gate.wait()
        holders = (*self.table.rows.values(), *self.rows.values())
        if any(o.idempotency_key == order.idempotency_key or o.id == order.id for o in holders):
            raise DuplicateOrder(order.idempotency_key)
        order.sequence = next(self.table.sequence)
        self._write(order)

    async def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        found = self.rows.get(order_id)
        return copy.deepcopy(found) if found is not None else None

    async def get_by_idempotency_key(self, key: str) -> Order | None:
        return self._first(lambda order: order.idempotency_key == key)

    async def get_by_number(self, number: str) -> Order | None:
        return self._first(lambda order: order.number == number)

    async def save(self, order: Order) -> None:
        self._write(order)

    async def step_request(self, key: str) -> str | None:
        found = self.steps.get(key)
        return None if found is None else found[1]

    async def remember_step(
        self,
        key: str,
        order_id: str,
        fingerprint: str,
        *,
        correlation_id: str | None,
        at: datetime,
    ) -> None:
        if key in self.table.steps or key in self.steps:
            raise StepKeyTaken(key)
        self.steps[key] = self.written_steps[key] = (order_id, fingerprint)

    def _write(self, order: Order) -> None:
        stored = copy.deepcopy(order)
        stored.changes = []  # events go to the outbox, not into the order's row
        self.rows[order.id] = stored
        self.written[order.id] = stored

    def _first(self, matches: Callable[[Order], bool]) -> Order | None:
        found = next((order for order in self.rows.values() if matches(order)), None)
        return copy.deepcopy(found) if found is not None else None


class FakeUnitOfWork:
    """Stages writes and events, and keeps them only on commit, like the real one.

    ``table`` is shared with other units of work to play concurrent requests; with an
    ``insert_gate`` the insert of a new order waits until the gate opens.
    """

    def __init__(
        self, table: OrderTable | None = None, *, insert_gate: asyncio.Event | None = None
    ) -> None:
        self.clock = SettableClock(TEST_NOW)
        self.table = table or OrderTable()
        self.events: list[Event] = []
        self.commits = 0
        self.rollbacks = 0
        self._insert_gate = insert_gate
        self._staged = FakeOrders(self.table, insert_gate=insert_gate)
        self._pending: list[Event] = []

    @property
    def orders(self) -> FakeOrders:
        return self._staged

    @property
    def committed(self) -> dict[str, Order]:
        return self.table.rows

    async def __aenter__(self) -> Self:
        self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._begin()

    def record(self, *events: Event) -> None:
        self._pending.extend(events)

    async def add_order(self, order: Order, announced_by: Callable[[Order], Event]) -> None:
        await self.orders.add(order)
        self.record(announced_by(order))
        await self.commit()

    async def commit(self) -> None:
        self.table.rows.update(self._staged.written)
        self.table.steps.update(self._staged.written_steps)
        self.events.extend(self._pending)
        self.commits += 1
        self._begin()

    async def rollback(self) -> None:
        self.rollbacks += 1
        self._begin()

    def _begin(self) -> None:
        self._staged = FakeOrders(self.table, insert_gate=self._insert_gate)
        self._pending = []


def two_lines() -> list[NewLine]:
    """Two units at 10.00 sold at 8.00 (19% tax included), and one at 5.00 (7%)."""
    return [
        NewLine("ST-0001-01", 2, Decimal("10.00"), Decimal("8.00"), Decimal("0.19")),
        NewLine("ST-0002-01", 1, Decimal("5.00"), None, Decimal("0.07")),
    ]


def request(**overrides: Any) -> dict[str, Any]:
    return {
        "idempotency_key": "key-1",
        "channel": "web",
        "fulfilment_type": "SHIP_FROM_DC",
        "location_id": "DC-NORTH",
        "customer_reference": "cust-1",
        "currency": "EUR",
        "lines": two_lines(),
        "correlation_id": "corr-create",
        **overrides,
    }


async def placed(uow: FakeUnitOfWork, *steps: commands.OrderCommand) -> Order:
    """A new order taken through ``steps``."""
    order = (await service.create_order(uow, **request())).order
    for step in steps:
        order = await service.change_order(uow, order.id, step)
    return order


async def delivered(uow: FakeUnitOfWork) -> Order:
    order = await placed(
        uow, commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()
    )
    everything = {line.id: line.quantity for line in order.lines}
    await service.change_order(uow, order.id, commands.ConfirmShipment(everything, "SHP-1"))
    return await service.change_order(uow, order.id, commands.ConfirmDelivery())


async def changed(uow: FakeUnitOfWork, order: Order, step: commands.OrderCommand) -> list[Event]:
    """The events committed by applying ``step``."""
    before = len(uow.events)
    await service.change_order(uow, order.id, step)
    return uow.events[before:]


def status_change(event: Event) -> tuple[str, str, str]:
    change = event.payload_as(OrderStatusChanged)
    return change.from_status, change.to_status, change.reason


async def in_request(correlation_id: str, call: Awaitable[T]) -> T:
    """``call`` served as part of a request whose correlation id is bound (and only there)."""

    async def serve() -> T:
        correlation.bind(correlation_id)
        return await call

    return await asyncio.create_task(serve())


# -- creation ---------------------------------------------------------------------------


async def test_a_new_order_is_created_pending_with_one_order_created_event() -> None:
    uow = FakeUnitOfWork()
    created = await service.create_order(uow, **request(order_id="order-1"))

    assert created.created
    order = created.order
    assert (order.id, order.status, order.number) == ("order-1", S.PENDING, "RG-0000001")
    assert order.created_at == TEST_NOW
    assert [(h.from_status, h.to_status) for h in order.history] == [(None, S.PENDING)]
    assert uow.committed["order-1"].status is S.PENDING
    assert uow.commits == 1
    [event] = uow.events
    assert (event.type, event.partition_key, event.occurred_at) == (
        "OrderCreated",
        "order-1",
        TEST_NOW,
    )
    payload = event.payload_as(OrderCreated)
    assert (payload.order_id, payload.number, payload.idempotency_key) == (
        "order-1",
        "RG-0000001",
        "key-1",
    )
    assert (payload.channel, payload.customer_reference, payload.currency) == (
        "web",
        "cust-1",
        "EUR",
    )
    assert (payload.fulfilment.type, payload.fulfilment.location_id) == (
        "SHIP_FROM_DC",
        "DC-NORTH",
    )
    assert [(line.sku, line.quantity, line.promotional_unit_price) for line in payload.lines] == [
        ("ST-0001-01", 2, Decimal("8.00")),
        ("ST-0002-01", 1, Decimal("5.00")),
    ]
    totals = payload.totals
    assert (totals.subtotal, totals.discount, totals.total) == (
        Decimal("25.00"),
        Decimal("4.00"),
        Decimal("21.00"),
    )
    assert totals.tax == Decimal("2.88")  # 2.55 in 16.00 at 19%, 0.33 in 5.00 at 7%


async def test_orders_are_numbered_in_the_order_they_are_placed() -> None:
    uow = FakeUnitOfWork()
    first = await service.create_order(uow, **request(idempotency_key="key-1"))
    second = await service.create_order(uow, **request(idempotency_key="key-2"))
    assert (first.order.number, second.order.number) == ("RG-0000001", "RG-0000002")
    assert await service.get_order_by_number(uow, "RG-0000002") == second.order
    assert await service.get_order_by_idempotency_key(uow, "key-1") == first.order
    assert await service.get_order(uow, first.order.id) == first.order


async def test_a_repeated_key_with_the_same_request_returns_the_order_and_records_nothing() -> None:
    uow = FakeUnitOfWork()
    first = await service.create_order(uow, **request())
    uow.clock.advance(timedelta(minutes=5))

    again = await service.create_order(uow, **request())

    assert not again.created
    assert again.order == first.order
    assert again.order.created_at == TEST_NOW
    assert [e.type for e in uow.events] == ["OrderCreated"]
    assert uow.commits == 1
    assert list(uow.committed) == [first.order.id]


@pytest.mark.parametrize(
    "change",
    [
        {"customer_reference": "someone else"},
        {"location_id": "DC-SOUTH"},
        {"channel": "app"},
        {"fulfilment_type": "PICKUP_AT_STORE"},
        {"lines": two_lines()[:1]},
        {"lines": [NewLine("ST-0001-01", 3, Decimal("10.00"))]},
    ],
)
async def test_a_key_reused_with_a_different_request_is_refused(change: dict[str, Any]) -> None:
    uow = FakeUnitOfWork()
    first = await service.create_order(uow, **request())

    with pytest.raises(IdempotencyKeyReused) as refused:
        await service.create_order(uow, **request(**change))

    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert refused.value.details == {"idempotency_key": "key-1"}
    assert [e.type for e in uow.events] == ["OrderCreated"]
    assert list(uow.committed) == [first.order.id]


async def test_a_repeat_priced_differently_is_still_the_same_request() -> None:
    uow = FakeUnitOfWork()
    first = await service.create_order(uow, **request())
    repriced = [NewLine(line.sku, line.quantity, Decimal("99.00")) for line in two_lines()]

    again = await service.create_order(uow, **request(lines=repriced))

    assert not again.created
    assert again.order.totals.total == first.order.totals.total == Decimal("21.00")


async def test_a_concurrent_repeat_that_loses_the_insert_returns_the_winner() -> None:
    table = OrderTable()
    gate = asyncio.Event()
    loser = FakeUnitOfWork(table, insert_gate=gate)
    winner = FakeUnitOfWork(table)
    losing = asyncio.create_task(service.create_order(loser, **request()))
    await asyncio.sleep(0)  # the loser's transaction has begun; its insert waits

    won = await service.create_order(winner, **request())
    gate.set()
    lost = await losing

    assert won.created
    assert not lost.created
    assert lost.order == won.order
    assert lost.order.number == "RG-0000001"
    assert loser.rollbacks == 1
    assert (loser.commits, loser.events) == (0, [])
    assert [e.type for e in winner.events] == ["OrderCreated"]
    assert list(table.rows) == [won.order.id]


async def test_a_concurrent_request_that_reuses_the_key_differently_is_refused() -> None:
    table = OrderTable()
    gate = asyncio.Event()
    loser = FakeUnitOfWork(table, insert_gate=gate)
    losing = asyncio.create_task(service.create_order(loser, **request(channel="app")))
    await asyncio.sleep(0)

    await service.create_order(FakeUnitOfWork(table), **request())
    gate.set()

    with pytest.raises(IdempotencyKeyReused):
        await losing
    assert (loser.commits, loser.events) == (0, [])


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"fulfilment_type": "DRONE"}, "Unknown fulfilment 'DRONE'"),
        ({"lines": []}, "An order needs at least one line"),
        ({"channel": "Fax Machine"}, "'Fax Machine' is not a channel name"),
        ({"currency": "eur"}, "A currency is a 3-letter ISO code"),
        ({"lines": [NewLine("ST-0001-01", 0, Decimal("1.00"))]}, "the quantity must be"),
    ],
)
async def test_a_malformed_order_is_bad_input_and_commits_nothing(
    change: dict[str, Any], complaint: str
) -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidOrderInput) as refused:
        await service.create_order(uow, **request(**change))
    assert refused.value.code == "BAD_USER_INPUT"
    assert complaint in refused.value.message
    assert (uow.commits, uow.events, uow.committed) == (0, [], {})


# -- the lifecycle ----------------------------------------------------------------------


async def test_confirming_a_pending_order_records_the_status_change() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow)
    uow.clock.advance(timedelta(minutes=1))

    [event] = await changed(uow, order, commands.Confirm())

    assert status_change(event) == ("PENDING", "CONFIRMED", "confirmed")
    assert (event.partition_key, event.occurred_at) == (order.id, TEST_NOW + timedelta(minutes=1))
    payload = event.payload_as(OrderStatusChanged)
    assert (payload.order_id, payload.number, payload.idempotency_key, payload.location_id) == (
        order.id,
        "RG-0000001",
        "key-1",
        "DC-NORTH",
    )
    stored = uow.committed[order.id]
    assert stored.status is S.CONFIRMED
    assert stored.updated_at == TEST_NOW + timedelta(minutes=1)
    assert uow.commits == 2


async def test_authorizing_payment_records_the_payment_reference() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Confirm())

    [event] = await changed(uow, order, commands.AuthorizePayment(reference="PSP-42"))

    assert status_change(event) == ("CONFIRMED", "PAYMENT_AUTHORIZED", "PSP-42")
    assert uow.committed[order.id].status is S.PAYMENT_AUTHORIZED


async def test_a_fraud_hold_and_its_release_authorize_the_payment() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Confirm())

    [held] = await changed(uow, order, commands.HoldForFraud(reason="velocity"))
    assert uow.committed[order.id].status is S.FRAUD_HOLD
    [released] = await changed(uow, order, commands.ReleaseFraudHold(reason="reviewed"))

    assert status_change(held) == ("CONFIRMED", "FRAUD_HOLD", "velocity")
    assert status_change(released) == ("FRAUD_HOLD", "PAYMENT_AUTHORIZED", "reviewed")
    assert uow.committed[order.id].status is S.PAYMENT_AUTHORIZED


async def test_an_order_on_fraud_hold_is_not_authorized_but_released() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Confirm(), commands.HoldForFraud(reason="velocity"))
    commits = uow.commits

    with pytest.raises(InvalidTransition) as refused:
        await service.change_order(uow, order.id, commands.AuthorizePayment())

    assert "release the fraud hold instead" in refused.value.message
    assert uow.commits == commits
    assert uow.committed[order.id].status is S.FRAUD_HOLD


async def test_releasing_to_fulfilment_records_the_status_change() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Confirm(), commands.AuthorizePayment())

    [event] = await changed(uow, order, commands.ReleaseToFulfilment())

    assert status_change(event) == (
        "PAYMENT_AUTHORIZED",
        "RELEASED_TO_FULFILMENT",
        "released to fulfilment",
    )
    assert uow.committed[order.id].status is S.RELEASED_TO_FULFILMENT


async def test_a_partial_then_a_full_shipment_record_the_shipped_units() -> None:
    uow = FakeUnitOfWork()
    order = await placed(
        uow, commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()
    )
    line_a, line_b = (line.id for line in order.lines)

    first = await changed(uow, order, commands.ConfirmShipment({line_a: 1}, reference="SHP-1"))

    assert [e.type for e in first] == ["OrderLinesShipped", "OrderStatusChanged"]
    shipped = first[0].payload_as(OrderLinesShipped)
    assert shipped.reference == "SHP-1"
    assert shipped.lines == (
        LineQuantity(line_id=line_a, position=1, sku="ST-0001-01", quantity=1),
    )
    assert status_change(first[1]) == (
        "RELEASED_TO_FULFILMENT",
        "PARTIALLY_SHIPPED",
        "shipment SHP-1",
    )
    stored = uow.committed[order.id]
    assert stored.status is S.PARTIALLY_SHIPPED
    assert [line.quantity_shipped for line in stored.lines] == [1, 0]
    assert [line.status for line in stored.lines] == [LineStatus.PARTIALLY_SHIPPED, LineStatus.OPEN]

    rest = await changed(
        uow, order, commands.ConfirmShipment({line_a: 1, line_b: 1}, reference="SHP-2")
    )

    assert [line.quantity for line in rest[0].payload_as(OrderLinesShipped).lines] == [1, 1]
    assert status_change(rest[1]) == ("PARTIALLY_SHIPPED", "SHIPPED", "shipment SHP-2")
    stored = uow.committed[order.id]
    assert stored.status is S.SHIPPED
    assert [line.quantity_shipped for line in stored.lines] == [2, 1]
    assert stored.applied_references == ["SHP-1", "SHP-2"]


async def test_a_further_partial_shipment_records_units_but_no_status_change() -> None:
    uow = FakeUnitOfWork()
    order = await placed(
        uow, commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()
    )
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.ConfirmShipment({line_a: 1}, "SHP-1"))

    events = await changed(uow, order, commands.ConfirmShipment({line_a: 1}, "SHP-2"))

    assert [e.type for e in events] == ["OrderLinesShipped"]
    assert uow.committed[order.id].status is S.PARTIALLY_SHIPPED


async def test_a_replayed_shipment_commits_nothing_and_records_no_event() -> None:
    uow = FakeUnitOfWork()
    order = await placed(
        uow, commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()
    )
    shipment = commands.ConfirmShipment({order.lines[0].id: 1}, reference="SHP-1")
    await service.change_order(uow, order.id, shipment)
    commits, events = uow.commits, list(uow.events)

    again = await service.change_order(uow, order.id, shipment)

    assert again.lines[0].quantity_shipped == 1
    assert (uow.commits, uow.events) == (commits, events)
    assert uow.committed[order.id].lines[0].quantity_shipped == 1


async def test_shipping_more_units_than_are_left_is_refused_and_ships_nothing() -> None:
    uow = FakeUnitOfWork()
    order = await placed(
        uow, commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()
    )
    commits = uow.commits

    with pytest.raises(InvalidOrderInput) as refused:
        await service.change_order(
            uow, order.id, commands.ConfirmShipment({order.lines[0].id: 3}, reference="SHP-1")
        )

    assert "has 2 units left to ship, not 3" in refused.value.message
    assert uow.commits == commits
    stored = uow.committed[order.id]
    assert [line.quantity_shipped for line in stored.lines] == [0, 0]
    assert stored.applied_references == []


async def test_delivery_of_a_shipped_order_records_the_status_change() -> None:
    uow = FakeUnitOfWork()
    order = await placed(
        uow, commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()
    )
    everything = {line.id: line.quantity for line in order.lines}
    await service.change_order(uow, order.id, commands.ConfirmShipment(everything, "SHP-1"))

    [event] = await changed(uow, order, commands.ConfirmDelivery())

    assert status_change(event) == ("SHIPPED", "DELIVERED", "delivered")
    assert uow.committed[order.id].status is S.DELIVERED


async def test_cancelling_an_order_cancels_every_unit_not_shipped() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Confirm())

    events = await changed(uow, order, commands.Cancel(reason="changed mind"))

    assert [e.type for e in events] == ["OrderLinesCancelled", "OrderStatusChanged"]
    cancelled = events[0].payload_as(OrderLinesCancelled)
    assert (cancelled.reason, cancelled.whole_order) == ("changed mind", True)
    assert [(line.sku, line.quantity) for line in cancelled.lines] == [
        ("ST-0001-01", 2),
        ("ST-0002-01", 1),
    ]
    assert status_change(events[1]) == ("CONFIRMED", "CANCELLED", "changed mind")
    stored = uow.committed[order.id]
    assert stored.status is S.CANCELLED
    assert [line.quantity_cancelled for line in stored.lines] == [2, 1]
    assert stored.totals.total == Decimal("0.00")


async def test_cancelling_some_lines_leaves_the_order_partially_cancelled_and_resumable() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Confirm())
    line_b = order.lines[1].id

    events = await changed(uow, order, commands.CancelLines({line_b: 1}, reason="out of stock"))

    cancelled = events[0].payload_as(OrderLinesCancelled)
    assert (cancelled.whole_order, cancelled.reason) == (False, "out of stock")
    assert cancelled.lines == (
        LineQuantity(line_id=line_b, position=2, sku="ST-0002-01", quantity=1),
    )
    assert status_change(events[1]) == ("CONFIRMED", "PARTIALLY_CANCELLED", "out of stock")
    stored = uow.committed[order.id]
    assert stored.status is S.PARTIALLY_CANCELLED
    assert stored.totals.total == Decimal("16.00")
    assert stored.lines[1].status is LineStatus.CANCELLED

    [resumed] = await changed(uow, order, commands.AuthorizePayment())
    assert status_change(resumed) == (
        "PARTIALLY_CANCELLED",
        "PAYMENT_AUTHORIZED",
        "payment authorized",
    )


async def test_cancelling_the_last_units_line_by_line_cancels_the_order() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow)
    everything = {line.id: line.quantity for line in order.lines}

    events = await changed(uow, order, commands.CancelLines(everything, reason="duplicate"))

    assert events[0].payload_as(OrderLinesCancelled).whole_order
    assert status_change(events[1]) == ("PENDING", "CANCELLED", "duplicate")
    assert uow.committed[order.id].status is S.CANCELLED


async def test_a_return_request_records_the_units_coming_back() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id

    events = await changed(uow, order, commands.RequestReturn({line_a: 1}, reason="too small"))

    assert [e.type for e in events] == ["OrderReturnRequested", "OrderStatusChanged"]
    requested = events[0].payload_as(OrderReturnRequested)
    assert requested.reason == "too small"
    assert requested.lines == (
        LineQuantity(line_id=line_a, position=1, sku="ST-0001-01", quantity=1),
    )
    assert status_change(events[1]) == ("DELIVERED", "RETURN_REQUESTED", "too small")
    stored = uow.committed[order.id]
    assert stored.status is S.RETURN_REQUESTED
    assert stored.lines[0].quantity_return_requested == 1
    assert stored.lines[0].status is LineStatus.RETURN_REQUESTED


async def test_returned_units_are_received_with_their_disposition_until_all_are_back() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 2}, reason="x"))

    first = await changed(
        uow, order, commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK", reference="RET-1")
    )

    assert [e.type for e in first] == ["OrderReturnReceived"]
    received = first[0].payload_as(OrderReturnReceived)
    assert (received.reference, received.disposition) == ("RET-1", "RESTOCK")
    assert [(line.sku, line.quantity) for line in received.lines] == [("ST-0001-01", 1)]
    assert uow.committed[order.id].status is S.RETURN_REQUESTED

    rest = await changed(
        uow, order, commands.ConfirmReturn({line_a: 1}, disposition="DAMAGED", reference="RET-2")
    )

    assert rest[0].payload_as(OrderReturnReceived).disposition == "DAMAGED"
    assert status_change(rest[1]) == ("RETURN_REQUESTED", "RETURNED", "return received (DAMAGED)")
    stored = uow.committed[order.id]
    assert stored.status is S.RETURNED
    assert stored.lines[0].quantity_returned == 2


class KnownLocations:
    """Inventory's locations as the return's check sees them."""

    def __init__(self, *known: str) -> None:
        self.known = set(known)

    async def location(self, location_id: str) -> object | None:
        return location_id if location_id in self.known else None


async def test_a_store_receives_a_web_orders_return_one_unit_restocked_one_damaged() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 2}, reason="x"))
    R, D = ReturnDisposition.RESTOCK, ReturnDisposition.DAMAGED
    receipt = commands.ReceiveReturn({R: {line_a: 1}, D: {line_a: 1}}, "RET-1", "STORE-BERLIN")
    before = len(uow.events)

    await service.receive_return(uow, KnownLocations("STORE-BERLIN"), order.id, receipt)

    received_event, status_event = uow.events[before:]
    received = received_event.payload_as(OrderReturnReceived)
    assert (received.location_id, received.receiving_location) == ("DC-NORTH", "STORE-BERLIN")
    assert received.disposition == "MIXED"
    assert [(ln.sku, ln.quantity, received.disposition_of(ln)) for ln in received.lines] == [
        ("ST-0001-01", 1, "RESTOCK"),
        ("ST-0001-01", 1, "DAMAGED"),
    ]
    assert status_change(status_event) == (
        "RETURN_REQUESTED",
        "RETURNED",
        "return received (DAMAGED, RESTOCK)",
    )
    assert uow.committed[order.id].lines[0].quantity_returned == 2


async def test_a_return_is_received_where_the_order_was_fulfilled_unless_told() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 1}, reason="x"))

    events = await changed(uow, order, commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK"))

    received = events[0].payload_as(OrderReturnReceived)
    assert (received.received_at, received.receiving_location) == ("DC-NORTH", "DC-NORTH")


async def test_a_return_at_a_location_inventory_does_not_know_is_refused() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 1}, reason="x"))
    commits = uow.commits
    receipt = commands.ReceiveReturn({ReturnDisposition.RESTOCK: {line_a: 1}}, "", "NOWHERE")

    with pytest.raises(UnknownLocation) as refused:
        await service.receive_return(uow, KnownLocations("STORE-BERLIN"), order.id, receipt)

    assert refused.value.code == "UNKNOWN_LOCATION"
    assert uow.commits == commits
    assert uow.committed[order.id].lines[0].quantity_returned == 0


async def test_a_split_return_may_not_bring_back_more_than_was_requested() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 2}, reason="x"))
    R, D = ReturnDisposition.RESTOCK, ReturnDisposition.DAMAGED
    receipt = commands.ReceiveReturn({R: {line_a: 2}, D: {line_a: 1}})

    with pytest.raises(InvalidOrderInput, match="awaits 2 returned units, not 3"):
        await service.change_order(uow, order.id, receipt)

    assert uow.committed[order.id].lines[0].quantity_returned == 0


async def test_a_replayed_return_commits_nothing_and_records_no_event() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 2}, reason="x"))
    receipt = commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK", reference="RET-1")
    await service.change_order(uow, order.id, receipt)
    commits, events = uow.commits, list(uow.events)

    again = await service.change_order(uow, order.id, receipt)

    assert again.lines[0].quantity_returned == 1
    assert (uow.commits, uow.events) == (commits, events)
    assert uow.committed[order.id].lines[0].quantity_returned == 1


async def test_a_refund_pays_back_the_returned_units_at_the_price_paid() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 1}, reason="x"))
    await service.change_order(
        uow, order.id, commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK")
    )

    events = await changed(uow, order, commands.Refund(reference="RF-1"))

    assert [e.type for e in events] == ["OrderRefunded", "OrderStatusChanged"]
    refunded = events[0].payload_as(OrderRefunded)
    assert (refunded.reference, refunded.amount, refunded.currency) == (
        "RF-1",
        Decimal("8.00"),
        "EUR",
    )
    assert [(line.sku, line.quantity) for line in refunded.lines] == [("ST-0001-01", 1)]
    assert status_change(events[1]) == ("RETURNED", "REFUNDED", "refunded 8.00 EUR")
    stored = uow.committed[order.id]
    assert stored.status is S.REFUNDED
    assert stored.totals.refunded == Decimal("8.00")
    assert stored.lines[0].quantity_refunded == 1


async def test_a_replayed_refund_commits_nothing_and_refunds_nothing_more() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    await service.change_order(uow, order.id, commands.RequestReturn({line_a: 1}, reason="x"))
    await service.change_order(
        uow, order.id, commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK")
    )
    await service.change_order(uow, order.id, commands.Refund(reference="RF-1"))
    commits, events = uow.commits, list(uow.events)

    again = await service.change_order(uow, order.id, commands.Refund(reference="RF-1"))

    assert again.totals.refunded == Decimal("8.00")
    assert (uow.commits, uow.events) == (commits, events)
    assert uow.committed[order.id].totals.refunded == Decimal("8.00")


async def test_the_whole_lifecycle_keeps_its_history_in_order() -> None:
    uow = FakeUnitOfWork()
    order = await delivered(uow)
    line_a = order.lines[0].id
    for step in (
        commands.RequestReturn({line_a: 1}, reason="too small"),
        commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK", reference="RET-1"),
        commands.Refund(reference="RF-1"),
    ):
        await service.change_order(uow, order.id, step)

    stored = await service.get_order(uow, order.id)
    assert [(h.from_status, h.to_status) for h in stored.history] == [
        (None, S.PENDING),
        (S.PENDING, S.CONFIRMED),
        (S.CONFIRMED, S.PAYMENT_AUTHORIZED),
        (S.PAYMENT_AUTHORIZED, S.RELEASED_TO_FULFILMENT),
        (S.RELEASED_TO_FULFILMENT, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.RETURN_REQUESTED),
        (S.RETURN_REQUESTED, S.RETURNED),
        (S.RETURNED, S.REFUNDED),
    ]
    assert stored.applied_references == ["SHP-1", "RET-1", "RF-1"]
    assert [e.type for e in uow.events].count("OrderStatusChanged") == 8
    assert {e.partition_key for e in uow.events} == {order.id}
    # One commit for the creation and one for each step.
    assert uow.commits == 1 + 8


# -- refusals ---------------------------------------------------------------------------


async def test_an_invalid_transition_is_refused_and_commits_nothing() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow)

    with pytest.raises(InvalidTransition) as refused:
        await service.change_order(uow, order.id, commands.ConfirmDelivery())

    assert refused.value.code == "INVALID_TRANSITION"
    assert refused.value.details == {"from": "PENDING", "to": "DELIVERED"}
    assert uow.commits == 1
    assert [e.type for e in uow.events] == ["OrderCreated"]
    assert (await service.get_order(uow, order.id)).status is S.PENDING


async def test_a_cancelled_order_takes_no_further_step() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow, commands.Cancel(reason="changed mind"))
    commits = uow.commits

    for step in (commands.Confirm(), commands.Cancel(), commands.ReleaseFraudHold()):
        with pytest.raises(InvalidTransition):
            await service.change_order(uow, order.id, step)

    assert uow.commits == commits
    assert uow.committed[order.id].status is S.CANCELLED


async def test_an_unknown_order_is_not_found() -> None:
    uow = FakeUnitOfWork()
    await placed(uow)

    with pytest.raises(OrderNotFound) as refused:
        await service.change_order(uow, "no-such-order", commands.Confirm())
    assert refused.value.code == "NOT_FOUND"
    assert refused.value.details == {"order_id": "no-such-order"}
    with pytest.raises(OrderNotFound):
        await service.get_order(uow, "no-such-order")

    assert uow.commits == 1
    assert await service.get_order_by_number(uow, "RG-0000099") is None
    assert await service.get_order_by_number(uow, "not-a-number") is None
    assert await service.get_order_by_idempotency_key(uow, "key-unknown") is None


# -- correlation ------------------------------------------------------------------------


async def test_the_correlation_id_passed_is_on_the_events_and_the_history() -> None:
    uow = FakeUnitOfWork()
    created = await service.create_order(uow, **request(correlation_id="corr-checkout"))
    order = created.order

    await service.change_order(uow, order.id, commands.Confirm(), correlation_id="corr-confirm")
    await service.change_order(
        uow, order.id, commands.CancelLines({order.lines[1].id: 1}), correlation_id="corr-cancel"
    )

    assert [(e.type, e.correlation_id) for e in uow.events] == [
        ("OrderCreated", "corr-checkout"),
        ("OrderStatusChanged", "corr-confirm"),
        ("OrderLinesCancelled", "corr-cancel"),
        ("OrderStatusChanged", "corr-cancel"),
    ]
    stored = uow.committed[order.id]
    assert stored.correlation_id == "corr-checkout"
    assert [h.correlation_id for h in stored.history] == [
        "corr-checkout",
        "corr-confirm",
        "corr-cancel",
    ]


async def test_the_correlation_id_bound_to_the_request_is_on_the_events() -> None:
    uow = FakeUnitOfWork()
    created = await in_request(
        "corr-bound", service.create_order(uow, **request(correlation_id=None))
    )
    await in_request("corr-step", service.change_order(uow, created.order.id, commands.Confirm()))

    assert [(e.type, e.correlation_id) for e in uow.events] == [
        ("OrderCreated", "corr-bound"),
        ("OrderStatusChanged", "corr-step"),
    ]
    assert [h.correlation_id for h in uow.committed[created.order.id].history] == [
        "corr-bound",
        "corr-step",
    ]


async def test_a_correlation_id_passed_wins_over_the_one_bound() -> None:
    uow = FakeUnitOfWork()
    order = await placed(uow)

    await in_request(
        "corr-bound",
        service.change_order(uow, order.id, commands.Confirm(), correlation_id="corr-passed"),
    )

    assert uow.events[-1].correlation_id == "corr-passed"
