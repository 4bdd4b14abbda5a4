"""Small facts about client selections the plan builder asks all the time: their
@skip/@include conditions, aliases, list depth, what a @provides covers, and copying a
field set (a key, a @requires) into a representation shape."""

from __future__ import annotations

from dataclasses import replace

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    InlineFragmentNode,
    SelectionNode,
    VariableNode,
    is_list_type,
    is_non_null_type,
    print_ast,
)

from gateway.planner.groups import Cond, Ctx
from gateway.planner.selections import OutFragment, OutSet
from gateway.planner.typing import SchemaView


def arguments_key(arguments: tuple[ArgumentNode, ...] | None) -> str:
    return ",".join(print_ast(argument) for argument in arguments or ())


def clashes(existing: dict[str, str], wanted: dict[str, str]) -> bool:
    return any(name in existing and existing[name] != source for name, source in wanted.items())


def first_condition(selections: OutSet) -> str:
    for item in selections.items.values():
        if isinstance(item, OutFragment) and item.type_condition:
            return item.type_condition
    return ""


def with_pending(ctx: Ctx, pending: tuple[DirectiveNode, ...]) -> Ctx:
    return replace(ctx, pending=pending)


def at_key(ctx: Ctx) -> Ctx:
    """Key fields go in unconditionally: the jump's own conditions sit on its fetch. They
    belong to the group they are read from, deferred or not."""
    return replace(ctx, pending=(), top=False, defer=ctx.group.defer)


def alias_of(field_node: FieldNode) -> str | None:
    return field_node.alias.value if field_node.alias else None


def conditional(selection: SelectionNode) -> tuple[DirectiveNode, ...]:
    """The selection's @skip/@include that can still leave it out: a literal
    ``@include(if: true)`` or ``@skip(if: false)`` always selects, and is dropped."""
    return tuple(
        d
        for d in selection.directives or ()
        if d.name.value in ("skip", "include") and not _always_selects(d)
    )


def directives_for(
    field_node: FieldNode, pending: tuple[DirectiveNode, ...]
) -> tuple[DirectiveNode, ...]:
    """The field's own conditions and those of the fragments it sat in, each once: @skip
    and @include are not repeatable, so a subgraph refuses a field that carries one twice
    (nested fragments under the same condition)."""
    found: dict[str, DirectiveNode] = {}
    for directive in (*conditional(field_node), *pending):
        found.setdefault(print_ast(directive), directive)
    by_name: dict[str, list[DirectiveNode]] = {}
    for directive in found.values():
        by_name.setdefault(directive.name.value, []).append(directive)
    if all(len(same) == 1 for same in by_name.values()):
        return tuple(found.values())
    # Two different conditions of one kind (``@include(if: $a)`` in ``@include(if: $b)``):
    # one directive may carry only one; the field is kept under the first, and the
    # others are the fetch's own conditions (``conditions_of``), which gate it as well.
    return tuple(same[0] for same in by_name.values())


def _always_selects(directive: DirectiveNode) -> bool:
    for argument in directive.arguments or ():
        if argument.name.value == "if" and isinstance(argument.value, BooleanValueNode):
            return argument.value.value == (directive.name.value == "include")
    return False


def conditions_of(directives: tuple[DirectiveNode, ...]) -> frozenset[Cond]:
    found: set[Cond] = set()
    for directive in directives:
        for argument in directive.arguments or ():
            if argument.name.value == "if" and isinstance(argument.value, VariableNode):
                found.add((argument.value.name.value, directive.name.value == "include"))
    return frozenset(found)


def excluded(selection: SelectionNode) -> bool:
    """A literal ``@skip(if: true)`` or ``@include(if: false)``: never selected."""
    for directive in selection.directives or ():
        for argument in directive.arguments or ():
            if argument.name.value == "if" and isinstance(argument.value, BooleanValueNode):
                if directive.name.value == "skip" and argument.value.value:
                    return True
                if directive.name.value == "include" and not argument.value.value:
                    return True
    return False


def list_depth(field_type: object) -> int:
    depth = 0
    current = field_type
    while True:
        if is_non_null_type(current):
            current = current.of_type
        elif is_list_type(current):
            depth += 1
            current = current.of_type
        else:
            return depth


def resolves_here(
    view: SchemaView,
    service: str,
    type_name: str,
    name: str,
    provided: tuple[SelectionNode, ...] | None,
) -> bool:
    """``service`` resolves the field itself, or a ``@provides`` on the path provides it."""
    if provided_field(view, provided, type_name, name) is not None:
        return True
    return view.plain_local(service, type_name, name)


def provided_field(
    view: SchemaView, provided: tuple[SelectionNode, ...] | None, type_name: str, name: str
) -> FieldNode | None:
    if provided is None:
        return None
    for selection in provided:
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                return selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if condition is None or view.applies(condition, type_name):
                found = provided_field(
                    view, tuple(selection.selection_set.selections), type_name, name
                )
                if found is not None:
                    return found
    return None
