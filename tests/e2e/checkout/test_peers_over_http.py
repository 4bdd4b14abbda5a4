"""Checkout in the production shape: orders reaches pricing and inventory over HTTP, each
served on its own port, through their internal endpoints (``/internal/quote``,
``/internal/location``, ``/internal/reserve``), and never through their ``/graphql``.

The gateway is the real one, over the orders and products subgraphs in process.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from adapters.db.engine import create_engine
from gateway.app import create_app as create_gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs
from retailgraph.supergraph import SCHEMA_PATH
from tests.conftest import EngineFactory
from tests.e2e.checkout.conftest import Shop, codes, seed
from tests.e2e.gateway.subscriptions.served import served
from tests.support import TRUSTED_CALLERS, local_runtime

OVER_HTTP = ("pricing", "inventory")


@pytest.fixture
async def shop(backend: str, make_engine: EngineFactory, tmp_path: Path) -> AsyncIterator[Shop]:
    if backend == "sqlite":
        engines = {
            name: create_engine(f"sqlite+aiosqlite:///{tmp_path / name}.db") for name in DOMAINS
        }
    else:
        shared = await make_engine()
        engines = dict.fromkeys(DOMAINS, shared)
    runtime = local_runtime()
    apps = {name: DOMAINS[name].create_app(runtime, engine=engines[name]) for name in DOMAINS}
    in_process = {name: app for name, app in apps.items() if name not in OVER_HTTP}
    federated = FederatedEngine(
        SCHEMA_PATH.read_text(),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
    )
    gateway = create_gateway_app(federated, clients=TRUSTED_CALLERS)
    async with contextlib.AsyncExitStack() as stack:
        for name in OVER_HTTP:
            address = await stack.enter_async_context(served(apps[name]))
            runtime.subgraphs[name] = f"http://{address}/graphql"
        domains = await stack.enter_async_context(running_subgraphs(in_process))
        domains.update({name: apps[name].state.domain for name in OVER_HTTP})
        await stack.enter_async_context(gateway.router.lifespan_context(gateway))
        transport = httpx.ASGITransport(app=gateway)
        client = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60)
        )
        await seed(domains)
        yield Shop(client, domains)
    await runtime.close()
    if backend == "sqlite":
        for engine in engines.values():
            await engine.dispose()


def served_requests(subgraph: str, internal: bool) -> dict[str, float]:
    """The requests ``subgraph`` served by operation: its internal endpoints', or its
    GraphQL operations'."""
    served: dict[str, float] = {}
    for family in REGISTRY.collect():
        if family.name != "retailgraph_subgraph_requests":
            continue
        for sample in family.samples:
            operation = sample.labels["operation"]
            if (
                sample.name.endswith("_total")
                and sample.labels["subgraph"] == subgraph
                and operation.startswith("internal/") == internal
            ):
                served[operation] = served.get(operation, 0.0) + sample.value
    return served


@contextlib.contextmanager
def counted() -> Iterator[dict[str, dict[str, float]]]:
    """What each peer served meanwhile: its internal calls and its GraphQL requests."""
    asked = {f"{peer} {kind}": (peer, kind == "internal") for peer in OVER_HTTP
             for kind in ("internal", "graphql")}  # fmt: skip
    before = {name: served_requests(*key) for name, key in asked.items()}
    counts: dict[str, dict[str, float]] = {}
    yield counts
    for name, key in asked.items():
        now = served_requests(*key)
        changed = {op: n - before[name].get(op, 0.0) for op, n in now.items()}
        counts[name] = {op: n for op, n in changed.items() if n}


async def test_an_order_is_priced_and_reserved_over_http_through_the_internal_endpoints(
    shop: Shop,
) -> None:
    with counted() as calls:
        body = await shop.place(f"k-{uuid.uuid4()}", [("MUG-1", 3), ("TEE-1", 1)])

    placed = body["data"]["placeOrder"]
    assert placed["created"] is True, body
    order = placed["order"]
    assert [line["lineTotal"]["amount"] for line in order["lines"]] == ["19.98", "20.00"]
    assert order["totals"]["total"]["amount"] == "39.98"
    mugs = await shop.stock("MUG-1")
    assert mugs["reserved"] + mugs["committed"] == 3
    assert calls == {
        "pricing internal": {"internal/quote": 1},
        "inventory internal": {"internal/location": 1, "internal/reserve": 1},
        "pricing graphql": {},
        "inventory graphql": {},
    }


async def test_refusals_over_http_keep_the_peers_codes_and_hold_nothing(shop: Shop) -> None:
    short = await shop.place(f"k-{uuid.uuid4()}", [("TEE-1", 1), ("FLASH-1", 51)])
    unknown = await shop.place(f"k-{uuid.uuid4()}", [("NOPE-1", 1)])

    assert codes(short) == ["INSUFFICIENT_STOCK"]
    assert short["errors"][0]["extensions"]["available"] == 50
    assert codes(unknown) == ["UNKNOWN_SKU"]
    for sku in ("TEE-1", "FLASH-1"):
        held = await shop.stock(sku)
        assert held["reserved"] + held["committed"] == 0, sku
