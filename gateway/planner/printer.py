"""Plans in Apollo's text format, as Apollo's tests and ``explain`` show them."""

from __future__ import annotations

from graphql import FieldNode, OperationDefinitionNode, parse, print_ast

from gateway.planner.plan import (
    Condition,
    Defer,
    DeferredNode,
    Fetch,
    FieldSelection,
    Flatten,
    Parallel,
    PlanNode,
    QueryPlan,
    Selection,
    Sequence,
    SubscriptionNode,
)

_INDENT = "  "


def print_plan(plan: QueryPlan) -> str:
    if plan.node is None:
        return "QueryPlan {}"
    return "QueryPlan {\n" + "\n".join(_node(plan.node, 1)) + "\n}"


def _node(node: PlanNode, level: int) -> list[str]:
    pad = _INDENT * level
    match node:
        case Fetch():
            fetch_id = "" if node.id is None else f", id: {node.id}"
            lines = [f'{pad}Fetch(service: "{node.service_name}"{fetch_id}) {{']
            if node.requires:
                lines += _indent(_selections(node.requires), level + 1)
                lines[-1] += " =>"
            lines += _indent(_operation_selections(node.operation), level + 1)
            return [*lines, f"{pad}}},"]
        case Flatten():
            path = ".".join(str(p) for p in node.path)
            return [f'{pad}Flatten(path: "{path}") {{', *_node(node.node, level + 1), f"{pad}}},"]
        case Sequence() | Parallel():
            title = "Sequence" if isinstance(node, Sequence) else "Parallel"
            lines = [f"{pad}{title} {{"]
            for child in node.nodes:
                lines += _node(child, level + 1)
            return [*lines, f"{pad}}},"]
        case Condition():
            return _condition(node, level)
        case SubscriptionNode():
            inner = _INDENT * (level + 1)
            lines = [f"{pad}Subscription {{", f"{inner}Primary: {{"]
            lines += [*_node(node.primary, level + 2), f"{inner}}},"]
            if node.rest is not None:
                lines += [f"{inner}Rest: {{", *_node(node.rest, level + 2), f"{inner}}},"]
            return [*lines, f"{pad}}},"]
        case Defer():
            return _defer(node, level)
    raise TypeError(f"not a plan node: {node!r}")


def _defer(node: Defer, level: int) -> list[str]:
    """Apollo's layout: ``Defer { Primary { {sub}: node }, [ Deferred(...) {...}, ] }``."""
    pad, inner = _INDENT * level, _INDENT * (level + 1)
    lines = [f"{pad}Defer {{", f"{inner}Primary {{"]
    lines += _block(node.primary.subselection, node.primary.node, level + 2)
    lines.append(f"{inner}}}, [")
    for deferred in node.deferred:
        lines += _deferred(deferred, level + 2)
    return [*lines, f"{inner}]", f"{pad}}},"]


def _deferred(node: DeferredNode, level: int) -> list[str]:
    pad = _INDENT * level
    depends = ", ".join(d.id for d in node.depends)
    path = ".".join(node.query_path)
    label = "" if node.label is None else f', label: "{node.label}"'
    head = f'{pad}Deferred(depends: [{depends}], path: "{path}"{label}) {{'
    return [head, *_block(node.subselection, node.node, level + 1), f"{pad}}},"]


def _block(subselection: str | None, node: PlanNode | None, level: int) -> list[str]:
    """A deferred block's body: the client's subselection, then the plan that fills it
    (its last line without the comma, as Apollo prints it)."""
    lines: list[str] = []
    if subselection is not None:
        lines += _indent(subselection.split("\n"), level)
        lines[-1] += ":"
    if node is not None:
        body = _node(node, level)
        body[-1] = body[-1].removesuffix(",")
        lines += body
    return lines


def _condition(node: Condition, level: int) -> list[str]:
    pad = _INDENT * level
    if node.if_clause is not None and node.else_clause is not None:
        inner = _INDENT * (level + 1)
        return [
            f"{pad}Condition(if: ${node.condition}) {{",
            f"{inner}Then {{",
            *_node(node.if_clause, level + 2),
            f"{inner}}},",
            f"{inner}Else {{",
            *_node(node.else_clause, level + 2),
            f"{inner}}},",
            f"{pad}}},",
        ]
    title, clause = (
        ("Include", node.if_clause) if node.if_clause is not None else ("Skip", node.else_clause)
    )
    assert clause is not None
    return [f"{pad}{title}(if: ${node.condition}) {{", *_node(clause, level + 1), f"{pad}}},"]


def _indent(lines: list[str], level: int) -> list[str]:
    pad = _INDENT * level
    return [pad + line for line in lines]


def _operation_selections(operation: str) -> list[str]:
    """The fetch's selection set; for an entity fetch, what sits inside ``_entities``."""
    definition = parse(operation, no_location=True).definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    selection_set = definition.selection_set
    first = selection_set.selections[0] if selection_set.selections else None
    if isinstance(first, FieldNode) and first.name.value == "_entities" and first.selection_set:
        selection_set = first.selection_set
    return print_ast(selection_set).split("\n")


def _selections(selections: tuple[Selection, ...]) -> list[str]:
    lines = ["{"]
    for selection in selections:
        lines += _indent(_selection(selection), 1)
    return [*lines, "}"]


def _selection(selection: Selection) -> list[str]:
    if isinstance(selection, FieldSelection):
        head = f"{selection.alias}: {selection.name}" if selection.alias else selection.name
        if not selection.selections:
            return [head]
        body = _selections(selection.selections)
        return [f"{head} {body[0]}", *body[1:]]
    head = f"... on {selection.type_condition}" if selection.type_condition else "..."
    body = _selections(selection.selections)
    return [f"{head} {body[0]}", *body[1:]]
