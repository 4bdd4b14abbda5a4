"""A flash sale's burst: N clients, each connected first, all sending one order at once.

Each client has its own connection (a session of one connection), opened by a request to
``/health`` before the release, so the burst measures checkout, not TCP handshakes. An
answer is accepted (``placeOrder`` created the order), refused with a code (GraphQL
errors with ``extensions.code``: INSUFFICIENT_STOCK is the expected one), or a failure
of the run: a 5xx, an error without a code, an answer that is not GraphQL, a dropped
connection.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.checkout_stack import CHANNEL, DC
from bench.latencies import p50_p99_ms

PLACE_ORDER = """
mutation Place($input: PlaceOrderInput!) {
  placeOrder(input: $input) { created order { id number } }
}
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """``accepted``, ``refused`` (with the error's ``code``) or ``failed`` (with why)."""

    kind: str
    detail: str = ""


def classify(status: int, body: str) -> Outcome:
    """What one HTTP answer to ``placeOrder`` says about the order."""
    if status >= 500:
        return Outcome("failed", f"HTTP {status}: {body[:300]}")
    try:
        answer = json.loads(body)
    except ValueError:
        return Outcome("failed", f"HTTP {status}, not JSON: {body[:300]}")
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if errors:
        code = (errors[0].get("extensions") or {}).get("code")
        if not code:
            return Outcome("failed", f"HTTP {status}, an error without a code: {errors[0]}")
        return Outcome("refused", str(code))
    placed = ((answer.get("data") or {}) if isinstance(answer, dict) else {}).get("placeOrder")
    if placed and placed.get("created"):
        return Outcome("accepted")
    return Outcome("failed", f"HTTP {status}, neither an order nor an error: {body[:300]}")


@dataclass
class Burst:
    """The answers of one burst, and the figures the report gives for it."""

    clients: int
    units_per_order: int
    wall_seconds: float = 0.0
    # From the release to the last accepted answer: how long the stock lasted.
    sold_out_seconds: float = 0.0
    connect_seconds: float = 0.0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def add(self, outcome: Outcome, latency: float, answered_at: float) -> None:
        self.latencies.append(latency)
        if outcome.kind == "accepted":
            self.accepted += 1
            self.sold_out_seconds = max(self.sold_out_seconds, answered_at)
        elif outcome.kind == "refused":
            self.refused[outcome.detail] += 1
        else:
            self.failures.append(outcome.detail)

    @property
    def answered(self) -> int:
        return self.accepted + sum(self.refused.values())

    @property
    def orders_per_second(self) -> float:
        """Accepted and refused orders over the burst's wall time."""
        return self.answered / self.wall_seconds if self.wall_seconds else 0.0

    @property
    def accepted_per_second(self) -> float:
        """Accepted orders over the time the stock lasted."""
        return self.accepted / self.sold_out_seconds if self.sold_out_seconds else 0.0

    def summary(self) -> dict[str, Any]:
        p50_ms, p99_ms = p50_p99_ms(self.latencies) if self.latencies else (0.0, 0.0)
        return {
            "clients": self.clients,
            "units_per_order": self.units_per_order,
            "accepted": self.accepted,
            "refused": dict(self.refused),
            "failed": len(self.failures),
            "first_failure": self.failures[0] if self.failures else None,
            "connect_s": self.connect_seconds,
            "wall_s": self.wall_seconds,
            "sold_out_s": self.sold_out_seconds,
            "orders_per_second": self.orders_per_second,
            "accepted_per_second": self.accepted_per_second,
            "p50_ms": p50_ms,
            "p99_ms": p99_ms,
        }


def order_body(sku: str, units: int) -> dict[str, Any]:
    order = {
        "idempotencyKey": f"flash-{uuid.uuid4()}",
        "channel": CHANNEL,
        "fulfilment": {"type": "SHIP_FROM_DC", "locationId": DC},
        "lines": [{"sku": sku, "quantity": units}],
    }
    return {"query": PLACE_ORDER, "variables": {"input": order}}


class _Start:
    """Lets every client through at one moment, once all of them have connected."""

    def __init__(self, clients: int) -> None:
        self._waiting = clients
        self.all_connected = asyncio.Event()
        self.released = asyncio.Event()
        self.at = 0.0

    def connected(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self.all_connected.set()


async def run_burst(url: str, headers: dict[str, str], sku: str, clients: int, units: int) -> Burst:
    burst = Burst(clients=clients, units_per_order=units)
    start = _Start(clients)

    async def client() -> None:
        body = order_body(sku, units)
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            try:
                async with session.get(url.replace("/graphql", "/health")) as health:
                    await health.read()
            finally:
                start.connected()
            await start.released.wait()
            began = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    outcome = classify(response.status, await response.text())
            except aiohttp.ClientError as error:
                outcome = Outcome("failed", f"{type(error).__name__}: {error}")
            ended = time.perf_counter()
            burst.add(outcome, ended - began, ended - start.at)

    connecting = time.perf_counter()
    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await start.all_connected.wait()
    start.at = time.perf_counter()
    burst.connect_seconds = start.at - connecting
    start.released.set()
    await asyncio.gather(*tasks)
    burst.wall_seconds = time.perf_counter() - start.at
    return burst
