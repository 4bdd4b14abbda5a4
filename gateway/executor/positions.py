"""The API type at a deferred block's query path, read from the client's operation.

A query path holds response keys (aliases), ``"@"`` for list items and ``"... on T"``
steps; the field behind a response key is found in the operation's selections."""

from __future__ import annotations

from collections.abc import Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
)


def type_at(
    schema: GraphQLSchema,
    root: GraphQLObjectType,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    query_path: tuple[str, ...],
) -> GraphQLCompositeType:
    current: GraphQLCompositeType = root
    sets = [selection_set]
    for step in query_path:
        if step == "@":
            continue
        if step.startswith("... on "):
            named = schema.get_type(step.removeprefix("... on "))
            assert isinstance(named, GraphQLCompositeType)
            current = named
            continue
        fields = [
            (parent, node)
            for selections in sets
            for parent, node in _fields(schema, current, selections, fragments, set())
            if (node.alias.value if node.alias else node.name.value) == step
        ]
        if not fields:
            raise ValueError(f"no field {step} on {current.name}")
        parent, first = fields[0]
        assert isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
        named = get_named_type(parent.fields[first.name.value].type)
        assert isinstance(named, GraphQLCompositeType)
        current = named
        sets = [node.selection_set for _, node in fields if node.selection_set is not None]
    return current


def _fields(
    schema: GraphQLSchema,
    parent: GraphQLCompositeType,
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    visited: set[str],
) -> list[tuple[GraphQLCompositeType, FieldNode]]:
    """Every field selected in ``selection_set``, with the type it is selected on."""
    found: list[tuple[GraphQLCompositeType, FieldNode]] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            found.append((parent, selection))
            continue
        if isinstance(selection, InlineFragmentNode):
            condition, body = selection.type_condition, selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            definition = fragments.get(selection.name.value)
            if definition is None or selection.name.value in visited:
                continue
            visited.add(selection.name.value)
            condition, body = definition.type_condition, definition.selection_set
        else:
            continue
        inner = schema.get_type(condition.name.value) if condition is not None else parent
        assert isinstance(inner, GraphQLCompositeType)
        found += _fields(schema, inner, body, fragments, visited)
    return found
