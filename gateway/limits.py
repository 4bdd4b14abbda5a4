"""Operation limits: what one document may ask for, checked after parsing and before the
document is validated, planned or run.

Each limit has its own ``extensions.code``. Counts are taken on the operation with its
fragments expanded (a fragment spread twice counts twice), computed once per fragment, so
a small document whose fragments multiply (``F0 { ...F1 ...F1 }``, 30 levels) is measured
in microseconds and refused instead of planned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from gateway.engine import GraphQLError


@dataclass(frozen=True, slots=True)
class OperationLimits:
    """Defaults suit a public API; ``None`` switches a limit off."""

    # Lexical tokens the parser reads before giving up (a 100 KB document has ~20,000).
    max_tokens: int | None = 15_000
    # Operations in one document (only one runs, but every one is parsed and validated).
    max_operations: int | None = 20
    # Nesting of fields: ``{ a { b } }`` has depth 2.
    max_depth: int | None = 15
    # Aliased fields, fragments expanded.
    max_aliases: int | None = 30
    # Fields at the root of the operation, fragments expanded.
    max_root_fields: int | None = 20
    # Field selections in all, fragments expanded: what planning and shaping work on.
    max_fields: int | None = 2_000
    # Directives on one field, fragment spread or inline fragment.
    max_directives: int | None = 10


@dataclass(slots=True)
class OperationShape:
    """What the limits look at, for a selection set with its fragments expanded."""

    depth: int = 0
    aliases: int = 0
    # Fields directly in the selection set (through its fragments): the root fields, at
    # the operation's root.
    root_fields: int = 0
    fields: int = 0
    directives: int = 0

    def add(self, other: OperationShape, *, nested: bool) -> None:
        """Take in ``other``: a field's selection set when ``nested``, else a fragment's."""
        self.depth = max(self.depth, other.depth + (1 if nested else 0))
        self.aliases += other.aliases
        self.root_fields += 0 if nested else other.root_fields
        self.fields += other.fields
        self.directives = max(self.directives, other.directives)


@dataclass(slots=True)
class _Measure:
    fragments: dict[str, FragmentDefinitionNode]
    done: dict[str, OperationShape] = field(default_factory=dict)
    # Fragments being measured: a cycle (invalid, found by validation later) counts once.
    open: set[str] = field(default_factory=set)

    def selection_set(self, selection_set: SelectionSetNode | None) -> OperationShape:
        shape = OperationShape()
        if selection_set is None:
            return shape
        for selection in selection_set.selections:
            shape.directives = max(shape.directives, len(selection.directives or ()))
            if isinstance(selection, FieldNode):
                shape.fields += 1
                shape.root_fields += 1
                shape.aliases += 1 if selection.alias is not None else 0
                shape.depth = max(shape.depth, 1)
                shape.add(self.selection_set(selection.selection_set), nested=True)
            elif isinstance(selection, InlineFragmentNode):
                shape.add(self.selection_set(selection.selection_set), nested=False)
            elif isinstance(selection, FragmentSpreadNode):
                shape.add(self.fragment(selection.name.value), nested=False)
        return shape

    def fragment(self, name: str) -> OperationShape:
        known = self.done.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return OperationShape()
        self.open.add(name)
        shape = self.selection_set(definition.selection_set)
        self.open.discard(name)
        self.done[name] = shape
        return shape


def measure(document: DocumentNode, operation: OperationDefinitionNode) -> OperationShape:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    shape = _Measure(fragments).selection_set(operation.selection_set)
    shape.directives = max(shape.directives, len(operation.directives or ()))
    return shape


def check_operations(document: DocumentNode, limits: OperationLimits) -> list[GraphQLError]:
    operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if limits.max_operations is not None and operations > limits.max_operations:
        return [
            _refusal(
                f"The document has {operations} operations; the limit is {limits.max_operations}.",
                "MAX_OPERATIONS_LIMIT",
                limits.max_operations,
                operations,
            )
        ]
    return []


def check_shape(shape: OperationShape, limits: OperationLimits) -> list[GraphQLError]:
    """One error per limit the operation exceeds."""
    checks = (
        (shape.depth, limits.max_depth, "MAX_DEPTH_LIMIT", "nests fields {n} deep"),
        (shape.aliases, limits.max_aliases, "MAX_ALIASES_LIMIT", "uses {n} aliases"),
        (shape.root_fields, limits.max_root_fields, "MAX_ROOT_FIELDS_LIMIT", "has {n} root fields"),
        (shape.fields, limits.max_fields, "MAX_FIELDS_LIMIT", "selects {n} fields"),
        (
            shape.directives,
            limits.max_directives,
            "MAX_DIRECTIVES_LIMIT",
            "has {n} directives on one selection",
        ),
    )
    return [
        _refusal(
            f"The operation {what.format(n=_readable(value))} once its fragments are expanded; "
            f"the limit is {limit}.",
            code,
            limit,
            value,
        )
        for value, limit, code, what in checks
        if limit is not None and value > limit
    ]


def _readable(value: int) -> str:
    # An expanded count can be astronomically large; the exact figure helps no one.
    return str(value) if value < 10**9 else "more than a billion"


def _refusal(message: str, code: str, limit: int, value: int) -> GraphQLError:
    return GraphQLError(message, code, extensions={"limit": limit, "measured": min(value, 10**9)})
