"""Composing subgraph SDLs into a supergraph SDL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphql import GraphQLError, build_schema

from gateway.supergraph.compose.errors import CompositionError, CompositionIssue
from gateway.supergraph.compose.merge import merge
from gateway.supergraph.compose.model import Subgraph, TypeDef
from gateway.supergraph.compose.printer import print_supergraph
from gateway.supergraph.compose.rules import check
from gateway.supergraph.compose.subgraph import read_subgraph


@dataclass(frozen=True, slots=True)
class SubgraphSource:
    name: str
    url: str
    sdl: str
    """As served by ``_service { sdl }``: Federation v2, with its ``@link``."""


def compose(subgraphs: Sequence[SubgraphSource]) -> str:
    """The supergraph SDL; raises ``CompositionError`` listing every issue found."""
    issues: list[CompositionIssue] = []
    names = [s.name for s in subgraphs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        issues.append(
            CompositionIssue("INVALID_SUBGRAPH_NAME", f'Subgraph "{name}" is given twice.', (name,))
        )
    if not subgraphs:
        issues.append(CompositionIssue("NO_SUBGRAPHS", "There is no subgraph to compose."))
    read: list[Subgraph] = []
    for source in sorted(subgraphs, key=lambda s: s.name):
        subgraph, problems = read_subgraph(source.name, source.url, source.sdl)
        issues.extend(problems)
        read.append(subgraph)
    if issues:
        raise CompositionError(issues)
    for subgraph in read:
        subgraph.types.setdefault("Query", TypeDef("Query", "object"))
    supergraph, issues = merge(read)
    issues.extend(check(read, supergraph))
    if issues:
        raise CompositionError(issues)
    sdl = print_supergraph(supergraph)
    try:
        build_schema(sdl)
    except (GraphQLError, TypeError) as error:
        raise CompositionError(
            [CompositionIssue("INVALID_SUPERGRAPH", f"The merged schema is invalid: {error}")]
        ) from None
    return sdl
