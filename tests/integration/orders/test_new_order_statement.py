"""A new order written in one statement on PostgreSQL: all its rows or none, one order
per key when two creates race, and the relay woken as a commit wakes it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domains.orders import service, tables
from domains.orders.bootstrap import OrdersDomain, start
from domains.orders.creation import new_order
from domains.orders.model import Fulfilment, FulfilmentType, Order
from kernel.event_types import OrderCreated
from kernel.events import Event
from tests.integration.orders import conftest
from tests.integration.orders.conftest import runtime, two_lines

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend() -> str:
    # SQLite writes a new order in a transaction, as before; this is PostgreSQL's way.
    return "postgresql"


@pytest.fixture
async def domain(engine: AsyncEngine) -> AsyncIterator[OrdersDomain]:
    started = await start(runtime(), engine=engine)
    await started.relay.stop()  # the tests read the outbox as the write left it
    yield started
    await started.close()


def creation(key: str) -> dict[str, Any]:
    return conftest.creation(idempotency_key=key, order_id=str(uuid.uuid5(uuid.NAMESPACE_URL, key)))


async def rows_of(engine: AsyncEngine, order_id: str) -> dict[str, int]:
    """How many rows the order has in each table its creation writes."""
    async with engine.connect() as conn:
        counts = {
            table.name: await _count(conn, select(func.count()).where(column == order_id))
            for table, column in (
                (tables.orders, tables.orders.c.id),
                (tables.lines, tables.lines.c.order_id),
                (tables.erp_postings, tables.erp_postings.c.order_id),
                (tables.outbox, tables.outbox.c.partition_key),
            )
        }
    return counts


async def _count(conn: AsyncConnection, query: Any) -> int:
    return int((await conn.execute(query)).scalar_one())


ONE_ORDER = {"orders_orders": 1, "orders_lines": 2, "orders_erp_postings": 1, "orders_outbox": 1}
NOTHING = dict.fromkeys(ONE_ORDER, 0)


async def test_two_creates_racing_for_a_key_leave_one_order_with_its_lines_posting_and_event(
    domain: OrdersDomain, engine: AsyncEngine
) -> None:
    key = f"race-{uuid.uuid4()}"
    async with engine.connect() as holder:
        # An uncommitted order holding the key makes both statements wait on it, so they
        # run at once; when it rolls back, one of them inserts and the other finds the
        # key taken.
        await holder.execute(
            tables.orders.insert(),
            {**tables.order_values(_order(str(uuid.uuid4()), key)), "seq": -1},
        )
        holder_pid = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        racing = [
            asyncio.create_task(service.create_order(domain.uow(), **creation(key)))
            for _ in range(2)
        ]
        await _until_waiting_on(engine, holder_pid, count=2)
        await holder.rollback()
    created = await asyncio.gather(*racing)

    assert sorted(c.created for c in created) == [False, True]
    assert created[0].order == created[1].order
    assert await rows_of(engine, created[0].order.id) == ONE_ORDER


async def test_a_line_the_database_refuses_leaves_nothing_of_the_order(
    domain: OrdersDomain, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[list[Event]] = []
    monkeypatch.setattr(domain, "wake_relay", woken.append)
    order = _order(str(uuid.uuid4()), f"k-{uuid.uuid4()}")
    order.lines[1].id = order.lines[0].id  # two lines with one primary key

    async with domain.uow() as uow:
        with pytest.raises(DBAPIError, match="orders_lines_pkey"):
            await uow.add_order(order, announced_by=service.created_event)

    assert await rows_of(engine, order.id) == NOTHING
    assert woken == []


async def test_a_value_longer_than_its_column_is_refused_not_cut(
    domain: OrdersDomain, engine: AsyncEngine
) -> None:
    # The arrays' items are text of any length: a cast to the column's varchar(64) would
    # cut the SKU to fit, where a one-row insert refuses it.
    order = _order(str(uuid.uuid4()), f"k-{uuid.uuid4()}")
    order.lines[0].sku = "S" * 65

    async with domain.uow() as uow:
        with pytest.raises(DBAPIError, match="too long"):
            await uow.add_order(order, announced_by=service.created_event)

    assert await rows_of(engine, order.id) == NOTHING


async def test_a_new_order_wakes_the_relay_with_its_event_stamped_as_a_commit_stamps_it(
    domain: OrdersDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[list[Event]] = []
    monkeypatch.setattr(domain, "wake_relay", woken.append)
    span = NonRecordingSpan(
        SpanContext(
            trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
            span_id=0x00F067AA0BA902B7,
            is_remote=False,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
    )
    with trace.use_span(span):
        created = await service.create_order(domain.uow(), **creation(f"k-{uuid.uuid4()}"))
        repeated = await service.create_order(
            domain.uow(), **creation(created.order.idempotency_key)
        )

    assert not repeated.created
    [[event]] = woken  # the repeat stored nothing and woke nothing
    assert event.type == OrderCreated.TYPE
    assert event.payload_as(OrderCreated).number == created.order.number
    assert event.correlation_id == "corr-create"
    assert event.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    published: list[Event] = []

    async def publish(events: Any) -> None:
        published.extend(events)

    monkeypatch.setattr(domain.relay, "publish", publish)
    assert await domain.relay.drain() == 1
    assert published == [event]


async def test_orders_are_numbered_in_the_order_they_are_created(domain: OrdersDomain) -> None:
    made = [
        (await service.create_order(domain.uow(), **creation(f"k-{uuid.uuid4()}"))).order
        for _ in range(3)
    ]
    sequences = [order.sequence for order in made]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    stored = await service.get_order(domain.uow(), made[-1].id)
    assert stored.number == made[-1].number


def _order(order_id: str, key: str) -> Order:
    return new_order(
        order_id=order_id,
        idempotency_key=key,
        channel="web",
        customer_reference="cust-1",
        fulfilment=Fulfilment(FulfilmentType.SHIP_FROM_DC, "DC-NORTH"),
        currency="EUR",
        lines=two_lines(),
        at=runtime().clock.now(),
        correlation_id=None,
        line_ids=[str(uuid.uuid4()) for _ in range(2)],
    )


async def _until_waiting_on(engine: AsyncEngine, holder_pid: int, *, count: int) -> None:
    """Until ``count`` statements wait for a lock ``holder_pid`` holds."""
    # A bound on the wait in case they never do, not a measure of anything.
    async with asyncio.timeout(60), engine.connect() as conn:
        while True:
            waiting = await conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE :holder = ANY(pg_blocking_pids(pid))"
                ),
                {"holder": holder_pid},
            )
            await conn.rollback()
            if waiting == count:
                return
            await asyncio.sleep(0.01)
