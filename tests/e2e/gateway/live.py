"""The real ``retailgraph gateway`` process in front of the tiny subgraphs over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.supergraph.compose import compose_from_urls
from tests.e2e.gateway.server import RunningServer, running_command
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.e2e.gateway.threaded import serving_in_thread


def subgraphs_app() -> Starlette:
    """Both subgraphs in one app: /products/graphql and /stock/graphql."""
    return Starlette(routes=[Mount(f"/{name}", app) for name, app in subgraph_apps().items()])


def endpoints(base_url: str) -> dict[str, str]:
    return {name: f"{base_url}/{name}/graphql" for name in ("products", "stock")}


@contextlib.contextmanager
def live_gateway(directory: Path, *options: str) -> Iterator[RunningServer]:
    with serving_in_thread(subgraphs_app()) as base_url:
        supergraph = directory / "supergraph.graphql"
        supergraph.write_text(asyncio.run(compose_from_urls(endpoints(base_url))))
        with running_command("gateway", "--supergraph", str(supergraph), *options) as server:
            yield server
