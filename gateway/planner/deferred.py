"""Facts about ``@defer`` in client selections: whether a fragment is deferred, its
label, the variables its ``if`` reads, and the subselection a deferred block delivers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    print_ast,
)

DeferValues = Mapping[str, bool]
"""The value planned for each variable a ``@defer(if:)`` reads."""


def defer_directive(selection: SelectionNode) -> DirectiveNode | None:
    if not isinstance(selection, InlineFragmentNode | FragmentSpreadNode):
        return None
    for directive in selection.directives or ():
        if directive.name.value == "defer":
            return directive
    return None


def is_deferred(selection: SelectionNode, values: DeferValues) -> bool:
    """True for a fragment whose ``@defer`` holds: no ``if``, ``if: true``, or a variable
    planned as true (``values``; a variable not given there defers)."""
    directive = defer_directive(selection)
    if directive is None:
        return False
    for argument in directive.arguments or ():
        if argument.name.value != "if":
            continue
        if isinstance(argument.value, BooleanValueNode):
            return argument.value.value
        if isinstance(argument.value, VariableNode):
            return values.get(argument.value.name.value, True)
    return True


def defer_label(selection: SelectionNode) -> str | None:
    directive = defer_directive(selection)
    for argument in directive.arguments or () if directive else ():
        if argument.name.value == "label" and isinstance(argument.value, StringValueNode):
            return argument.value.value
    return None


def defer_usage(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> tuple[bool, list[str]]:
    """Whether the operation defers any fragment (spread fragments included), and the
    variables that decide it, in document order. A plain walk: with graphql-core's
    ``visit`` the README's product page planned in 2.3 ms, against 1.8 ms with this walk
    and 1.6 ms before @defer (best of 4 runs of 200 plans, shared 2-core machine)."""
    found: list[str] = []
    deferred = False
    visited: set[str] = set()
    stack = [operation.selection_set]
    while stack:
        for selection in stack.pop().selections:
            directive = defer_directive(selection)
            if directive is not None:
                deferred = True
                for argument in directive.arguments or ():
                    value = argument.value
                    if (
                        argument.name.value == "if"
                        and isinstance(value, VariableNode)
                        and value.name.value not in found
                    ):
                        found.append(value.name.value)
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in visited and name in fragments:
                    visited.add(name)
                    stack.append(fragments[name].selection_set)
            elif (
                isinstance(selection, FieldNode | InlineFragmentNode)
                and selection.selection_set is not None
            ):
                stack.append(selection.selection_set)
    return deferred, found


def subselection(
    selections: Sequence[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    values: DeferValues,
    type_condition: str | None = None,
    conditions: Sequence[DirectiveNode] = (),
) -> str:
    """The client's selection a block delivers, as Apollo prints it in a plan: named
    fragments inlined, the fragments deferred below it left out, ``@defer`` dropped.
    The fragment stays around it when it has a type condition, or ``conditions`` (the
    @skip/@include of the fragment and of the fragments it sits in): the block is
    delivered only when they hold."""
    body = without_deferred(selections, fragments, values)
    unique = {print_ast(d): d for d in conditions}
    if type_condition is not None or unique:
        body = (
            InlineFragmentNode(
                type_condition=(
                    NamedTypeNode(name=NameNode(value=type_condition)) if type_condition else None
                ),
                directives=tuple(unique.values()),
                selection_set=SelectionSetNode(selections=body),
            ),
        )
    return print_ast(SelectionSetNode(selections=body))


def without_deferred(
    selections: Sequence[SelectionNode],
    fragments: Mapping[str, FragmentDefinitionNode],
    values: DeferValues,
) -> tuple[SelectionNode, ...]:
    kept: list[SelectionNode] = []
    for selection in selections:
        if is_deferred(selection, values):
            continue
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                inner = without_deferred(selection.selection_set.selections, fragments, values)
                selection = FieldNode(
                    alias=selection.alias,
                    name=selection.name,
                    arguments=selection.arguments,
                    directives=selection.directives,
                    selection_set=SelectionSetNode(selections=inner),
                )
            kept.append(selection)
            continue
        if isinstance(selection, InlineFragmentNode):
            type_condition, body = selection.type_condition, selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            definition = fragments.get(selection.name.value)
            if definition is None:
                continue
            type_condition, body = definition.type_condition, definition.selection_set
        else:
            continue
        inner = without_deferred(body.selections, fragments, values)
        if not inner:
            continue  # it held deferred fragments only
        kept.append(
            InlineFragmentNode(
                type_condition=type_condition,
                directives=tuple(d for d in selection.directives or () if d.name.value != "defer"),
                selection_set=SelectionSetNode(selections=inner),
            )
        )
    return tuple(kept)
