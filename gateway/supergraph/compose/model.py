"""The merged supergraph, as plain data, before it is printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.supergraph.compose.subgraph import ArgumentDef, FieldDef, Kind, TypeDef


@dataclass(slots=True)
class MergedField:
    name: str
    type: str
    sources: dict[str, FieldDef] = field(default_factory=dict)
    """Subgraph name -> its definition, in subgraph order (overridden-away ones removed)."""
    arguments: dict[str, ArgumentDef] = field(default_factory=dict)
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False
    default: str | None = None
    types_differ: bool = False
    used_overridden: set[str] = field(default_factory=set)
    from_interface_object: bool = False
    """Added to an implementation by an ``@interfaceObject``: printed ``@join__field``."""


@dataclass(slots=True)
class MergedValue:
    name: str
    subgraphs: list[str] = field(default_factory=list)
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False


@dataclass(slots=True)
class MergedType:
    name: str
    kind: Kind
    sources: dict[str, TypeDef] = field(default_factory=dict)
    description: str | None = None
    inaccessible: bool = False
    fields: dict[str, MergedField] = field(default_factory=dict)
    interfaces: dict[str, list[str]] = field(default_factory=dict)
    """Interface name -> subgraphs where this type implements it."""
    members: dict[str, list[str]] = field(default_factory=dict)
    """Union member name -> subgraphs where it is a member."""
    values: dict[str, MergedValue] = field(default_factory=dict)


@dataclass(slots=True)
class Supergraph:
    subgraphs: dict[str, str]
    """Subgraph name -> URL, sorted by name."""
    types: dict[str, MergedType] = field(default_factory=dict)

    @property
    def uses_inaccessible(self) -> bool:
        for merged in self.types.values():
            if merged.inaccessible:
                return True
            if any(f.inaccessible or _any_arg(f) for f in merged.fields.values()):
                return True
            if any(v.inaccessible for v in merged.values.values()):
                return True
        return False


def _any_arg(merged: MergedField) -> bool:
    return any(a.inaccessible for a in merged.arguments.values())
