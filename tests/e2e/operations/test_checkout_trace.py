"""One checkout is one trace: the gateway's request, its fetch from orders, orders' calls to
pricing and inventory and their SQL statements; the ERP post the order owes is a trace of
its own, linked to the checkout's.

The system is the checkout tests' (the real gateway over HTTP in front of the four
subgraphs, in process), with each part traced as its own service into the SDK's
in-memory exporter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from adapters.db.engine import create_engine
from domains.orders.erp_postings import PostingStatus, postings_by_order
from erp.posting.worker import ErpSyncWorker
from erp.posting.worker_settings import WorkerSettings
from erp.simulator import SimulatedErp
from gateway.app import create_app as create_gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs
from retailgraph.supergraph import SCHEMA_PATH
from tests.conftest import EngineFactory
from tests.e2e.checkout.conftest import DC, PLACE_ORDER, seed
from tests.support import TRUSTED_CALLERS, local_runtime

SERVICES = ("gateway", *DOMAINS, "worker-erp")


@dataclass
class TracedShop:
    client: httpx.AsyncClient
    domains: dict[str, Any]
    tracers: dict[str, Tracer]
    exported: InMemorySpanExporter


def traced_as(service: str, exported: InMemorySpanExporter) -> Tracer:
    """A tracer of its own service, as each process of a deployment has."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(SimpleSpanProcessor(exported))
    return provider.get_tracer("tests")


@pytest.fixture
async def shop(
    backend: str, make_engine: EngineFactory, tmp_path: Path
) -> AsyncIterator[TracedShop]:
    exported = InMemorySpanExporter()
    tracers = {service: traced_as(service, exported) for service in SERVICES}
    if backend == "sqlite":
        engines = {
            name: create_engine(f"sqlite+aiosqlite:///{tmp_path / name}.db") for name in DOMAINS
        }
    else:
        shared = await make_engine()
        engines = dict.fromkeys(DOMAINS, shared)
    runtime = local_runtime()
    # One bus, cache, clock and set of peers; each domain traced as its own service.
    apps = {
        name: DOMAINS[name].create_app(
            dataclasses.replace(runtime, tracer=tracers[name]), engine=engines[name]
        )
        for name in DOMAINS
    }
    runtime.subgraphs.update(apps)
    federated = FederatedEngine(
        SCHEMA_PATH.read_text(),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        tracer=tracers["gateway"],
    )
    gateway = create_gateway_app(federated, clients=TRUSTED_CALLERS, tracer=tracers["gateway"])
    async with contextlib.AsyncExitStack() as stack:
        domains = await stack.enter_async_context(running_subgraphs(apps))
        await stack.enter_async_context(gateway.router.lifespan_context(gateway))
        transport = httpx.ASGITransport(app=gateway)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60)
        )
        await seed(domains)
        exported.clear()  # the seeding's SQL is no one's request
        yield TracedShop(client, domains, tracers, exported)
    await runtime.close()
    if backend == "sqlite":
        for engine in engines.values():
            await engine.dispose()


def service(span: ReadableSpan) -> str:
    return str(span.resource.attributes[SERVICE_NAME])


def one(spans: Sequence[ReadableSpan], **wanted: Any) -> ReadableSpan:
    found = [s for s in spans if all(_has(s, key, value) for key, value in wanted.items())]
    assert len(found) == 1, (wanted, [(service(s), s.name) for s in spans])
    return found[0]


def _has(span: ReadableSpan, key: str, value: Any) -> bool:
    if key == "service":
        return bool(service(span) == value)
    return bool(getattr(span, key) == value)


async def test_one_checkout_is_one_trace_and_its_erp_post_links_to_it(shop: TracedShop) -> None:
    correlation_id = f"trace-{uuid.uuid4().hex[:12]}"
    order_input = {
        "idempotencyKey": f"k-{uuid.uuid4()}",
        "channel": "web",
        "currency": "EUR",
        "customerReference": "traced",
        "fulfilment": {"type": "SHIP_FROM_DC", "locationId": DC},
        "lines": [{"sku": "MUG-1", "quantity": 2}],
    }
    response = await shop.client.post(
        "/graphql",
        json={"query": PLACE_ORDER, "variables": {"input": order_input}, "operationName": "Place"},
        headers={"X-Correlation-ID": correlation_id},
    )
    placed = response.json()["data"]["placeOrder"]
    assert placed["created"] is True, response.text
    spans = shop.exported.get_finished_spans()

    request = one(spans, service="gateway", kind=SpanKind.SERVER)
    assert request.name == "mutation Place"
    assert request.attributes is not None
    assert request.attributes["graphql.operation.name"] == "Place"
    assert request.attributes["retailgraph.client"] == "anonymous"
    assert request.attributes["retailgraph.correlation_id"] == correlation_id
    checkout = request.context.trace_id
    assert {s.context.trace_id for s in spans} == {checkout}
    served = {service(s) for s in spans if s.kind is SpanKind.SERVER}
    assert served == {"gateway", "orders", "pricing", "inventory"}

    # The gateway's fetch is continued by orders, whose checkout is continued by pricing
    # and inventory; each of them runs SQL inside its request. (With one PostgreSQL
    # engine shared by the domains, its statements are traced by the domain that opened
    # it first: only where they sit in the trace is checked.)
    fetch = one(spans, service="gateway", kind=SpanKind.CLIENT, name="fetch orders")
    orders = one(spans, service="orders", kind=SpanKind.SERVER)
    assert _parent(fetch) == request.context.span_id
    assert _parent(orders) == fetch.context.span_id
    statements = [s for s in spans if s.attributes and "db.statement" in s.attributes]
    # The statement that stores the order (on PostgreSQL one statement with its lines,
    # posting and events, named WITH by its first word).
    assert any(
        "INSERT INTO orders_orders" in str(s.attributes["db.statement"])
        and _within(s, orders, spans)
        for s in statements
        if s.attributes
    )
    for peer in ("pricing", "inventory"):
        peer_requests = [s for s in spans if service(s) == peer and s.kind is SpanKind.SERVER]
        assert all(_within(s, orders, spans) for s in peer_requests), peer
    inventory = [s for s in spans if service(s) == "inventory" and s.kind is SpanKind.SERVER]
    assert any(_within(s, served_by, spans) for s in statements for served_by in inventory)

    shop.exported.clear()
    orders_engine = shop.domains["orders"].engine
    worker = ErpSyncWorker(
        orders_engine,
        SimulatedErp(clock=shop.domains["orders"].clock),
        settings=WorkerSettings(rate=1000, burst=1000),
        clock=shop.domains["orders"].clock,
        tracer=shop.tracers["worker-erp"],
    )
    assert await worker.run_once() == 1
    async with orders_engine.connect() as conn:
        [posting] = (await postings_by_order(conn, [placed["order"]["id"]]))[placed["order"]["id"]]
    assert posting.status is PostingStatus.POSTED

    post = one(shop.exported.get_finished_spans(), service="worker-erp", kind=SpanKind.CONSUMER)
    assert post.name == "erp post_sales_order"
    assert post.attributes is not None
    assert post.attributes["retailgraph.correlation_id"] == correlation_id
    assert post.context.trace_id != checkout
    [link] = post.links
    assert link.context.trace_id == checkout
    assert link.context.span_id in {s.context.span_id for s in spans}


def _parent(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def _within(span: ReadableSpan, ancestor: ReadableSpan, spans: Sequence[ReadableSpan]) -> bool:
    """Whether ``ancestor`` is among ``span``'s parents."""
    by_id = {s.context.span_id: s for s in spans}
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        found = by_id.get(parent.span_id)
        parent = None if found is None else found.parent
    return False
