"""Subscription fan-out: N graphql-transport-ws subscribers on one store's stock.

One ``retailgraph run`` process (the gateway with its subgraphs in process, a fresh
SQLite demo retailer) is pinned to CPU 0; this process, pinned to CPU 1, opens N
WebSockets, subscribes each to ``stockChanged`` at one store with the product's name (so
every event also needs the products subgraph), then applies stock movements one at a
time through the gateway's ``applyStockMovements`` mutation. For each movement it takes
the time from just before sending the mutation to each client's frame arriving; it
reports the p50 and p99 over every (movement, client) pair, and the gateway's resident
memory per subscriber (its RSS with N subscribers minus its RSS before any, over N).

    python -m bench.subscriptions --subscribers 5000 --movements 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.processes import Started, free_port, start, tree_cpu_seconds, wait_until
from bench.ws_client import OnText, Subscriber

ROOT = Path(__file__).resolve().parents[1]
# Receiving stock takes ``inventory:manage``: the demo operator's key. The subscribers are
# anonymous, as a public stock display is (stock levels are part of the catalogue).
OPERATOR = {"X-API-Key": "demo-operator-key"}
LOCATION = "STORE-BERLIN"
SKU = "ST-0002-01"
SUBSCRIPTION = """
subscription StoreStock($at: ID!, $skus: [ID!]) {
  stockChanged(locationId: $at, skus: $skus) {
    sku
    stockLevel { onHand available }
    product { name }
  }
}
"""
MOVEMENT = """
mutation Receive($movement: StockMovementInput!) {
  applyStockMovements(movements: [$movement]) {
    rejected { code message }
    stockLevels { onHand }
  }
}
"""


@dataclass
class Clients:
    """Every client's frame arrival times, by the on-hand quantity the frame carries
    (each movement receives one unit, so that quantity names the movement)."""

    arrivals: dict[int, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    awaited: tuple[int, int, asyncio.Event] | None = None

    def received(self, on_hand: int) -> int:
        return len(self.arrivals.get(on_hand, ()))

    def arrived(self, on_hand: int, at: float) -> None:
        arrivals = self.arrivals.setdefault(on_hand, [])
        arrivals.append(at)
        awaited = self.awaited
        if awaited is not None and awaited[0] == on_hand and len(arrivals) >= awaited[1]:
            awaited[2].set()

    async def wait_for(self, on_hand: int, wanted: int, seconds: float) -> None:
        if self.received(on_hand) >= wanted:
            return
        self.awaited = (on_hand, wanted, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.awaited[2].wait()
        self.awaited = None


def frame_handler(clients: Clients) -> OnText:
    def on_text(payload: bytes, at: float) -> None:
        try:
            event = orjson.loads(payload)["payload"]["data"]["stockChanged"]
            on_hand = event["stockLevel"]["onHand"]
            if not event["product"]["name"]:
                raise KeyError("name")
        except (KeyError, TypeError, orjson.JSONDecodeError):
            clients.errors.append(f"unexpected frame: {payload[:300]!r}")
            return
        clients.arrived(on_hand, at)

    return on_text


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def apply_movement(session: aiohttp.ClientSession, base: str, run: str, n: int) -> int:
    """Receive one unit; the on-hand quantity after it."""
    movement = {
        "type": "RECEIPT",
        "sku": SKU,
        "locationId": LOCATION,
        "quantity": 1,
        "sourceDocumentId": f"BENCH-{run}-{n}",
    }
    body = {"query": MOVEMENT, "variables": {"movement": movement}}
    async with session.post(f"{base}/graphql", json=body, headers=OPERATOR) as response:
        answer = await response.json()
    if answer.get("errors") or answer["data"]["applyStockMovements"]["rejected"]:
        raise RuntimeError(f"the movement failed: {answer}")
    return int(answer["data"]["applyStockMovements"]["stockLevels"][0]["onHand"])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(
    gateway: Started, base: str, subscribers: int, movements: int, deflate: bool
) -> dict[str, Any]:
    clients = Clients()
    run = uuid.uuid4().hex[:8]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await apply_movement(session, base, run, -1)  # warm the path before the baseline
        await asyncio.sleep(1.0)
        baseline = rss_bytes(gateway.pid)
        host, port = base.removeprefix("http://").split(":")
        variables: dict[str, object] = {"at": LOCATION, "skus": [SKU]}
        on_text = frame_handler(clients)
        sockets: list[Subscriber] = []
        for start_at in range(0, subscribers, 250):
            size = min(250, subscribers - start_at)
            sockets += await asyncio.gather(
                *(
                    Subscriber.open(host, int(port), SUBSCRIPTION, variables, on_text, deflate)
                    for _ in range(size)
                )
            )
        # unmeasured movements until one reaches everyone: every subscription is live
        for attempt in range(5):
            on_hand = await apply_movement(session, base, run, 10_000 + attempt)
            await clients.wait_for(on_hand, subscribers, 10.0)
            if clients.received(on_hand) == subscribers:
                break
        else:
            raise RuntimeError(f"only {clients.received(on_hand)} of {subscribers} subscribed")
        await asyncio.sleep(1.0)
        loaded = rss_bytes(gateway.pid)
        latencies: list[float] = []
        per_movement: list[float] = []
        cpu_before = tree_cpu_seconds(gateway.pid)
        for n in range(movements):
            started = time.monotonic()
            on_hand = await apply_movement(session, base, run, n)
            await clients.wait_for(on_hand, subscribers, 30.0)
            arrived = clients.arrivals.get(on_hand, [])
            if len(arrived) != subscribers:
                raise RuntimeError(f"movement {n}: {len(arrived)} of {subscribers} frames arrived")
            times = [(at - started) * 1000 for at in arrived]
            latencies.extend(times)
            per_movement.append(max(times))
            await asyncio.sleep(0.2)
        cpu_per_movement = (tree_cpu_seconds(gateway.pid) - cpu_before) / movements
        for socket in sockets:
            socket.close()
    return {
        "subscribers": subscribers,
        "deflate_offered": deflate,
        "movements": movements,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "last_frame_median_ms": round(statistics.median(per_movement), 1),
        "gateway_cpu_ms_per_movement": round(cpu_per_movement * 1000, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rss_baseline_mb": round(baseline / 2**20, 1),
        "rss_loaded_mb": round(loaded / 2**20, 1),
        "rss_per_subscriber_kb": round((loaded - baseline) / subscribers / 1024, 1),
        "client_errors": clients.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000])
    parser.add_argument("--movements", type=int, default=20)
    parser.add_argument("--gateway-cpu", type=int, default=0)
    parser.add_argument("--client-cpu", type=int, default=1)
    parser.add_argument(
        "--deflate", action="store_true", help="Clients offer permessage-deflate, as browsers do."
    )
    options = parser.parse_args()
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {options.client_cpu})
    gc.set_threshold(50_000, 20, 100)  # as the gateway does: see gateway/server.py
    with tempfile.TemporaryDirectory(prefix="bench-subscriptions-") as data_dir:
        port = free_port()
        gateway = start(
            "gateway",
            f"{sys.executable} -m retailgraph.cli run --host 127.0.0.1 --port {port}",
            cpu=options.gateway_cpu,
            log_dir=Path(data_dir),
            cwd=ROOT,
            env={"RETAILGRAPH_DATA_DIR": data_dir},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            if not wait_until(lambda: _healthy(base) or not gateway.alive(), 180):
                raise RuntimeError("the gateway did not start")
            if not gateway.alive():
                raise RuntimeError(gateway.log_tail())
            for subscribers in options.subscribers:
                run = measure(gateway, base, subscribers, options.movements, options.deflate)
                result = asyncio.run(run)
                print(orjson.dumps(result).decode(), flush=True)
        finally:
            gateway.stop()


def _healthy(base: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base}/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


if __name__ == "__main__":
    main()
