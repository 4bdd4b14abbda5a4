"""A simplified satisfiability check: no field of an object is out of the planner's reach.

Apollo analyses every path through a query graph; this checks one step: wherever a field
returns an object, each field of that object is resolved by a subgraph that resolves the
returning field, provided by it, or reached from it through resolvable ``@key``s (hopping
on with the fields gathered so far). It catches an entity referenced where no subgraph can
resolve it. Interfaces, unions and ``@requires`` chains are not analysed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import FieldNode

from gateway.supergraph.compose.errors import CompositionIssue, quoted
from gateway.supergraph.compose.model import MergedField, MergedType, Supergraph, TypeDef
from gateway.supergraph.compose.subgraph import named_type, parse_field_set


def satisfiability(supergraph: Supergraph) -> Iterator[CompositionIssue]:
    """Every field of an object is reachable wherever a field returns that object.

    For a field F returning object T and each field f of T: some subgraph resolving F
    resolves f too, provides it, or reaches a subgraph that does through resolvable
    @keys (hopping on as the fields gathered so far allow).
    """
    for parent in supergraph.types.values():
        if parent.kind != "object":
            continue
        for field in parent.fields.values():
            target = supergraph.types.get(named_type(field.type))
            if target is None or target.kind != "object":
                continue
            entries = _resolvers(field)
            if not entries:
                continue
            unreachable = [
                f"{target.name}.{name}"
                for name, child in target.fields.items()
                if not child.from_interface_object
                and _resolvers(child)
                and not any(
                    _reaches(target, entry, name, field.sources[entry].provides)
                    for entry in entries
                )
            ]
            if unreachable:
                owners = sorted(
                    {s for n in unreachable for s in _resolvers(target.fields[n.split(".")[1]])}
                )
                yield CompositionIssue(
                    "SATISFIABILITY_ERROR",
                    f'From "{parent.name}.{field.name}" (resolved by {quoted(entries)}), '
                    f"{', '.join(chr(34) + u + chr(34) for u in unreachable)} cannot be "
                    f"reached: only {quoted(owners)} resolve them, and no resolvable @key "
                    "leads there.",
                    tuple(sorted({*entries, *owners})),
                )


def _resolvers(field: MergedField) -> list[str]:
    return [
        s for s, d in field.sources.items() if not d.external and s not in field.used_overridden
    ]


def _reaches(target: MergedType, entry: str, name: str, provides: str | None) -> bool:
    resolvers = set(_resolvers(target.fields[name]))
    if entry in resolvers:
        return True
    if provides is not None and name in re.findall(r"\w+", provides.split("{")[0]):
        return True
    if entry not in target.sources:
        return False
    visited = {entry}
    available = _local_fields(target.sources[entry])
    progress = True
    while progress:
        progress = False
        for subgraph, type_def in target.sources.items():
            if subgraph in visited or not _can_jump(available, type_def):
                continue
            if subgraph in resolvers:
                return True
            visited.add(subgraph)
            available |= _local_fields(type_def)
            progress = True
    return False


def _local_fields(type_def: TypeDef) -> set[str]:
    return {n for n, d in type_def.fields.items() if not d.external} | {
        n for key in type_def.keys for n in re.findall(r"\w+", key.fields.split("{")[0])
    }


def _can_jump(available: set[str], target: TypeDef) -> bool:
    """Can the planner enter ``target``'s subgraph by one of its keys, given these fields?"""
    for key in target.keys:
        if not key.resolvable:
            continue
        selection = parse_field_set(key.fields)
        if selection is not None and all(
            isinstance(node, FieldNode) and node.name.value in available
            for node in selection.selections
        ):
            return True
    return False
