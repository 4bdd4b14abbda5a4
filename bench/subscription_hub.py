"""The subscription hub alone: one in-process bus, N subscribers on one store's stock.

Measures, per event, the time from publishing it to each subscriber taking it from its
queue (p50, p99), and the memory each subscriber costs the hub (tracemalloc). No sockets:
this is the subgraph side's share of a subscription's latency.

    .venv/bin/python -m bench.subscription_hub --subscribers 5000 --events 50 --interval 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
from datetime import UTC, datetime

from adapters.bus.hub import SubscriptionHub
from adapters.bus.inprocess import InProcessBus
from kernel.events import Event

EVENT_TIME = datetime(2026, 1, 1, tzinfo=UTC)


def _stock_event(number: int) -> Event:
    payload = {"sku": f"SKU-{number % 20}", "locationId": "STORE-1", "onHand": number}
    return Event("StockChanged", f"SKU-{number % 20}@STORE-1", payload, occurred_at=EVENT_TIME)


async def _subscriber(
    hub: SubscriptionHub, ready: asyncio.Event, events: int, lags: list[float]
) -> None:
    async with hub.subscribe(
        ["StockChanged"], lambda e: e.payload["locationId"] == "STORE-1"
    ) as subscription:
        ready.set()
        received = 0
        async for delivery in subscription:
            lags.append(time.perf_counter() - delivery.event.payload["publishedAt"])
            received += 1
            if received == events:
                return


async def run(subscribers: int, events: int, interval: float) -> None:
    bus = InProcessBus()
    hub = SubscriptionHub(bus)
    await hub.start()
    lags: list[float] = []
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = [asyncio.create_task(_subscriber(hub, ready, events, lags)) for ready in readies]
    for ready in readies:
        await ready.wait()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    for number in range(events):
        event = _stock_event(number)
        event.payload["publishedAt"] = time.perf_counter()
        await bus.publish([event])
        await asyncio.sleep(interval)  # a store's stock changes now and then, not in a burst
    await asyncio.gather(*tasks)
    await hub.close()
    lags.sort()
    p50 = statistics.median(lags) * 1000
    p99 = lags[int(len(lags) * 0.99) - 1] * 1000
    print(f"subscribers: {subscribers}, events: {events}, deliveries: {len(lags)}")
    print(f"publish -> subscriber: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"hub memory per subscriber: {grown / subscribers / 1024:.1f} KiB (task included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between events")
    args = parser.parse_args()
    asyncio.run(run(args.subscribers, args.events, args.interval))


if __name__ == "__main__":
    main()
