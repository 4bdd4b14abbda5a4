"""Prometheus exposition for the product's processes other than the gateway.

A standalone subgraph serves ``/metrics`` beside ``/graphql`` (``metrics_route``); a
worker, which serves no HTTP, starts prometheus_client's small server on the port the
settings give (``serve_metrics``). Both expose the process's default registry, so what
any part of the process registers there is served. (The gateway has its own, in
``gateway/http``: the gateway imports nothing of ours.)
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest, start_http_server
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def _metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def metrics_route() -> Route:
    return Route("/metrics", _metrics, methods=["GET"])


def serve_metrics(host: str, port: int) -> None:
    """Serves ``/metrics`` on ``host:port`` from a daemon thread, for the process's life."""
    start_http_server(port, addr=host)
