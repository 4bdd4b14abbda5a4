"""Each GraphQL request over HTTP leaves one JSON log line: its client, operation, outcome,
duration, correlation id and trace id. Refusals and a client that leaves are lines like
any other, never a traceback.

The gateway is the real one over in-process subgraphs, logging through the process's
logging setup (``retailgraph.logs``) into a buffer.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import Client, ClientDirectory, key_hash
from gateway.security.quotas import local_quotas
from gateway.security.ratelimit import RatePolicy
from gateway.supergraph.compose import compose_from_apps
from kernel.clock import SettableClock
from retailgraph.logs import configure_logging
from retailgraph.settings import LoggingSettings
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.support import TEST_NOW

KEY = "shop-key"
SHOP = Client("shop", key_hashes=frozenset({key_hash(KEY)}), rate_limit=RatePolicy("shop", 2, 60))
QUERY = "query Catalogue { products { sku } }"


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """The process's logging, as ``retailgraph gateway`` sets it up, into a buffer."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    output = io.StringIO()
    configure_logging(
        LoggingSettings(format="json"), default_format="json", stream=output, traced=True
    )
    try:
        yield output
    finally:
        configure_logging(LoggingSettings(), default_format="console")
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)


@pytest.fixture
async def gateway(log_output: io.StringIO) -> AsyncIterator[Starlette]:
    apps = subgraph_apps()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    tracer = provider.get_tracer("tests")
    engine = FederatedEngine(
        await compose_from_apps(apps),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
        tracer=tracer,
    )
    app = create_app(
        engine,
        clients=ClientDirectory([SHOP]),
        quotas=local_quotas(SettableClock(TEST_NOW)),
        tracer=tracer,
    )
    async with app.router.lifespan_context(app):
        yield app


def lines(output: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.getvalue().splitlines()]


def requests(output: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in lines(output) if line["event"] == "request"]


async def post(app: Starlette, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.post("/graphql", json={"query": QUERY}, headers=headers)


async def test_a_request_is_one_json_line_with_its_client_operation_outcome_and_ids(
    gateway: Starlette, log_output: io.StringIO
) -> None:
    response = await post(gateway, **{"X-API-Key": KEY, "X-Correlation-ID": "corr-logs-1"})
    assert response.status_code == 200, response.text
    [line] = requests(log_output)
    assert line["client"] == "shop"
    assert line["operation"] == "Catalogue"
    assert line["outcome"] == "ok"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["level"] == "info"
    assert line["correlation_id"] == "corr-logs-1"
    assert len(line["trace_id"]) == 32
    assert line["timestamp"].endswith("Z")


async def test_refusals_are_one_line_each_without_a_traceback(
    gateway: Starlette, log_output: io.StringIO
) -> None:
    refused = await post(gateway, **{"X-API-Key": "not-a-key"})
    spent = [await post(gateway, **{"X-API-Key": KEY}) for _ in range(3)]
    assert refused.status_code == 401
    assert spent[-1].status_code == 429
    outcomes = [line["outcome"] for line in requests(log_output)]
    assert outcomes[0] == refused.json()["errors"][0]["extensions"]["code"]
    assert outcomes[1:] == ["ok", "ok", "RATE_LIMITED"]
    assert _no_traceback(log_output)


async def test_a_client_that_leaves_mid_request_is_one_line_without_a_traceback(
    gateway: Starlette, log_output: io.StringIO
) -> None:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"host", b"gateway"),
            (b"x-api-key", KEY.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway", 80),
    }
    await gateway(scope, receive, send)
    [line] = requests(log_output)
    assert line["outcome"] == "REQUEST_INCOMPLETE"
    assert line["level"] == "info"
    assert _no_traceback(log_output)


def _no_traceback(output: io.StringIO) -> bool:
    text = output.getvalue()
    return "Traceback" not in text and not any("exception" in line for line in lines(output))
