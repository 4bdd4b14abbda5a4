"""The console's KPIs: read from a registry or from another process's /metrics text, the
larger of two processes' values standing, and an hour of readings kept."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from gateway.console.history import KpiHistory
from gateway.console.kpis import RegistrySource, ScrapeSource, read_all
from kernel.clock import SettableClock
from tests.support import TEST_NOW


def _registry(backlog: float, lag: float) -> CollectorRegistry:
    registry = CollectorRegistry()
    Gauge("retailgraph_erp_backlog", "", ["kind"], registry=registry).labels("sale").set(backlog)
    Gauge("retailgraph_erp_backlog_oldest_seconds", "", registry=registry).set(42)
    Gauge("retailgraph_event_lag_seconds", "", ["consumer"], registry=registry).labels(
        "pricing.low-stock"
    ).set(lag)
    Gauge("retailgraph_outbox_depth", "", ["domain"], registry=registry).labels("orders").set(3)
    Gauge("unrelated_gauge", "", registry=registry).set(1)
    return registry


async def test_kpis_from_a_registry_are_named_by_their_labels() -> None:
    reading = await read_all([RegistrySource(_registry(5, 1.5))], TEST_NOW)

    assert reading.erp_backlog == {"sale": 5}
    assert reading.erp_backlog_oldest == 42
    assert reading.event_lag == {"pricing.low-stock": 1.5}
    assert reading.outbox_depth == {"orders": 3}
    assert reading.erp_dead_letters == {}
    assert reading.unreachable == {}


@contextlib.asynccontextmanager
async def _served(texts: dict[str, bytes]) -> AsyncIterator[str]:
    """Each process's metrics page at ``/<process>/metrics`` on a local port; any other
    process answers 503. The server's URL."""

    async def answer(request: web.Request) -> web.Response:
        body = texts.get(request.match_info["process"])
        if body is None:
            return web.Response(status=503)
        return web.Response(body=body)

    app = web.Application()
    app.router.add_get("/{process}/metrics", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_kpis_scraped_from_processes_keep_the_larger_value_and_name_the_unreachable() -> None:
    texts = {
        "orders": generate_latest(_registry(5, 0.5)),
        "worker": generate_latest(_registry(7, 0.2)),
    }
    async with _served(texts) as url:
        sources = [
            ScrapeSource(f"{url}/{name}/metrics") for name in ("orders", "worker", "inventory")
        ]
        reading = await read_all(sources, TEST_NOW)
        for source in sources:
            await source.aclose()

    assert reading.erp_backlog == {"sale": 7}
    assert reading.event_lag == {"pricing.low-stock": 0.5}
    assert list(reading.unreachable) == [f"{url}/inventory/metrics"]


async def test_a_scrape_larger_than_any_metrics_page_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gateway.console.kpis.MAX_SCRAPE_BYTES", 100)
    async with _served({"orders": generate_latest(_registry(5, 0.5))}) as url:
        source = ScrapeSource(f"{url}/orders/metrics")
        reading = await read_all([source], TEST_NOW)
        await source.aclose()

    assert reading.erp_backlog == {}
    assert "more than 100 bytes" in reading.unreachable[f"{url}/orders/metrics"]


async def test_the_history_keeps_the_last_hour_of_readings() -> None:
    clock = SettableClock(TEST_NOW)
    history = KpiHistory([RegistrySource(_registry(1, 0))], clock, interval=15)
    for _ in range(300):
        await history.sample()
        clock.advance(timedelta(seconds=15))

    readings = history.readings
    assert readings[-1].at - readings[0].at <= timedelta(hours=1)
    assert len(readings) == 241
    assert history.to_json()["latest"]["erpBacklog"] == {"sale": 1}
