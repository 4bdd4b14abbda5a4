"""Subgraph selection sets under construction, and how they print.

The planner grows one tree per fetch; equal selections (same response key, arguments and
directives) merge, so a field asked for twice (by the client and as a key) is fetched once.
"""

from __future__ import annotations

from graphql import ArgumentNode, DirectiveNode, VariableNode, print_ast, visit
from graphql.language import Visitor

from gateway.planner.plan import FieldSelection, InlineFragmentSelection, Selection


class OutField:
    __slots__ = ("alias", "arguments", "children", "directives", "name")

    def __init__(
        self,
        name: str,
        alias: str | None,
        arguments: tuple[ArgumentNode, ...],
        directives: tuple[DirectiveNode, ...],
    ) -> None:
        self.name = name
        self.alias = alias
        self.arguments = arguments
        self.directives = directives
        self.children: OutSet | None = None

    @property
    def response_key(self) -> str:
        return self.alias or self.name


class OutFragment:
    __slots__ = ("children", "directives", "type_condition")

    def __init__(self, type_condition: str | None, directives: tuple[DirectiveNode, ...]) -> None:
        self.type_condition = type_condition
        self.directives = directives
        self.children = OutSet()


OutItem = OutField | OutFragment


class OutSet:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[str, OutItem] = {}

    def __bool__(self) -> bool:
        return bool(self.items)

    def field(
        self,
        name: str,
        alias: str | None = None,
        arguments: tuple[ArgumentNode, ...] = (),
        directives: tuple[DirectiveNode, ...] = (),
        composite: bool = False,
    ) -> OutField:
        head = _field_head(name, alias, arguments, directives)
        item = self.items.get(head)
        if not isinstance(item, OutField):
            item = OutField(name, alias, arguments, directives)
            self.items[head] = item
        if composite and item.children is None:
            item.children = OutSet()
        return item

    def fragment(
        self, type_condition: str | None, directives: tuple[DirectiveNode, ...] = ()
    ) -> OutFragment:
        head = _fragment_head(type_condition, directives)
        item = self.items.get(head)
        if not isinstance(item, OutFragment):
            item = OutFragment(type_condition, directives)
            self.items[head] = item
        return item

    def prune(self) -> None:
        """Drops fragments left empty (a fragment whose fields all went elsewhere), and
        gives a composite field left empty ``__typename``: a subgraph refuses an object
        field without a selection, and the client, whose fields under it were all left
        out by literal conditions, still gets the object (``{}``)."""
        for head, item in list(self.items.items()):
            if item.children is None:
                continue
            item.children.prune()
            if item.children:
                continue
            if isinstance(item, OutFragment):
                del self.items[head]
            else:
                item.children.field("__typename")

    def compact(self) -> str:
        """The selection set as a minified document fragment: ``{a b{c}}``."""
        parts = []
        for item in self.items.values():
            if isinstance(item, OutField):
                head = _field_head(item.name, item.alias, item.arguments, item.directives)
            else:
                head = _fragment_head(item.type_condition, item.directives)
            if item.children is not None and item.children:
                parts.append(head + item.children.compact())
            else:
                parts.append(head)
        return "{" + " ".join(parts) + "}"

    def to_plan_selections(self) -> tuple[Selection, ...]:
        """The ``requires`` shape: plain fields and inline fragments, no arguments."""
        result: list[Selection] = []
        for item in self.items.values():
            if isinstance(item, OutFragment):
                result.append(
                    InlineFragmentSelection(item.type_condition, item.children.to_plan_selections())
                )
            else:
                children = item.children.to_plan_selections() if item.children else ()
                result.append(FieldSelection(item.name, children, item.alias))
        return tuple(result)

    def variables(self) -> list[str]:
        found: list[str] = []
        for item in self.items.values():
            nodes: tuple[ArgumentNode | DirectiveNode, ...] = item.directives
            if isinstance(item, OutField):
                nodes = item.arguments + nodes
            for node in nodes:
                _collect_variables(node, found)
            if item.children is not None:
                for name in item.children.variables():
                    if name not in found:
                        found.append(name)
        return found


def _field_head(
    name: str,
    alias: str | None,
    arguments: tuple[ArgumentNode, ...],
    directives: tuple[DirectiveNode, ...],
) -> str:
    head = f"{alias}:{name}" if alias else name
    if arguments:
        head += "(" + ",".join(f"{a.name.value}:{print_ast(a.value)}" for a in arguments) + ")"
    for directive in directives:
        head += " " + print_ast(directive)
    return head


def _fragment_head(type_condition: str | None, directives: tuple[DirectiveNode, ...]) -> str:
    head = f"... on {type_condition}" if type_condition else "..."
    for directive in directives:
        head += " " + print_ast(directive)
    return head


class _VariableCollector(Visitor):
    def __init__(self, found: list[str]) -> None:
        super().__init__()
        self.found = found

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        if node.name.value not in self.found:
            self.found.append(node.name.value)


def _collect_variables(node: ArgumentNode | DirectiveNode, found: list[str]) -> None:
    visit(node, _VariableCollector(found))
