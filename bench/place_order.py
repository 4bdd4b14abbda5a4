"""Checkout throughput and latency: ``placeOrder`` through the gateway on PostgreSQL.

The production shape on one machine: the four subgraphs each in its own process
(``retailgraph subgraph NAME``, orders calling pricing and inventory over HTTP) and the
gateway (``retailgraph gateway``), all on a fresh PostgreSQL database made for the run.
A catalogue of SKUs with plenty of stock at one DC is seeded first. Then, for each
concurrency level, that many clients place orders back to back for a fixed time (1 to 3
lines of random SKUs, a new idempotency key each), after a ramp of 3 s that is not
measured (``RAMP_SECONDS``); every order must succeed. The report
gives orders per second, the p50 and p99 latency, and the CPU the five service processes
spent per order (from /proc; PostgreSQL's own CPU is not counted), in all and by process,
at each level.

    python -m bench.place_order                       # levels 1, 8, 32, 64; 15 s each
    python -m bench.place_order --levels 1,16 --duration 30 --skus 500

The services, their storefront client and the database are ``bench.checkout_stack``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.checkout_stack import (
    CHANNEL,
    DC,
    SERVER,
    Services,
    Storefront,
    create_database,
    drop_database,
    seed,
    start_services,
)
from bench.latencies import p50_p99_ms
from bench.processes import wait_until

UNITS = 10_000_000
# Seconds each level runs before it is measured. Clients that all start at one moment send
# their first orders as one wave, which queues at every stage in turn: with 32 clients the
# first half second's orders took about 400 ms where the steady state's took 200 (p99
# 800 ms against 400 over a 15 s level). The measured part is the steady state.
RAMP_SECONDS = 3.0
# Seconds after a level for the work its orders started after their answers to finish.
SETTLE_SECONDS = 2.0
PLACE_ORDER = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { created order { id number totals { total { amount } } } }
}
"""


def order_input(skus: list[str], rng: random.Random) -> dict[str, Any]:
    return {
        "idempotencyKey": f"bench-{uuid.uuid4()}",
        "channel": CHANNEL,
        "fulfilment": {"type": "SHIP_FROM_DC", "locationId": DC},
        "lines": [
            {"sku": sku, "quantity": rng.randint(1, 3)}
            for sku in rng.sample(skus, rng.randint(1, 3))
        ],
    }


async def run_level(
    session: aiohttp.ClientSession,
    url: str,
    skus: list[str],
    clients: int,
    seconds: float,
    *,
    ramp: float = RAMP_SECONDS,
    on_measuring: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """``clients`` placing orders back to back for ``ramp`` then ``seconds``; only the
    orders sent after the ramp count. ``on_measuring`` runs as the measured part begins."""
    latencies: list[float] = []
    failures: list[str] = []
    started = time.monotonic()
    measured_from = started + ramp
    deadline = measured_from + seconds

    async def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            body = {"query": PLACE_ORDER, "variables": {"input": order_input(skus, rng)}}
            sent = time.monotonic()
            began = time.perf_counter()
            async with session.post(url, json=body) as response:
                answer = await response.json()
            if sent < measured_from:
                continue
            latencies.append(time.perf_counter() - began)
            if answer.get("errors") or not answer.get("data"):
                failures.append(str(answer.get("errors"))[:300])

    async def measuring() -> None:
        await asyncio.sleep(ramp)
        if on_measuring is not None:
            await on_measuring()

    await asyncio.gather(measuring(), *(client(n) for n in range(clients)))
    p50_ms, p99_ms = p50_p99_ms(latencies)
    return {
        "clients": clients,
        "orders": len(latencies),
        "failed": len(failures),
        "first_failure": failures[0] if failures else None,
        "per_second": len(latencies) / seconds,
        "p50_ms": p50_ms,
        "p99_ms": p99_ms,
    }


async def measure(
    services: Services, storefront: Storefront, skus: list[str], levels: list[int], seconds: float
) -> list[Any]:
    url = services.gateway
    connector = aiohttp.TCPConnector(limit=max(levels))
    async with aiohttp.ClientSession(connector=connector, headers=storefront.headers) as session:
        # Warm-up: every connection the busiest level opens, plans and caches.
        await run_level(session, url, skus, max(levels), 3.0, ramp=0.0)
        results = []
        for clients in levels:
            before: dict[str, dict[str, float]] = {}

            async def take_readings(into: dict[str, dict[str, float]] = before) -> None:
                into["cpu"] = services.cpu_seconds_by_process()
                into["sql"] = await asyncio.to_thread(services.sql_counts)

            result = await run_level(
                session, url, skus, clients, seconds, on_measuring=take_readings
            )
            cpu_before, sql_before = before["cpu"], before["sql"]
            # The work after the answers (outbox relays, the ERP posting) counts too.
            await asyncio.sleep(SETTLE_SECONDS)
            orders = max(1, result["orders"])
            # The gateway's and the subgraphs' CPU (PostgreSQL's is not counted).
            cpu_after = services.cpu_seconds_by_process()
            result["cpu_ms_per_order_by_process"] = {
                name: 1000 * (cpu_after[name] - cpu_before[name]) / orders for name in cpu_after
            }
            result["cpu_ms_per_order"] = sum(result["cpu_ms_per_order_by_process"].values())
            sql_after = services.sql_counts()
            for kind in ("statements", "transactions"):
                result[f"{kind}_per_order"] = (sql_after[kind] - sql_before[kind]) / orders
            print(
                f"{clients:>4} clients: {result['per_second']:7.1f} orders/s  "
                f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
                f"{result['cpu_ms_per_order']:5.1f} CPU ms/order  "
                f"{result['statements_per_order']:5.1f} SQL statements and "
                f"{result['transactions_per_order']:4.1f} transactions/order  "
                f"({result['orders']} orders, {result['failed']} failed)",
                flush=True,
            )
            by_process = result["cpu_ms_per_order_by_process"].items()
            print(
                "      CPU ms/order by process: "
                + ", ".join(f"{name} {spent:.1f}" for name, spent in by_process),
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
    url = asyncio.run(create_database(SERVER, name))
    services: Services | None = None
    try:
        asyncio.run(seed(url, dict.fromkeys(skus, UNITS)))
        log_dir = Path(tempfile.mkdtemp(prefix="bench-place-order-"))
        storefront = Storefront.made_up()
        services = start_services(url, log_dir, storefront)
        if not wait_until(services.up, 60):
            raise SystemExit(f"the services did not start; logs in {log_dir}")
        print(f"placeOrder through the gateway on PostgreSQL; logs in {log_dir}", flush=True)
        print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
        asyncio.run(measure(services, storefront, skus, levels, options.duration))
    finally:
        if services is not None:
            services.stop()
        asyncio.run(drop_database(SERVER, name))


if __name__ == "__main__":
    main()
