"""Aliasing fields that a subgraph would reject as conflicting.

Two fragments on different object types may select the same response key with types that
differ in the subgraph (``id: ID!`` on one type, ``id: ID`` on the other): the supergraph
accepts the client's query, the subgraph's validation does not. Apollo's answer, kept
here: alias the later field in the subgraph operation and rename it back in the fetch's
``output_rewrites``.
"""

from __future__ import annotations

from graphql import get_named_type, is_composite_type

from gateway.planner.plan import KeyRenamer
from gateway.planner.selections import OutField, OutFragment, OutSet
from gateway.planner.typing import SchemaView


def alias_conflicts(
    view: SchemaView, service: str, type_name: str, selections: OutSet
) -> list[KeyRenamer]:
    renames: list[KeyRenamer] = []
    _visit(view, service, type_name, selections, (), renames, [0])
    renames.sort(key=lambda rename: len(rename.path), reverse=True)
    return renames


def _visit(
    view: SchemaView,
    service: str,
    type_name: str,
    selections: OutSet,
    path: tuple[str, ...],
    renames: list[KeyRenamer],
    counter: list[int],
) -> None:
    seen: dict[str, str] = {}
    for field, parent, field_path in _fields_at_level(selections, type_name, path):
        shape = _subgraph_type(view, service, parent, field.name)
        key = field.response_key
        if key not in seen:
            seen[key] = shape
        elif seen[key] != shape:
            alias = f"{key}__alias_{counter[0]}"
            counter[0] += 1
            field.alias = alias
            renames.append(KeyRenamer((*field_path, alias), key))
        if field.children is not None and field.name != "__typename":
            named = view.subgraph_type_name(parent, field.name, service)
            inner_path = (*field_path, field.response_key)
            _visit(view, service, named, field.children, inner_path, renames, counter)


def _fields_at_level(
    selections: OutSet, type_name: str, path: tuple[str, ...]
) -> list[tuple[OutField, str, tuple[str, ...]]]:
    """Fields of one response object, through (nested) inline fragments."""
    found: list[tuple[OutField, str, tuple[str, ...]]] = []
    for item in list(selections.items.values()):
        if isinstance(item, OutFragment):
            condition = item.type_condition or type_name
            step = (f"... on {condition}",) if item.type_condition else ()
            found.extend(_fields_at_level(item.children, condition, (*path, *step)))
        else:
            found.append((item, type_name, path))
    return found


def _subgraph_type(view: SchemaView, service: str, parent: str, name: str) -> str:
    """The field's response shape in the subgraph: list and non-null wrappers and leaf
    types count; which composite type it is does not (GraphQL's SameResponseShape)."""
    if name == "__typename":
        return "String!"
    field_type = view.field_type(parent, name)
    info = view.field_in(parent, name, service)
    declared = info.type if info is not None and info.type else str(field_type)
    named = get_named_type(field_type)
    if is_composite_type(named):
        return declared.replace(named.name, "{}")
    return declared
