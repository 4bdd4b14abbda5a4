"""Authorization from the schema: an operation cut down to what its caller may see.

The supergraph's ``@authenticated``, ``@requiresScopes`` and ``@policy``
(``supergraph/access.py``) say what each field needs. Before an operation is planned,
every field its caller may not see is removed from it, as Apollo Router does: the rest
runs, each removed field answers ``null`` with an ``UNAUTHORIZED_FIELD_OR_TYPE`` error at
its path, and a selection left empty is removed with it. Nothing a caller may not see is
ever asked of a subgraph.

The cut depends only on which of the operation's checks the caller meets, so it is worked
out once per document and set of met checks (``Protected``), not per request. A check is a
requirement, and for a requirement with a ``@policy``, the location the field asks for
(``security/policies.py``): the same policy on ``stock(locationId: "A")`` and on
``stock(locationId: $b)`` is two checks, each with its own verdict per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
)

from gateway.engine import GraphQLError
from gateway.security.policies import (
    NO_LOCATION,
    AskedLocation,
    asked_location,
    variable_defaults,
)
from gateway.supergraph.access import AccessRules, Requirement
from gateway.supergraph.nodes import with_changes

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
# What becomes of an operation asking for fields its caller may not see.
UnauthorizedMode = Literal["filter", "reject"]

Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Check:
    """What one protected field needs: its requirement, and the location it asks for when
    a policy may depend on it (else ``NO_LOCATION``, so equal requirements are one check)."""

    requirement: Requirement
    location: AskedLocation = NO_LOCATION


@dataclass(frozen=True, slots=True)
class Protected:
    """The checks an operation meets on its way: one per distinct check of the protected
    fields it selects (fragments included), in a fixed order, so a request's verdict is a
    set of indexes."""

    checks: tuple[Check, ...]

    def met(self, allows: Callable[[Check], bool]) -> frozenset[int]:
        return frozenset(i for i, check in enumerate(self.checks) if allows(check))


@dataclass(slots=True)
class Restricted:
    """The operation as a caller may run it, and the errors for what was cut."""

    document: DocumentNode
    operation: OperationDefinitionNode
    errors: tuple[GraphQLError, ...]
    # Nothing is left to ask the subgraphs: every root field was cut.
    empty: bool = False


def protected_requirements(
    schema: GraphQLSchema,
    rules: AccessRules,
    document: DocumentNode,
    operation: OperationDefinitionNode,
) -> Protected:
    """Every check the operation meets, in walking order (empty: nothing protected)."""
    found: dict[Check, None] = {}

    def visit(field_type: GraphQLNamedType, node: FieldNode, check: Check) -> bool:
        if check.requirement:
            found.setdefault(check, None)
        return True

    _Walk(schema, rules, document, visit).operation(operation)
    return Protected(tuple(found))


def restrict(
    schema: GraphQLSchema,
    rules: AccessRules,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    protected: Protected,
    met: frozenset[int],
) -> Restricted:
    """The operation without the fields whose check (by index in ``protected``) is not
    in ``met``."""
    denied = {check for i, check in enumerate(protected.checks) if i not in met}

    def visit(field_type: GraphQLNamedType, node: FieldNode, check: Check) -> bool:
        return not (check.requirement and check in denied)

    walk = _Walk(schema, rules, document, visit)
    cut_operation = walk.operation(operation)
    errors = tuple(
        GraphQLError(f"Unauthorized field or type: {'.'.join(path)}", UNAUTHORIZED, path=path)
        for path in walk.cut
    )
    if cut_operation is None:
        return Restricted(document, operation, errors, empty=True)
    definitions = [
        cut_operation if definition is operation else walk.fragments.get(definition, definition)
        for definition in document.definitions
        if not (
            isinstance(definition, FragmentDefinitionNode)
            and walk.fragments.get(definition, definition) is None
        )
    ]
    return Restricted(with_changes(document, definitions=tuple(definitions)), cut_operation, errors)


Visit = Callable[[GraphQLNamedType, FieldNode, Check], bool]


@dataclass
class _Walk:
    """Walks an operation's selections with their types and response paths; ``visit``
    says whether each field stays. Fragment definitions are cut once (their fields'
    fate does not depend on where they are spread)."""

    schema: GraphQLSchema
    rules: AccessRules
    document: DocumentNode
    visit: Visit
    cut: list[Path] = field(default_factory=list)
    fragments: dict[Any, FragmentDefinitionNode | None] = field(default_factory=dict)
    _fragment_cuts: dict[str, list[Path]] = field(default_factory=dict)
    _defaults: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._definitions = {
            d.name.value: d
            for d in self.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }

    def operation(self, operation: OperationDefinitionNode) -> OperationDefinitionNode | None:
        self._defaults = variable_defaults(operation)
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return operation
        selections = self._selections(operation.selection_set, root, (), self.cut)
        if selections is None:
            return None
        cut: OperationDefinitionNode = with_changes(operation, selection_set=selections)
        return cut

    def _selections(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, path: Path, cut: list[Path]
    ) -> SelectionSetNode | None:
        kept: list[SelectionNode] = []
        changed = False
        for selection in selection_set.selections:
            result = self._selection(selection, parent, path, cut)
            if result is not selection:
                changed = True
            if result is not None:
                kept.append(result)
        if not kept:
            return None
        return with_changes(selection_set, selections=tuple(kept)) if changed else selection_set

    def _selection(
        self, selection: SelectionNode, parent: GraphQLNamedType, path: Path, cut: list[Path]
    ) -> SelectionNode | None:
        if isinstance(selection, FieldNode):
            return self._field(selection, parent, path, cut)
        if isinstance(selection, InlineFragmentNode):
            condition = (
                self.schema.get_type(selection.type_condition.name.value)
                if selection.type_condition
                else parent
            )
            if condition is None:
                return selection
            inner = self._selections(selection.selection_set, condition, path, cut)
            if inner is None:
                return None
            return (
                selection
                if inner is selection.selection_set
                else with_changes(selection, selection_set=inner)
            )
        if isinstance(selection, FragmentSpreadNode):
            definition = self._definitions.get(selection.name.value)
            if definition is None:
                return selection
            cut_definition = self._fragment(definition)
            cut.extend(path + relative for relative in self._fragment_cuts[definition.name.value])
            return None if cut_definition is None else selection
        return selection

    def _fragment(self, definition: FragmentDefinitionNode) -> FragmentDefinitionNode | None:
        if definition not in self.fragments:
            condition = self.schema.get_type(definition.type_condition.name.value)
            relative: list[Path] = []
            self._fragment_cuts[definition.name.value] = relative
            self.fragments[definition] = definition  # a cycle meets itself as it is
            if condition is None:
                return definition
            inner = self._selections(definition.selection_set, condition, (), relative)
            self.fragments[definition] = (
                None
                if inner is None
                else definition
                if inner is definition.selection_set
                else with_changes(definition, selection_set=inner)
            )
        return self.fragments[definition]

    def _field(
        self, node: FieldNode, parent: GraphQLNamedType, path: Path, cut: list[Path]
    ) -> FieldNode | None:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return node
        definition = parent.fields.get(name)
        if definition is None:
            return node
        returns = get_named_type(definition.type)
        key = (node.alias or node.name).value
        requirement = self.rules.for_field(parent.name, name, returns.name)
        check = Check(
            requirement,
            asked_location(node, self._defaults) if requirement.policies else NO_LOCATION,
        )
        if not self.visit(returns, node, check):
            cut.append((*path, key))
            return None
        if node.selection_set is None:
            return node
        inner = self._selections(node.selection_set, returns, (*path, key), cut)
        if inner is None:
            return None
        return node if inner is node.selection_set else with_changes(node, selection_set=inner)
