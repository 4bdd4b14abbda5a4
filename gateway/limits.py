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
    """What the limits look at, for one operation with its fragments expanded."""

    depth: int = 0
    aliases: int = 0
    root_fields: int = 0
    fields: int = 0
    directives: int = 0


@dataclass(slots=True)
class _Counts:
    depth: int = 0
    aliases: int = 0
    fields: int = 0
    directives: int = 0

    def add(self, other: _Counts, *, deeper: int = 0) -> None:
        self.depth = max(self.depth, other.depth + deeper)
        self.aliases += other.aliases
        self.fields += other.fields
        self.directives = max(self.directives, other.directives)


@dataclass(slots=True)
class _Measure:
    fragments: dict[str, FragmentDefinitionNode]
    done: dict[str, _Counts] = field(default_factory=dict)
    # Fragments being measured: a cycle (invalid, found by validation later) counts once.
    open: set[str] = field(default_factory=set)

    def selection_set(self, selection_set: SelectionSetNode | None) -> _Counts:
        counts = _Counts()
        if selection_set is None:
            return counts
        for selection in selection_set.selections:
            counts.directives = max(counts.directives, len(selection.directives or ()))
            if isinstance(selection, FieldNode):
                counts.fields += 1
                counts.aliases += 1 if selection.alias is not None else 0
                counts.depth = max(counts.depth, 1)
                counts.add(self.selection_set(selection.selection_set), deeper=1)
            elif isinstance(selection, InlineFragmentNode):
                counts.add(self.selection_set(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                counts.add(self.fragment(selection.name.value))
        return counts

    def fragment(self, name: str) -> _Counts:
        known = self.done.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return _Counts()
        self.open.add(name)
        counts = self.selection_set(definition.selection_set)
        self.open.discard(name)
        self.done[name] = counts
        return counts


def measure(document: DocumentNode, operation: OperationDefinitionNode) -> OperationShape:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measuring = _Measure(fragments)
    counts = measuring.selection_set(operation.selection_set)
    return OperationShape(
        depth=counts.depth,
        aliases=counts.aliases,
        root_fields=_root_fields(measuring, operation.selection_set),
        fields=counts.fields,
        directives=max(counts.directives, len(operation.directives or ())),
    )


def _root_fields(measuring: _Measure, selection_set: SelectionSetNode) -> int:
    """Fields directly at the root, through fragments (which may themselves nest)."""
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += 1
        elif isinstance(selection, InlineFragmentNode):
            total += _root_fields(measuring, selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            definition = measuring.fragments.get(selection.name.value)
            if definition is not None and selection.name.value not in measuring.open:
                measuring.open.add(selection.name.value)
                total += _root_fields(measuring, definition.selection_set)
                measuring.open.discard(selection.name.value)
    return total


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
