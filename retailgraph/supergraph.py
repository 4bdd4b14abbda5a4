"""Our own supergraph: the four domain subgraphs composed into ``schema.graphql``."""

from __future__ import annotations

from pathlib import Path

from gateway.supergraph.compose import SubgraphSource, compose
from retailgraph.domains import DOMAINS

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schema.graphql"


async def domain_sdl(name: str) -> str:
    """The SDL the domain serves as ``_service { sdl }``, read without starting it."""
    result = await DOMAINS[name].schema.execute("{ _service { sdl } }")
    if result.errors or result.data is None:
        raise RuntimeError(f"{name}: {result.errors[0].message if result.errors else 'no SDL'}")
    return str(result.data["_service"]["sdl"])


async def compose_domains() -> str:
    sources = [
        SubgraphSource(name, parts.default_url, await domain_sdl(name))
        for name, parts in DOMAINS.items()
    ]
    return compose(sources)
