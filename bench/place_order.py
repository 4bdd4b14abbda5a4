"""Checkout throughput and latency: ``placeOrder`` through the gateway on PostgreSQL.

The production shape on one machine: the four subgraphs each in its own process
(``retailgraph subgraph NAME``, orders calling pricing and inventory over HTTP) and the
gateway (``retailgraph gateway``), all on a fresh PostgreSQL database made for the run.
A catalogue of SKUs with plenty of stock at one DC is seeded first. Then, for each
concurrency level, that many clients place orders back to back for a fixed time (1 to 3
lines of random SKUs, a new idempotency key each); every order must succeed. The report
gives orders per second, the p50 and p99 latency, and the CPU the five service processes
spent per order (from /proc; PostgreSQL's own CPU is not counted) at each level.

    python -m bench.place_order                       # levels 1, 8, 32, 64; 15 s each
    python -m bench.place_order --levels 1,16 --duration 30 --skus 500

Events stay in each process (no REDIS_URL): inventory's commitment of the reserved units
happens after the answer and is not on the measured path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text

from adapters.db.engine import DatabaseLocations, create_engine, normalise_url
from adapters.runtime import Runtime
from bench.processes import Started, free_port, start, tree_cpu_seconds, wait_until
from domains.inventory import service as inventory
from domains.inventory.model import ChannelRule, LocationKind, StockLevel
from domains.pricing import imports
from gateway.security.clients import key_hash
from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DC = "DC-BENCH"
UNITS = 10_000_000
# The storefront's shape: one client named by an API key that may place orders, its
# identity signed for the subgraphs with the secret they share with the gateway.
API_KEY = "bench-storefront-key"
IDENTITY_SECRET = "bench-identity-secret-of-at-least-32-bytes"
GATEWAY_ENV = {
    "RETAILGRAPH_GATEWAY__IDENTITY_SECRET": IDENTITY_SECRET,
    "RETAILGRAPH_GATEWAY__ANONYMOUS__ENABLED": "false",
    "RETAILGRAPH_GATEWAY__CLIENTS": json.dumps(
        {
            "storefront": {
                "api_key_hashes": [key_hash(API_KEY)],
                "scopes": ["orders:place"],
                # Never reached in a run: the limit is checked, never refused.
                "rate_limit": {"quota": 1_000_000_000, "window": 60},
            }
        }
    ),
}
PLACE_ORDER = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { created order { id number totals { total { amount } } } }
}
"""


async def create_database(name: str) -> str:
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return normalise_url(SERVER.rsplit("/", 1)[0] + f"/{name}")


async def drop_database(name: str) -> None:
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def seed(url: str, skus: list[str]) -> None:
    """Prices (pricing) and stock at one DC (inventory), through the service layer."""
    runtime = Runtime(databases=DatabaseLocations(shared=url), migrate_on_start=True)
    apps = {name: DOMAINS[name].create_app(runtime) for name in DOMAINS}
    async with running_subgraphs(apps) as domains:
        pricing, stock = domains["pricing"], domains["inventory"]
        facts = [imports.SkuFacts(sku, "bench", Decimal("0.19")) for sku in skus]
        await imports.register_skus(pricing.uow(), facts)
        rows = [imports.PriceRow(sku, "EUR", f"{10 + n % 90}.99") for n, sku in enumerate(skus)]
        await imports.import_price_list(pricing.uow, "EUR", rows)
        await inventory.save_location(
            stock.uow(), id=DC, name=DC, kind=LocationKind.DC, region="bench",
            rules=[ChannelRule("web")],
        )  # fmt: skip
        await inventory.import_stock_levels(
            stock.uow(), [StockLevel(sku, DC, on_hand=UNITS) for sku in skus]
        )
    await runtime.close()


def start_services(url: str, log_dir: Path) -> tuple[list[Started], list[str]]:
    """The four subgraphs and the gateway; the URLs to wait for, the gateway's last."""
    ports = {name: free_port() for name in DOMAINS}
    peers = {f"{name.upper()}_SUBGRAPH_URL": _graphql(ports[name]) for name in DOMAINS}
    env = {
        "DATABASE_URL": url,
        "RETAILGRAPH_MIGRATE_ON_START": "1",
        "RETAILGRAPH_SUBGRAPHS__IDENTITY_SECRET": IDENTITY_SECRET,
        **peers,
    }
    env.pop("REDIS_URL", None)
    started = [
        start(
            name,
            f"{sys.executable} -m retailgraph.cli subgraph {name} --port {ports[name]}",
            cpu=None,
            log_dir=log_dir,
            cwd=ROOT,
            env=env,
        )
        for name in DOMAINS
    ]
    gateway_port = free_port()
    urls = " ".join(f"--subgraph-url {name}={_graphql(ports[name])}" for name in DOMAINS)
    started.append(
        start(
            "gateway",
            f"{sys.executable} -m retailgraph.cli gateway --supergraph schema.graphql "
            f"--port {gateway_port} {urls}",
            cpu=None,
            log_dir=log_dir,
            cwd=ROOT,
            env={"REDIS_URL": "", **GATEWAY_ENV},
        )
    )
    return started, [*(_graphql(ports[name]) for name in DOMAINS), _graphql(gateway_port)]


def _graphql(port: int) -> str:
    return f"http://127.0.0.1:{port}/graphql"


def _up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url.replace("/graphql", "/health"), timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def order_input(skus: list[str], rng: random.Random) -> dict[str, Any]:
    return {
        "idempotencyKey": f"bench-{uuid.uuid4()}",
        "channel": "web",
        "fulfilment": {"type": "SHIP_FROM_DC", "locationId": DC},
        "lines": [
            {"sku": sku, "quantity": rng.randint(1, 3)}
            for sku in rng.sample(skus, rng.randint(1, 3))
        ],
    }


async def run_level(
    session: aiohttp.ClientSession, url: str, skus: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    async def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            body = {"query": PLACE_ORDER, "variables": {"input": order_input(skus, rng)}}
            began = time.perf_counter()
            async with session.post(url, json=body) as response:
                answer = await response.json()
            latencies.append(time.perf_counter() - began)
            if answer.get("errors") or not answer.get("data"):
                failures.append(str(answer.get("errors"))[:300])

    began = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.monotonic() - began
    ordered = sorted(latencies)
    return {
        "clients": clients,
        "orders": len(latencies),
        "failed": len(failures),
        "first_failure": failures[0] if failures else None,
        "per_second": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def services_cpu(started: list[Started]) -> float:
    return sum(tree_cpu_seconds(process.pid) for process in started)


async def measure(
    url: str, skus: list[str], levels: list[int], seconds: float, started: list[Started]
) -> list[Any]:
    connector = aiohttp.TCPConnector(limit=max(levels))
    headers = {"X-API-Key": API_KEY}
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        await run_level(session, url, skus, 4, 3.0)  # warm-up: connections, plans, caches
        results = []
        for clients in levels:
            cpu_before = services_cpu(started)
            result = await run_level(session, url, skus, clients, seconds)
            # The gateway's and the subgraphs' CPU (PostgreSQL's is not counted).
            result["cpu_ms_per_order"] = (
                1000 * (services_cpu(started) - cpu_before) / max(1, result["orders"])
            )
            print(
                f"{clients:>4} clients: {result['per_second']:7.1f} orders/s  "
                f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                f"{result['cpu_ms_per_order']:5.1f} CPU ms/order  "
                f"({result['orders']} orders, {result['failed']} failed)",
                flush=True,
            )
            if result["failed"]:
                print(f"      first failure: {result['first_failure']}", flush=True)
            results.append(result)
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,32,64", help="Concurrent clients per level.")
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds per level.")
    parser.add_argument("--skus", type=int, default=200, help="SKUs in the catalogue.")
    options = parser.parse_args()
    levels = [int(level) for level in options.levels.split(",")]
    skus = [f"BENCH-{n:05d}" for n in range(options.skus)]
    name = f"bench_checkout_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(name))
    started: list[Started] = []
    try:
        asyncio.run(seed(url, skus))
        log_dir = Path(tempfile.mkdtemp(prefix="bench-place-order-"))
        started, urls = start_services(url, log_dir)
        if not wait_until(lambda: all(_up(u) for u in urls), 60):
            raise SystemExit(f"the services did not start; logs in {log_dir}")
        gateway = urls[-1]
        print(f"placeOrder through the gateway on PostgreSQL; logs in {log_dir}", flush=True)
        print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
        asyncio.run(measure(gateway, skus, levels, options.duration, started))
    finally:
        for process in started:
            process.stop()
        asyncio.run(drop_database(name))


if __name__ == "__main__":
    main()
