"""Composition's data: each subgraph as read, and the merged supergraph before printing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gateway.supergraph.access import Requirement

Kind = Literal["object", "interface", "union", "enum", "input", "scalar"]


@dataclass(slots=True)
class ArgumentDef:
    name: str
    type: str
    default: str | None = None
    description: str | None = None
    inaccessible: bool = False
    deprecated: str | None = None
    tags: list[str] = field(default_factory=list)
    cost: int | None = None


@dataclass(slots=True)
class FieldDef:
    name: str
    type: str
    arguments: dict[str, ArgumentDef] = field(default_factory=dict)
    description: str | None = None
    deprecated: str | None = None
    external: bool = False
    shareable: bool = False
    requires: str | None = None
    provides: str | None = None
    override: str | None = None
    inaccessible: bool = False
    default: str | None = None
    """For input fields: the printed default value."""
    tags: list[str] = field(default_factory=list)
    cost: int | None = None
    list_size: str | None = None
    """The arguments of its ``@listSize``, printed (``assumedSize: 20``)."""
    access: Requirement = field(default_factory=Requirement)
    """Its ``@authenticated``, ``@requiresScopes`` and ``@policy``."""


@dataclass(slots=True)
class Key:
    fields: str
    resolvable: bool = True
    resolvable_written: bool = False
    """``resolvable:`` was given explicitly (Apollo's output then repeats it)."""


@dataclass(slots=True)
class TypeDef:
    name: str
    kind: Kind
    description: str | None = None
    extension: bool = False
    fields: dict[str, FieldDef] = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    shareable: bool = False
    interface_object: bool = False
    inaccessible: bool = False
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, FieldDef] = field(default_factory=dict)
    """Enum values (a value is a FieldDef without a type)."""
    tags: list[str] = field(default_factory=list)
    cost: int | None = None
    access: Requirement = field(default_factory=Requirement)


@dataclass(slots=True)
class Subgraph:
    name: str
    url: str
    types: dict[str, TypeDef] = field(default_factory=dict)


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
    tags: list[str] = field(default_factory=list)
    cost: int | None = None
    list_size: str | None = None
    access: Requirement = field(default_factory=Requirement)


@dataclass(slots=True)
class MergedValue:
    name: str
    subgraphs: list[str] = field(default_factory=list)
    description: str | None = None
    deprecated: str | None = None
    inaccessible: bool = False
    tags: list[str] = field(default_factory=list)


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
    tags: list[str] = field(default_factory=list)
    cost: int | None = None
    access: Requirement = field(default_factory=Requirement)


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

    @property
    def uses_tags(self) -> bool:
        for merged in self.types.values():
            if merged.tags or any(v.tags for v in merged.values.values()):
                return True
            for merged_field in merged.fields.values():
                if merged_field.tags or any(a.tags for a in merged_field.arguments.values()):
                    return True
        return False

    def access_specs(self) -> list[str]:
        """The access-control specs some type or field uses, in printing order."""
        used: set[str] = set()
        for merged in self.types.values():
            for requirement in (merged.access, *(f.access for f in merged.fields.values())):
                if requirement.authenticated:
                    used.add("authenticated")
                if requirement.scopes:
                    used.add("requiresScopes")
                if requirement.policies:
                    used.add("policy")
        return [spec for spec in ("authenticated", "policy", "requiresScopes") if spec in used]

    @property
    def uses_cost(self) -> bool:
        """Whether any subgraph says what its fields cost (``@cost``, ``@listSize``)."""
        for merged in self.types.values():
            if merged.cost is not None:
                return True
            for merged_field in merged.fields.values():
                if merged_field.cost is not None or merged_field.list_size is not None:
                    return True
                if any(a.cost is not None for a in merged_field.arguments.values()):
                    return True
        return False


def _any_arg(merged: MergedField) -> bool:
    return any(a.inaccessible for a in merged.arguments.values())
