"""The embedded system as operators watch it: its KPIs in the process's registry, and
the gateway as the demo's clients call it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from retailgraph.domains import DOMAINS
from retailgraph.embedded import DEMO_KEYS, create_app
from tests.support import local_runtime, serving

AS_STOREFRONT = {"X-API-Key": DEMO_KEYS["storefront"]}
AS_OPERATOR = {"X-API-Key": DEMO_KEYS["operator"]}
WAIT = 60.0


def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the default registry, by name and labels."""
    text_format = generate_latest(REGISTRY).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text_format)
        for sample in family.samples
    }


def value(name: str, **labels: str) -> float:
    return samples().get((name, tuple(sorted(labels.items()))), 0.0)


def backlog() -> float:
    return sum(
        value("retailgraph_erp_backlog", kind=kind) for kind in ("sale", "cancellation", "return")
    )


async def until(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not await _holds(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _holds(condition: Callable[[], Any]) -> bool:
    result = condition()
    if asyncio.iscoroutine(result):
        result = await result
    return bool(result)


class Caller:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def answer(self, query: str, headers: dict[str, str], **variables: Any) -> Any:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        return response.json()

    async def post(self, query: str, headers: dict[str, str], **variables: Any) -> Any:
        body = await self.answer(query, headers, **variables)
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="module")
async def embedded(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Caller, Any]]:
    """The embedded system (demo retailer, ERP simulator, worker), gauges read every 0.1 s:
    one per test module (loading the demo takes seconds); each test reads the counters
    before and after what it does, and leaves the ERP up."""
    folder = tmp_path_factory.mktemp("embedded")
    urls = {name: f"sqlite+aiosqlite:///{folder / name}.db" for name in DOMAINS}
    app = create_app(local_runtime(**urls), kpi_interval=0.1)
    async with serving(app, "http://retailgraph") as client:
        client.timeout = httpx.Timeout(60)
        yield Caller(client), app
