"""Loading the supergraph (and, in ``compose``, composing one from subgraph SDLs)."""

from __future__ import annotations

from gateway.supergraph.loader import SupergraphError, load_supergraph, parse_field_set
from gateway.supergraph.model import (
    FieldInSubgraph,
    FieldMeta,
    Key,
    Subgraph,
    Supergraph,
    TypeInSubgraph,
    TypeMeta,
)

__all__ = [
    "FieldInSubgraph",
    "FieldMeta",
    "Key",
    "Subgraph",
    "Supergraph",
    "SupergraphError",
    "TypeInSubgraph",
    "TypeMeta",
    "load_supergraph",
    "parse_field_set",
]
