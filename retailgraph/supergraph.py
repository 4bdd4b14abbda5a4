"""Our own supergraph: the four domain subgraphs composed into ``schema.graphql``."""

from __future__ import annotations

import importlib
from pathlib import Path

from gateway.supergraph.compose import SubgraphSource, compose
from retailgraph.domains import DOMAINS

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema.graphql"

# Where each subgraph listens when it runs as its own service (`retailgraph subgraph NAME`);
# the embedded mode calls them in process instead.
DEFAULT_PORTS = {"products": 4001, "pricing": 4002, "inventory": 4003, "orders": 4004}


def default_url(name: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_PORTS[name]}/graphql"


async def domain_sdl(name: str) -> str:
    """The SDL the domain serves as ``_service { sdl }``, read without starting it."""
    schema = importlib.import_module(f"domains.{name}.schema").schema
    result = await schema.execute("{ _service { sdl } }")
    if result.errors:
        raise RuntimeError(f"{name}: {result.errors[0].message}")
    return str(result.data["_service"]["sdl"])


async def compose_domains() -> str:
    sources = [SubgraphSource(name, default_url(name), await domain_sdl(name)) for name in DOMAINS]
    return compose(sources)
