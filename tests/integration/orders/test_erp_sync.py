"""Orders reach the ERP (the simulator) exactly once, through the posting queue."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domains.orders import commands, erp_postings, service
from domains.orders.bootstrap import OrdersDomain
from domains.orders.erp_postings import PostingKind, PostingStatus
from domains.orders.model import NewLine
from erp.breaker import BreakerState, CircuitBreaker
from erp.port import Cancellation, ErpRejected, Item
from erp.posting import queue
from erp.simulator import Faults, SimulatedErp
from kernel.clock import SettableClock
from tests.conftest import EngineFactory
from tests.integration.orders.conftest import Subgraph, creation, make_order
from tests.integration.orders.erp_support import FAST, drain, fast_worker, postings

KNOWN = [Item("ST-0001-01", "Tee", 10), Item("ST-0002-01", "Cap", 5)]
ERP_SYNC = "erpSync { status kind reference attempts lastError erpDocumentId postedAt }"


async def test_created_order_owes_the_erp_its_sale_from_the_same_transaction(
    domain: OrdersDomain,
) -> None:
    order = await make_order(domain)
    [sale] = await postings(domain.engine, order.id)
    assert sale.kind is PostingKind.SALE
    assert sale.reference == order.number
    assert sale.status is PostingStatus.PENDING
    assert sale.correlation_id == "corr-create"
    again = await service.create_order(
        domain.uow(), **creation(idempotency_key=order.idempotency_key)
    )
    assert not again.created  # an idempotent repeat owes the ERP nothing more
    assert len(await postings(domain.engine, order.id)) == 1


async def test_worker_posts_the_sale_once_and_erp_sync_shows_it(subgraph: Subgraph) -> None:
    erp = SimulatedErp(items=KNOWN)
    order = await make_order(subgraph.domain)
    query = f'{{ order(id: "{order.id}") {{ {ERP_SYNC} }} }}'
    before = (await subgraph.post(query))["data"]["order"]["erpSync"]
    assert before["status"] == "PENDING"
    assert before["attempts"] == 0
    await drain(subgraph.domain.engine, fast_worker(subgraph.domain.engine, erp))
    after = (await subgraph.post(query))["data"]["order"]["erpSync"]
    [sale] = erp.sales_by_reference(order.number)
    assert after["status"] == "POSTED"
    assert after["erpDocumentId"] == sale.document_id
    assert after["attempts"] == 1
    assert after["postedAt"] is not None
    assert [(line.sku, line.unit_price) for line in sale.lines] == [
        ("ST-0001-01", 8),
        ("ST-0002-01", 5),
    ]


async def test_erp_sync_of_many_orders_costs_one_statement(subgraph: Subgraph) -> None:
    for _ in range(5):
        await make_order(subgraph.domain)
    subgraph.count_statements()
    body = await subgraph.post("{ orders(first: 5) { edges { node { erpSync { status } } } } }")
    assert [e["node"]["erpSync"]["status"] for e in body["data"]["orders"]["edges"]] == [
        "PENDING"
    ] * 5
    assert sum("ORDERS_ERP_POSTINGS" in s.upper() for s in subgraph.statements) == 1


async def test_cancellation_reaches_the_erp_after_its_sale(domain: OrdersDomain) -> None:
    erp = SimulatedErp(items=KNOWN)
    order = await make_order(domain)
    await service.change_order(domain.uow(), order.id, commands.Cancel(reason="changed mind"))
    sale, cancellation = await postings(domain.engine, order.id)
    assert cancellation.kind is PostingKind.CANCELLATION
    # Two workers cannot split the order: only its first unposted document is claimable.
    lease = timedelta(seconds=30)
    claimed = await queue.claim(domain.engine, "a", limit=10, lease=lease, now=domain.clock.now())
    assert [p.reference for p in claimed] == [sale.reference]
    assert (
        await queue.claim(domain.engine, "b", limit=10, lease=lease, now=domain.clock.now()) == []
    )
    await fast_worker(domain.engine, erp, owner="a").process(claimed[0])
    await drain(domain.engine, fast_worker(domain.engine, erp, owner="b"))
    assert [c for c in erp.calls if c.startswith("post_")] == [
        "post_sales_order",
        "post_cancellation",
    ]
    [cancelled] = erp.sales_by_reference(order.number)
    assert cancelled.state == "cancelled"


async def test_returned_units_reach_the_erp_once_as_a_negative_sale_at_the_price_paid(
    domain: OrdersDomain,
) -> None:
    erp = SimulatedErp(items=KNOWN)
    order = await make_order(domain)
    uow = domain.uow
    line_a, line_b = (line.id for line in order.lines)
    await service.change_order(uow(), order.id, commands.Confirm())
    await service.change_order(uow(), order.id, commands.AuthorizePayment())
    await service.change_order(uow(), order.id, commands.ReleaseToFulfilment())
    await service.change_order(
        uow(), order.id, commands.ConfirmShipment({line_a: 2, line_b: 1}, reference="SHP-1")
    )
    await service.change_order(uow(), order.id, commands.ConfirmDelivery())
    await service.change_order(
        uow(), order.id, commands.RequestReturn({line_a: 1}, reason="too small")
    )
    await service.change_order(
        uow(), order.id, commands.ConfirmReturn({line_a: 1}, disposition="RESTOCK")
    )
    await drain(domain.engine, fast_worker(domain.engine, erp))
    sale, returned = await postings(domain.engine, order.id)
    assert sale.status is PostingStatus.POSTED
    assert (returned.kind, returned.reference) == (PostingKind.RETURN, f"{order.number}/R1")
    assert returned.status is PostingStatus.POSTED
    [credit] = erp.sales_by_reference(f"{order.number}/R1")
    assert [(line.sku, line.quantity, line.unit_price) for line in credit.lines] == [
        ("ST-0001-01", -1, Decimal("8.00"))
    ]
    assert erp.calls.count("post_return") == 1


async def test_post_cut_off_after_the_erp_created_the_sale_completes_once(
    domain: OrdersDomain,
) -> None:
    erp = SimulatedErp(items=KNOWN, faults=Faults(fail_after_create_rate=1.0))
    order = await make_order(domain)
    await drain(domain.engine, fast_worker(domain.engine, erp))
    [posting] = await postings(domain.engine, order.id)
    assert posting.status is PostingStatus.POSTED
    assert posting.attempts == 2  # the first answer was lost, the retry found the sale
    assert len(erp.sales_by_reference(order.number)) == 1


async def test_worker_that_dies_mid_post_is_taken_over_after_its_lease(
    domain: OrdersDomain,
) -> None:
    await make_order(domain)
    lease = timedelta(seconds=30)
    now = domain.clock.now()
    [dead] = await queue.claim(domain.engine, "dead-worker", limit=1, lease=lease, now=now)
    taken = await queue.claim(domain.engine, "heir", limit=1, lease=lease, now=now + lease * 2)
    assert [p.reference for p in taken] == [dead.reference]
    assert taken[0].attempts == 2
    assert not await queue.mark_posted(domain.engine, dead, "dead-worker", "x", now)
    assert await queue.mark_posted(domain.engine, taken[0], "heir", "1", now)


async def test_rejected_order_is_dead_lettered_at_once_and_blocks_no_other(
    subgraph: Subgraph,
) -> None:
    engine = subgraph.domain.engine
    erp = SimulatedErp(items=KNOWN[:1])  # the ERP does not know ST-0002-01
    poison = await make_order(subgraph.domain)
    healthy = await make_order(subgraph.domain, lines=[_line("ST-0001-01")])
    await drain(engine, fast_worker(engine, erp))
    [dead] = await postings(engine, poison.id)
    assert dead.status is PostingStatus.DEAD_LETTERED
    assert dead.attempts == 1
    assert "ST-0002-01" in (dead.last_error or "")
    assert len(erp.sales_by_reference(healthy.number)) == 1
    backlog = await queue.backlog(engine)
    assert (backlog.pending, backlog.dead_lettered) == (0, 1)

    mutation = 'mutation { replayErpSync(orderId: "%s") { replayed erpSync { status } } }'
    first = (await subgraph.post(mutation % poison.id))["data"]["replayErpSync"]
    again = (await subgraph.post(mutation % poison.id))["data"]["replayErpSync"]
    assert first == {"replayed": 1, "erpSync": {"status": "PENDING"}}
    assert again == {"replayed": 0, "erpSync": {"status": "PENDING"}}
    unknown = await subgraph.post(mutation % "no-such-order")
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def _line(sku: str) -> NewLine:
    return NewLine(sku, 1, Decimal("10.00"), None, Decimal("0.19"))


async def test_rate_limited_post_waits_at_least_the_erps_retry_after(
    domain: OrdersDomain,
) -> None:
    erp = SimulatedErp(items=KNOWN, faults=Faults(rate_limit_rate=1.0, retry_after=30))
    order = await make_order(domain)
    worker = fast_worker(domain.engine, erp)
    started = domain.clock.now()
    assert await worker.run_once() == 1
    [posting] = await postings(domain.engine, order.id)
    assert posting.status is PostingStatus.PENDING
    assert posting.next_attempt_at >= started + timedelta(seconds=30)
    assert worker.breaker.state is BreakerState.CLOSED


async def test_outage_opens_the_breaker_and_the_backlog_drains_once_the_erp_is_back(
    domain: OrdersDomain,
) -> None:
    erp = SimulatedErp(items=KNOWN)
    orders = [await make_order(domain) for _ in range(10)]
    clock = [0.0]
    breaker = CircuitBreaker(failure_threshold=3, reset_timeout=60, clock=lambda: clock[0])
    worker = fast_worker(domain.engine, erp, breaker=breaker)
    erp.outage = True
    assert await worker.run_once() == 4
    assert breaker.state is BreakerState.OPEN
    assert await worker.run_once() == 0  # the open breaker claims nothing
    attempts = [p.attempts for o in orders for p in await postings(domain.engine, o.id)]
    assert sorted(attempts) == [0] * 6 + [1] * 4
    erp.outage = False
    clock[0] += 60  # the breaker lets a probe through, which succeeds and closes it
    await drain(domain.engine, worker)
    assert breaker.state is BreakerState.CLOSED
    for order in orders:
        assert len(erp.sales_by_reference(order.number)) == 1
    assert (await queue.backlog(domain.engine)).dead_lettered == 0


async def test_long_outage_probes_do_not_dead_letter_the_orders_they_try(
    domain: OrdersDomain,
) -> None:
    erp = SimulatedErp(items=KNOWN)
    order = await make_order(domain)
    clock = [0.0]
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=60, clock=lambda: clock[0])
    queue_clock = SettableClock(domain.clock.now())  # the queue's time moves too
    worker = fast_worker(domain.engine, erp, breaker=breaker, clock=queue_clock)
    erp.outage = True
    assert await worker.run_once() == 1  # fails and opens the breaker
    for _ in range(3 * FAST.retry.max_attempts):
        clock[0] += 60
        queue_clock.advance(timedelta(seconds=60))
        assert await worker.run_once() == 1  # the half-open breaker's probe fails
        assert breaker.state is BreakerState.OPEN
    [posting] = await postings(domain.engine, order.id)
    assert posting.status is PostingStatus.PENDING
    assert posting.attempts == 1
    erp.outage = False
    clock[0] += 60
    queue_clock.advance(timedelta(seconds=60))
    await drain(domain.engine, worker)
    assert len(erp.sales_by_reference(order.number)) == 1


async def test_workers_racing_over_one_backlog_post_each_order_once(
    domain: OrdersDomain, make_engine: EngineFactory
) -> None:
    erp = SimulatedErp(items=KNOWN, faults=Faults(latency=0.002))
    orders = [await make_order(domain) for _ in range(30)]
    engines = [await make_engine() for _ in range(3)]  # as three worker processes would
    workers = [fast_worker(engine, erp) for engine in engines]
    await drain(domain.engine, *workers)
    assert erp.calls.count("post_sales_order") == 30
    assert sum(worker.posted for worker in workers) == 30
    for order in orders:
        assert len(erp.sales_by_reference(order.number)) == 1


def _three_units() -> list[NewLine]:
    return [
        NewLine("ST-0001-01", 3, Decimal("10.00"), Decimal("8.00"), Decimal("0.19")),
        NewLine("ST-0002-01", 1, Decimal("5.00"), None, Decimal("0.07")),
    ]


async def _cancel_one(domain: OrdersDomain, order_id: str, line: str, key: str) -> None:
    await service.change_order(
        domain.uow(), order_id, commands.CancelLines({line: 1}), idempotency_key=key
    )


async def test_partial_cancellations_of_one_line_amend_the_erp_sale_once_each_in_order(
    domain: OrdersDomain,
) -> None:
    erp = SimulatedErp(items=KNOWN)
    order = await make_order(domain, lines=_three_units())
    line = order.lines[0].id
    await drain(domain.engine, fast_worker(domain.engine, erp))
    await _cancel_one(domain, order.id, line, "cancel-a")
    await _cancel_one(domain, order.id, line, "cancel-a")  # a retried request
    await _cancel_one(domain, order.id, line, "cancel-b")
    await drain(domain.engine, fast_worker(domain.engine, erp))

    _, first, second = await postings(domain.engine, order.id)
    assert [(p.reference, p.status) for p in (first, second)] == [
        (f"{order.number}/C1", PostingStatus.POSTED),
        (f"{order.number}/C2", PostingStatus.POSTED),
    ]
    assert first.payload["lines"] == [{"sku": "ST-0001-01", "quantity": 1, "remaining": 2}]
    assert second.payload["lines"] == [{"sku": "ST-0001-01", "quantity": 1, "remaining": 1}]
    assert erp.calls.count("post_cancellation") == 2
    [amended] = erp.sales_by_reference(order.number)
    assert [(ln.sku, ln.quantity) for ln in amended.lines] == [
        ("ST-0001-01", Decimal(1)),
        ("ST-0002-01", Decimal(1)),
    ]
    # The ERP took back exactly the two cancelled units.
    [level] = await erp.stock_levels(skus=["ST-0001-01"])
    assert level.quantity == Decimal(-1)


class EditedInTheErp(SimulatedErp):
    """An ERP that refuses cancellations while someone edits the sale in it."""

    editing = True

    async def post_cancellation(self, cancellation: Cancellation) -> str:
        if self.editing:
            self.calls.append("post_cancellation")
            raise ErpRejected(f"Sale {cancellation.reference} is being edited")
        return await super().post_cancellation(cancellation)


async def test_a_dead_lettered_partial_cancellation_replays_and_the_next_one_follows(
    domain: OrdersDomain,
) -> None:
    erp = EditedInTheErp(items=KNOWN)
    order = await make_order(domain, lines=_three_units())
    line = order.lines[0].id
    await drain(domain.engine, fast_worker(domain.engine, erp))
    await _cancel_one(domain, order.id, line, "cancel-a")
    await _cancel_one(domain, order.id, line, "cancel-b")
    worker = fast_worker(domain.engine, erp)
    for _ in range(3):
        await worker.run_once()
    _, first, second = await postings(domain.engine, order.id)
    # The second waits behind the first: the ERP receives an order's documents in order.
    assert (first.status, second.status) == (PostingStatus.DEAD_LETTERED, PostingStatus.PENDING)
    assert second.attempts == 0

    erp.editing = False
    assert await erp_postings.replay(domain.engine, now=domain.clock.now(), order_id=order.id) == 1
    await drain(domain.engine, fast_worker(domain.engine, erp))
    _, first, second = await postings(domain.engine, order.id)
    assert (first.status, second.status) == (PostingStatus.POSTED, PostingStatus.POSTED)
    [amended] = erp.sales_by_reference(order.number)
    assert [(ln.sku, ln.quantity) for ln in amended.lines] == [
        ("ST-0001-01", Decimal(1)),
        ("ST-0002-01", Decimal(1)),
    ]
