"""Order use cases on both backends: creation, idempotency, the lifecycle and its events."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select

from adapters.db import migrations
from domains.orders import commands, service, tables
from domains.orders.bootstrap import OrdersDomain
from domains.orders.errors import (
    IdempotencyKeyReused,
    InvalidOrderInput,
    InvalidTransition,
    OrderNotFound,
)
from domains.orders.model import LineStatus, OrderStatus
from tests.integration.orders.conftest import make_order, two_lines

S = OrderStatus


async def outbox_events(domain: OrdersDomain, order_id: str) -> list[tuple[str, str | None]]:
    async with domain.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox.c.type, tables.outbox.c.correlation_id)
            .where(tables.outbox.c.partition_key == order_id)
            .order_by(tables.outbox.c.seq)
        )
        return [(row.type, row.correlation_id) for row in rows]


async def test_migrations_match_the_models(domain: OrdersDomain) -> None:
    await migrations.check(domain.engine, "orders", tables.metadata)


async def test_create_order_stores_lines_totals_and_records_order_created(
    domain: OrdersDomain,
) -> None:
    order = await make_order(domain)
    stored = await service.get_order(domain.uow(), order.id)
    assert stored.number.startswith("RG-")
    assert stored.number == order.number
    assert [line.sku for line in stored.lines] == ["ST-0001-01", "ST-0002-01"]
    assert str(stored.totals.total) == "21.00"
    assert stored.status is S.PENDING
    assert stored.history[0].to_status is S.PENDING
    assert await outbox_events(domain, order.id) == [("OrderCreated", "corr-create")]


async def test_create_order_repeat_with_the_same_key_returns_the_same_order(
    domain: OrdersDomain,
) -> None:
    key = f"key-{uuid.uuid4()}"
    first = await make_order(domain, idempotency_key=key)
    again = await make_order(domain, idempotency_key=key)
    assert again.id == first.id
    assert len(await outbox_events(domain, first.id)) == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(
    domain: OrdersDomain,
) -> None:
    key = f"key-{uuid.uuid4()}"
    first = await make_order(domain, idempotency_key=key)
    different = [
        {"customer_reference": "someone else"},
        {"location_id": "DC-SOUTH"},
        {"channel": "app"},
        {"lines": two_lines()[:1]},
    ]
    for change in different:
        with pytest.raises(IdempotencyKeyReused) as refused:
            await make_order(domain, idempotency_key=key, **change)
        assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert len(await outbox_events(domain, first.id)) == 1


async def test_create_order_concurrent_repeats_make_one_order(domain: OrdersDomain) -> None:
    key = f"key-{uuid.uuid4()}"
    orders = await asyncio.gather(*(make_order(domain, idempotency_key=key) for _ in range(20)))
    assert len({order.id for order in orders}) == 1
    assert len(await outbox_events(domain, orders[0].id)) == 1


async def test_lifecycle_to_refund_keeps_history_and_events(domain: OrdersDomain) -> None:
    order = await make_order(domain)
    uow = domain.uow
    await service.change_order(uow(), order.id, commands.Confirm(), correlation_id="c1")
    await service.change_order(uow(), order.id, commands.HoldForFraud(reason="velocity"))
    await service.change_order(uow(), order.id, commands.ReleaseFraudHold(reason="reviewed"))
    await service.change_order(uow(), order.id, commands.ReleaseToFulfilment())
    line_a, line_b = (line.id for line in order.lines)
    shipped = await service.change_order(
        uow(), order.id, commands.ConfirmShipment({line_a: 1}, reference="SHP-1")
    )
    assert shipped.status is S.PARTIALLY_SHIPPED
    again = await service.change_order(
        uow(), order.id, commands.ConfirmShipment({line_a: 1}, reference="SHP-1")
    )
    assert again.lines[0].quantity_shipped == 1
    await service.change_order(
        uow(), order.id, commands.ConfirmShipment({line_a: 1, line_b: 1}, reference="SHP-2")
    )
    await service.change_order(uow(), order.id, commands.ConfirmDelivery())
    await service.change_order(
        uow(), order.id, commands.RequestReturn({line_a: 1}, reason="too small")
    )
    await service.change_order(
        uow(), order.id, commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK")
    )
    refunded = await service.change_order(uow(), order.id, commands.Refund(reference="RF-1"))

    stored = await service.get_order(uow(), order.id)
    assert stored.status is S.REFUNDED
    assert str(refunded.totals.refunded) == "8.00"
    assert str(stored.totals.refunded) == "8.00"
    assert [(h.from_status, h.to_status) for h in stored.history] == [
        (None, S.PENDING),
        (S.PENDING, S.CONFIRMED),
        (S.CONFIRMED, S.FRAUD_HOLD),
        (S.FRAUD_HOLD, S.PAYMENT_AUTHORIZED),
        (S.PAYMENT_AUTHORIZED, S.RELEASED_TO_FULFILMENT),
        (S.RELEASED_TO_FULFILMENT, S.PARTIALLY_SHIPPED),
        (S.PARTIALLY_SHIPPED, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.RETURN_REQUESTED),
        (S.RETURN_REQUESTED, S.RETURNED),
        (S.RETURNED, S.REFUNDED),
    ]
    assert stored.history[1].correlation_id == "c1"
    assert stored.applied_references == ["SHP-1", "SHP-2", "RF-1"]
    types = [event_type for event_type, _ in await outbox_events(domain, order.id)]
    assert types.count("OrderStatusChanged") == 10
    assert types.count("OrderLinesShipped") == 2
    assert {"OrderReturnRequested", "OrderReturnReceived", "OrderRefunded"} <= set(types)


async def test_partial_cancellation_recomputes_totals_and_resumes(domain: OrdersDomain) -> None:
    order = await make_order(domain)
    await service.change_order(domain.uow(), order.id, commands.Confirm())
    cancelled = await service.change_order(
        domain.uow(), order.id, commands.CancelLines({order.lines[1].id: 1}, reason="out of stock")
    )
    assert cancelled.status is S.PARTIALLY_CANCELLED
    stored = await service.get_order(domain.uow(), order.id)
    assert str(stored.totals.total) == "16.00"
    assert stored.lines[1].status is LineStatus.CANCELLED
    authorized = await service.change_order(domain.uow(), order.id, commands.AuthorizePayment())
    assert authorized.status is S.PAYMENT_AUTHORIZED


async def test_invalid_transition_writes_nothing(domain: OrdersDomain) -> None:
    order = await make_order(domain)
    with pytest.raises(InvalidTransition) as raised:
        await service.change_order(domain.uow(), order.id, commands.ConfirmDelivery())
    assert raised.value.details == {"from": "PENDING", "to": "DELIVERED"}
    stored = await service.get_order(domain.uow(), order.id)
    assert stored.status is S.PENDING
    assert len(await outbox_events(domain, order.id)) == 1


async def test_unknown_order_is_not_found(domain: OrdersDomain) -> None:
    with pytest.raises(OrderNotFound):
        await service.change_order(domain.uow(), str(uuid.uuid4()), commands.Confirm())


async def test_bad_fulfilment_type_is_bad_input(domain: OrdersDomain) -> None:
    with pytest.raises(InvalidOrderInput):
        await make_order(domain, fulfilment_type="DRONE")


async def test_concurrent_shipments_never_ship_more_than_ordered(domain: OrdersDomain) -> None:
    order = await make_order(domain)
    for step in (commands.Confirm(), commands.AuthorizePayment(), commands.ReleaseToFulfilment()):
        await service.change_order(domain.uow(), order.id, step)
    line_id = order.lines[0].id  # 2 units

    async def ship_one(n: int) -> bool:
        try:
            await service.change_order(
                domain.uow(), order.id, commands.ConfirmShipment({line_id: 1}, reference=f"S{n}")
            )
        except InvalidOrderInput:
            return False
        return True

    results = await asyncio.gather(*(ship_one(n) for n in range(6)))
    assert results.count(True) == 2
    stored = await service.get_order(domain.uow(), order.id)
    assert stored.lines[0].quantity_shipped == 2


async def test_a_retried_step_is_made_once_and_answered_with_the_order(
    domain: OrdersDomain,
) -> None:
    order = await make_order(domain)
    line = order.lines[0].id  # 2 units
    cancel_one = commands.CancelLines({line: 1}, reason="customer call")
    first = await service.change_order(
        domain.uow(), order.id, cancel_one, idempotency_key="cancel-1", correlation_id="c-1"
    )
    again = await service.change_order(
        domain.uow(), order.id, cancel_one, idempotency_key="cancel-1", correlation_id="c-2"
    )
    assert first.lines[0].quantity_cancelled == again.lines[0].quantity_cancelled == 1
    assert again.status is S.PARTIALLY_CANCELLED
    # One cancellation: one OrderLinesCancelled, one status change, carrying the first
    # request's correlation id.
    assert await outbox_events(domain, order.id) == [
        ("OrderCreated", "corr-create"),
        ("OrderLinesCancelled", "c-1"),
        ("OrderStatusChanged", "c-1"),
    ]


async def test_a_step_key_reused_for_another_request_is_refused(domain: OrdersDomain) -> None:
    order = await make_order(domain)
    other = await make_order(domain)
    line = order.lines[0].id
    await service.change_order(
        domain.uow(), order.id, commands.CancelLines({line: 1}), idempotency_key="k-1"
    )
    refused = [
        (order.id, commands.CancelLines({line: 2})),  # other quantities
        (order.id, commands.CancelLines({line: 1}, reason="other reason")),
        (order.id, commands.Confirm()),  # another step
        (other.id, commands.Confirm()),  # another order
    ]
    for order_id, command in refused:
        with pytest.raises(IdempotencyKeyReused) as raised:
            await service.change_order(domain.uow(), order_id, command, idempotency_key="k-1")
        assert raised.value.code == "IDEMPOTENCY_KEY_REUSED"
    stored = await service.get_order(domain.uow(), order.id)
    assert (stored.status, stored.lines[0].quantity_cancelled) == (S.PARTIALLY_CANCELLED, 1)
    untouched = await service.get_order(domain.uow(), other.id)
    assert untouched.status is S.PENDING


async def test_concurrent_retries_of_one_step_cancel_its_units_once(domain: OrdersDomain) -> None:
    order = await make_order(domain)
    line = order.lines[0].id
    cancel_one = commands.CancelLines({line: 1})
    answers = await asyncio.gather(
        *(
            service.change_order(domain.uow(), order.id, cancel_one, idempotency_key="same")
            for _ in range(5)
        )
    )
    assert {answer.lines[0].quantity_cancelled for answer in answers} == {1}
    stored = await service.get_order(domain.uow(), order.id)
    assert stored.lines[0].quantity_cancelled == 1


async def test_a_refused_step_keeps_no_key_and_a_repaired_retry_is_made(
    domain: OrdersDomain,
) -> None:
    order = await make_order(domain)
    with pytest.raises(InvalidTransition):
        await service.change_order(
            domain.uow(), order.id, commands.ConfirmDelivery(), idempotency_key="early"
        )
    confirmed = await service.change_order(
        domain.uow(), order.id, commands.Confirm(), idempotency_key="early"
    )
    assert confirmed.status is S.CONFIRMED


@pytest.mark.parametrize("key", ["", "k" * 201, "nul\x00"])
async def test_a_step_key_is_1_to_200_characters_of_text(domain: OrdersDomain, key: str) -> None:
    order = await make_order(domain)
    with pytest.raises(InvalidOrderInput):
        await service.change_order(domain.uow(), order.id, commands.Confirm(), idempotency_key=key)
