"""Composition: subgraph SDLs in, a Federation v2 supergraph SDL (join v0.3) out."""

from gateway.supergraph.compose.compose import SubgraphSource, compose
from gateway.supergraph.compose.errors import CompositionError, CompositionIssue
from gateway.supergraph.compose.fetch import (
    compose_from_apps,
    compose_from_urls,
    fetch_subgraphs,
)

__all__ = [
    "CompositionError",
    "CompositionIssue",
    "SubgraphSource",
    "compose",
    "compose_from_apps",
    "compose_from_urls",
    "fetch_subgraphs",
]
