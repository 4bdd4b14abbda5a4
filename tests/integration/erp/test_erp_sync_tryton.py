"""Orders reach a real Tryton exactly once through the posting queue and its workers.

The outage test places its orders with placeOrder through the gateway; the others create
them with the orders service. ERP sync workers post them and Tryton's sales are then
counted by our reference.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory import service as inventory
from domains.inventory.model import ChannelRule, LocationKind, StockLevel
from domains.orders import commands, erp_postings, service
from domains.orders.bootstrap import OrdersDomain, start
from domains.orders.erp_postings import PostingStatus
from domains.orders.model import NewLine, Order
from erp.posting import queue
from erp.posting.retry import RetryPolicy
from erp.posting.running import running_workers
from erp.posting.worker_settings import WorkerSettings
from erp.tryton.erp import TrytonErp
from kernel.clock import SettableClock
from retailgraph.demo.catalog import demo_catalog
from tests.conftest import EngineFactory
from tests.e2e.checkout import conftest as checkout
from tests.e2e.checkout.conftest import CATALOGUE, Shop, codes
from tests.integration.erp.tryton_server import TrytonServer, running_server
from tests.integration.orders.erp_support import FAST, drain, fast_worker, postings
from tests.support import local_runtime

pytestmark = pytest.mark.tryton

POSTGRES_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgres)]
)
CUSTOMER = "RetailGraph Web Shop"
SKUS = [item.sku for item in demo_catalog().items[:3]]
TRYTON_DC = "DC-NORTH"  # a demo location, seeded in Tryton as a warehouse
shop = checkout.shop  # the whole system behind the gateway, as checkout's tests run it


@pytest.fixture
def settings() -> WorkerSettings:
    # Test databases all number their orders from RG-0000001 while sharing one Tryton, so
    # each test posts under its own prefix.
    return replace(
        FAST,
        customer=CUSTOMER,
        reference_prefix=f"T{uuid.uuid4().hex[:8]}-",
        breaker_reset=0.2,
        retry=RetryPolicy(base_delay=0.1, max_delay=2.0, max_attempts=15),
    )


@pytest.fixture
async def domain(engine: AsyncEngine) -> AsyncIterator[OrdersDomain]:
    started = await start(local_runtime(), engine=engine)
    yield started
    await started.close()


def tryton_client(server: TrytonServer) -> TrytonErp:
    return TrytonErp(server.url, server.database, server.login, server.password)


async def place(domain: OrdersDomain, *skus: str) -> Order:
    created = await service.create_order(
        domain.uow(),
        idempotency_key=f"erp-{uuid.uuid4()}",
        channel="web",
        fulfilment_type="SHIP_FROM_DC",
        location_id="DC-NORTH",
        customer_reference="cust-42",
        currency="EUR",
        lines=[NewLine(sku, 1, Decimal("19.99"), None, Decimal("0.19")) for sku in skus],
        correlation_id=uuid.uuid4().hex,
    )
    return created.order


async def tryton_sales(erp: TrytonErp, prefix: str, numbers: list[str]) -> Counter[str]:
    """How many live Tryton sales carry each of our order numbers."""
    rows = await erp.call(
        "sale.sale.search_read",
        [("reference", "in", [prefix + n for n in numbers]),
         ("state", "in", ["confirmed", "processing"])],
        0, None, None, ["reference"],
    )  # fmt: skip
    return Counter(row["reference"].removeprefix(prefix) for row in rows)


async def wait_for_backlog(engine: AsyncEngine, within: float) -> queue.Backlog:
    """Polls until nothing is pending or in progress (the workers run on their own)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        backlog = await queue.backlog(engine)
        if backlog.pending + backlog.in_progress == 0 or loop.time() > deadline:
            return backlog
        await asyncio.sleep(0.1)


async def stock_at_dc_north(shop: Shop) -> None:
    """Checkout's test catalogue, stocked at a DC that Tryton knows as a warehouse."""
    stock = shop.domains["inventory"]
    await inventory.save_location(
        stock.uow(), id=TRYTON_DC, name=TRYTON_DC, kind=LocationKind.DC, region="north",
        rules=[ChannelRule("web")],
    )  # fmt: skip
    await inventory.import_stock_levels(
        shop.domains["inventory"].uow(),
        [StockLevel(sku, TRYTON_DC, on_hand=100) for sku in CATALOGUE],
    )


@pytest.mark.slow
@pytest.mark.timeout(600)  # a ceiling for a loaded machine, not a figure
@POSTGRES_ONLY
async def test_erp_outage_every_order_placed_reaches_tryton_once_after_it_is_back(
    shop: Shop, settings: WorkerSettings, tryton_template: Path, tmp_path: Path
) -> None:
    await stock_at_dc_north(shop)
    engine = shop.domains["orders"].engine
    with running_server(tryton_template, tmp_path) as server:
        erp = tryton_client(server)
        try:
            for sku in CATALOGUE:
                await create_product(erp, sku)
            # Two workers, one post each at a time: Tryton on SQLite serialises its writes,
            # so more in flight only adds lock waits.
            paced = replace(settings, concurrency=1)
            async with running_workers(
                engine, erp, paced, count=2, clock=shop.domains["orders"].clock
            ):
                server.process.stop()
                # Checkout never waits on the ERP: every order is placed while it is down.
                placed = [
                    await shop.place(f"outage-{n}-{uuid.uuid4()}", [(list(CATALOGUE)[n % 3], 1)],
                                     location=TRYTON_DC)
                    for n in range(100)
                ]  # fmt: skip
                during = await queue.backlog(engine)
                queued = await erp_sync(shop, placed[-1])
                server.process.start()
                after = await wait_for_backlog(engine, within=480)
            numbers = [body["data"]["placeOrder"]["order"]["number"] for body in placed]
            sales = await tryton_sales(erp, settings.reference_prefix, numbers)
            posted = await erp_sync(shop, placed[-1])
        finally:
            await erp.close()
    assert [codes(body) for body in placed] == [[]] * 100
    assert during.pending + during.in_progress == 100
    assert (after.pending, after.in_progress, after.dead_lettered) == (0, 0, 0)
    assert sales == Counter(dict.fromkeys(numbers, 1))
    # What a client sees through the gateway: queued while the ERP is down, then posted.
    assert queued["status"] == "PENDING"
    assert queued["erpDocumentId"] is None
    assert posted["status"] == "POSTED"
    assert posted["erpDocumentId"]


async def erp_sync(shop: Shop, placed: dict[str, Any]) -> dict[str, Any]:
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    body = await shop.post(
        "query($id: ID!) { order(id: $id) { erpSync { status attempts erpDocumentId } } }",
        {"id": order_id},
    )
    sync: dict[str, Any] = body["data"]["order"]["erpSync"]
    return sync


async def test_poison_order_is_dead_lettered_then_posts_once_after_a_fix_and_replay(
    domain: OrdersDomain, settings: WorkerSettings, tryton_server: TrytonServer
) -> None:
    erp = tryton_client(tryton_server)
    new_sku = f"RG-NEW-{uuid.uuid4().hex[:8]}"
    try:
        poison = await place(domain, new_sku)
        healthy = await place(domain, SKUS[0])
        await drain(domain.engine, fast_worker(domain.engine, erp, settings=settings))
        [dead] = await postings(domain.engine, poison.id)
        assert dead.status is PostingStatus.DEAD_LETTERED
        assert dead.attempts == 1
        assert new_sku in (dead.last_error or "")
        assert await tryton_sales(erp, settings.reference_prefix, [healthy.number]) == Counter(
            {healthy.number: 1}
        )
        [sale] = await erp.call(
            "sale.sale.search_read",
            [("reference", "=", settings.reference_prefix + healthy.number)],
            0, None, None, ["comment"],
        )  # fmt: skip
        assert healthy.correlation_id  # the correlation id travels to the ERP document
        assert healthy.correlation_id in sale["comment"]

        await create_product(erp, new_sku)  # the fix, made in the ERP
        now = domain.clock.now()
        assert await erp_postings.replay(domain.engine, order_id=poison.id, now=now) == 1
        await drain(domain.engine, fast_worker(domain.engine, erp, settings=settings))
        assert await erp_postings.replay(domain.engine, order_id=poison.id, now=now) == 0
        [posted] = await postings(domain.engine, poison.id)
        sales = await tryton_sales(erp, settings.reference_prefix, [poison.number])
    finally:
        await erp.close()
    assert posted.status is PostingStatus.POSTED
    assert sales == Counter({poison.number: 1})


async def create_product(erp: TrytonErp, sku: str) -> None:
    [unit] = await erp.call("product.uom.search", [("name", "=", "Unit")], 0, 1, None)
    await erp.call(
        "product.template.create",
        [{
            "name": f"Product {sku}", "code": sku, "type": "goods", "default_uom": unit,
            "salable": True, "sale_uom": unit, "list_price": Decimal("19.99"),
            "products": [("create", [{}])],
        }],
    )  # fmt: skip


async def test_worker_killed_between_create_and_confirm_is_completed_once_on_restart(
    domain: OrdersDomain, settings: WorkerSettings, tryton_server: TrytonServer
) -> None:
    order = await place(domain, SKUS[1])
    doomed_erp, heir_erp = tryton_client(tryton_server), tryton_client(tryton_server)
    created = asyncio.Event()
    real_call = doomed_erp.call

    async def call_then_die_after_create(method: str, *args: Any, **kwargs: Any) -> Any:
        result = await real_call(method, *args, **kwargs)
        if method == "sale.sale.create":
            created.set()
            await asyncio.Event().wait()  # the process dies here, before quote and confirm
        return result

    doomed_erp.call = call_then_die_after_create  # type: ignore[method-assign]
    try:
        doomed = asyncio.create_task(
            fast_worker(domain.engine, doomed_erp, settings=settings).run_once()
        )
        await created.wait()
        doomed.cancel()
        with pytest.raises(asyncio.CancelledError):
            await doomed
        [stuck] = await postings(domain.engine, order.id)
        draft = await heir_erp.find_sale(settings.reference_prefix + order.number)
        assert stuck.status is PostingStatus.IN_PROGRESS
        assert draft is not None
        assert draft.state == "draft"

        # A restarted worker takes the posting over once the dead one's lease runs out.
        later = SettableClock(domain.clock.now() + timedelta(seconds=settings.lease * 2))
        heir = fast_worker(domain.engine, heir_erp, settings=settings, clock=later)
        await drain(domain.engine, heir)
        [posted] = await postings(domain.engine, order.id)
        sales = await tryton_sales(heir_erp, settings.reference_prefix, [order.number])
        all_sales = await heir_erp.call(
            "sale.sale.search_read",
            [("reference", "=", settings.reference_prefix + order.number)],
            0,
            None,
            None,
            ["id"],
        )
    finally:
        await doomed_erp.close()
        await heir_erp.close()
    assert posted.status is PostingStatus.POSTED
    assert posted.attempts == 2
    assert posted.erp_document_id == draft.document_id
    assert sales == Counter({order.number: 1})
    assert len(all_sales) == 1


@POSTGRES_ONLY
async def test_workers_racing_over_one_backlog_post_each_order_to_tryton_once(
    domain: OrdersDomain,
    settings: WorkerSettings,
    make_engine: EngineFactory,
    tryton_server: TrytonServer,
) -> None:
    orders = [await place(domain, SKUS[n % 3]) for n in range(20)]
    clients = [tryton_client(tryton_server) for _ in range(3)]
    try:
        # Three workers, each with its own database pool and ERP session, as processes;
        # two posts in flight each (Tryton on SQLite serialises its writes).
        racing = replace(settings, concurrency=2)
        workers = [fast_worker(await make_engine(), client, settings=racing) for client in clients]
        await drain(domain.engine, *workers)
        dead = await queue.dead_letters(domain.engine)
        sales = await tryton_sales(
            clients[0], settings.reference_prefix, [order.number for order in orders]
        )
    finally:
        for client in clients:
            await client.close()
    assert [(p.reference, p.last_error) for p in dead] == []
    assert sales == Counter({order.number: 1 for order in orders})
    assert sum(worker.posted for worker in workers) == 20


@POSTGRES_ONLY
async def test_one_key_sent_twenty_times_concurrently_is_one_order_and_one_tryton_sale(
    shop: Shop, settings: WorkerSettings, tryton_server: TrytonServer
) -> None:
    await stock_at_dc_north(shop)
    erp = tryton_client(tryton_server)
    key = f"twenty-{uuid.uuid4()}"
    try:
        for sku in CATALOGUE:
            await ensure_product(erp, sku)
        bodies = await asyncio.gather(
            *(shop.place(key, [("TEE-1", 2), ("MUG-1", 1)], location=TRYTON_DC) for _ in range(20))
        )
        engine = shop.domains["orders"].engine
        async with running_workers(
            engine, erp, settings, count=2, clock=shop.domains["orders"].clock
        ):
            after = await wait_for_backlog(engine, within=60)
        number = bodies[0]["data"]["placeOrder"]["order"]["number"]
        sales = await tryton_sales(erp, settings.reference_prefix, [number])
    finally:
        await erp.close()
    assert [codes(body) for body in bodies] == [[]] * 20
    assert {body["data"]["placeOrder"]["order"]["number"] for body in bodies} == {number}
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_orders") == 1
    reservations = "SELECT count(*) FROM inventory_reservation WHERE idempotency_key LIKE :k"
    assert await shop.scalar("inventory", reservations, k=f"{key}:%") == 2
    assert await shop.scalar("orders", "SELECT count(*) FROM orders_erp_postings") == 1
    assert (after.pending, after.in_progress, after.dead_lettered) == (0, 0, 0)
    assert sales == Counter({number: 1})


async def ensure_product(erp: TrytonErp, sku: str) -> None:
    """The product in the shared Tryton, made once whichever test asks first."""
    if not await erp.call("product.product.search", [("code", "=", sku)], 0, 1, None):
        await create_product(erp, sku)


async def test_partial_cancellations_of_one_line_reach_tryton_once_each_in_order(
    domain: OrdersDomain, settings: WorkerSettings, tryton_server: TrytonServer
) -> None:
    erp = tryton_client(tryton_server)
    created = await service.create_order(
        domain.uow(),
        idempotency_key=f"erp-{uuid.uuid4()}",
        channel="web",
        fulfilment_type="SHIP_FROM_DC",
        location_id="DC-NORTH",
        customer_reference="cust-42",
        currency="EUR",
        lines=[
            NewLine(SKUS[0], 3, Decimal("19.99"), None, Decimal("0.19")),
            NewLine(SKUS[1], 1, Decimal("19.99"), None, Decimal("0.19")),
        ],
    )
    order, line = created.order, created.order.lines[0].id
    try:
        await drain(domain.engine, fast_worker(domain.engine, erp, settings=settings))
        for key in ("cancel-1", "cancel-1", "cancel-2"):  # the first is sent twice
            await service.change_order(
                domain.uow(), order.id, commands.CancelLines({line: 1}), idempotency_key=key
            )
        await drain(domain.engine, fast_worker(domain.engine, erp, settings=settings))
        found = await erp.find_sale(settings.reference_prefix + order.number)
    finally:
        await erp.close()
    documents = await postings(domain.engine, order.id)
    assert [(p.reference, p.status) for p in documents] == [
        (order.number, PostingStatus.POSTED),
        (f"{order.number}/C1", PostingStatus.POSTED),
        (f"{order.number}/C2", PostingStatus.POSTED),
    ]
    assert found is not None
    assert [(ln.sku, ln.quantity) for ln in found.lines] == [
        (SKUS[0], Decimal(1)),
        (SKUS[1], Decimal(1)),
    ]
