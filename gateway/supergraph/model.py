"""What the planner needs to know about a supergraph, read once from its join directives.

Everything is keyed by subgraph NAME ("accounts"), not by the join enum value, because
plans, logs and errors speak of subgraphs by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from graphql import GraphQLSchema, SelectionSetNode

from gateway.supergraph.access import AccessRules
from gateway.supergraph.costs import CostDirectives

TypeKind = Literal["object", "interface", "union", "enum", "input", "scalar"]


@dataclass(frozen=True, slots=True)
class Subgraph:
    name: str
    url: str
    graph: str
    """The join__Graph enum value, e.g. ``ACCOUNTS``."""


@dataclass(frozen=True, slots=True)
class Key:
    fields: str
    selection: SelectionSetNode
    resolvable: bool = True


@dataclass(slots=True)
class TypeInSubgraph:
    keys: list[Key] = field(default_factory=list)
    is_interface_object: bool = False
    extension: bool = False


@dataclass(slots=True)
class FieldInSubgraph:
    external: bool = False
    requires: SelectionSetNode | None = None
    provides: SelectionSetNode | None = None
    type: str | None = None
    override: str | None = None
    override_label: str | None = None
    used_overridden: bool = False


@dataclass(slots=True)
class FieldMeta:
    type_name: str
    name: str
    subgraphs: dict[str, FieldInSubgraph] = field(default_factory=dict)
    """Every subgraph that declares the field (external ones included)."""
    resolvers: tuple[str, ...] = ()
    """Subgraphs that resolve it themselves: not external, not overridden, in schema order."""


@dataclass(slots=True)
class TypeMeta:
    name: str
    kind: TypeKind
    subgraphs: dict[str, TypeInSubgraph] = field(default_factory=dict)
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    interfaces: dict[str, set[str]] = field(default_factory=dict)
    """For objects and interfaces: subgraph name -> interfaces it implements there."""
    implementations: dict[str, set[str]] = field(default_factory=dict)
    """For interfaces: subgraph name -> object/interface types implementing it there."""
    members: dict[str, set[str]] = field(default_factory=dict)
    """For unions: subgraph name -> member types there."""

    def keys_in(self, subgraph: str) -> list[Key]:
        info = self.subgraphs.get(subgraph)
        return info.keys if info is not None else []

    def is_entity(self) -> bool:
        return any(info.keys for info in self.subgraphs.values())


@dataclass(slots=True)
class Supergraph:
    api_schema: GraphQLSchema
    """The client-facing schema: no join/link machinery, no @inaccessible elements."""
    schema: GraphQLSchema
    """The full supergraph schema (inaccessible elements included), for planning."""
    subgraphs: dict[str, Subgraph]
    types: dict[str, TypeMeta]
    root_types: dict[str, str]
    """Operation kind ("query", "mutation", "subscription") -> root type name."""
    costs: CostDirectives = field(default_factory=CostDirectives)
    """``@cost`` and ``@listSize``, for demand control."""
    access: AccessRules = field(default_factory=AccessRules)
    """``@authenticated``, ``@requiresScopes`` and ``@policy``: who may see what."""

    def subgraph_by_graph(self, graph: str) -> Subgraph:
        for subgraph in self.subgraphs.values():
            if subgraph.graph == graph:
                return subgraph
        raise KeyError(graph)
