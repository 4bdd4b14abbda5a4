"""Shaping merged subgraph data into the client's response.

The client's selection is compiled into ``ObjectShape``s: for each runtime ``__typename``
(and each combination of ``@skip``/``@include`` variables), the fields are collected once
into a flat list of tuples, so shaping an object is one loop with no AST work. The same
pass projects the selection (aliases, fragments, ``__typename``), drops what the gateway
added for itself, and propagates nulls by the API schema's nullability: a null in a
non-null position raises ``NullViolation``, caught at the nearest nullable position, which
becomes null and records the error at the path of the field that was null.

For incremental delivery the primary response is shaped without the deferred fragments
(``without_deferred``), and each deferred block's subselection is compiled on its own
(``deferred_shape``) to shape the objects at its path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

import orjson
from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLCompositeType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_enum_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    parse,
)

from gateway.engine import GraphQLError
from gateway.executor.positions import type_at

NULL_VIOLATION = "NULL_IN_NON_NULL_FIELD"
MALFORMED = "SUBREQUEST_MALFORMED_RESPONSE"
BAD_ENUM = "INVALID_ENUM_VALUE"

PathCell: TypeAlias = "tuple[str | int, PathCell] | None"
"""A response path as a linked list from the leaf up; built only as deep as shaping goes."""

ValueShaper = Callable[[Any, "ShapeContext", PathCell], Any]

_VALUE, _TYPENAME, _PASSTHROUGH = 0, 1, 2
_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

# (response key, kind, non-null, value shaper, message or typename)
FieldPlan: TypeAlias = tuple[str, int, bool, ValueShaper | None, str]
_UNRESOLVED: list[FieldPlan] = []
"""An object whose runtime type cannot be told (no or an abstract ``__typename``) while
the selection asks for its ``__typename``. When it does not, the abstract type's own
fields are enough: an @interfaceObject subgraph answers that way for interface fields."""
_HIDDEN: list[FieldPlan] = []
"""An object whose runtime type the API schema leaves out (@inaccessible)."""

# The types that have fields of their own.
HasFields = (GraphQLObjectType, GraphQLInterfaceType)


class NullViolation(Exception):
    """A value that cannot stand where it is: null in a non-null position, or malformed.

    A ``silent`` one is a value the client must see as null without an error of its own:
    an object whose runtime type is @inaccessible (docs/apollo-differences.md). Where a
    non-null position cannot hold that null, the usual non-null error is raised instead.
    """

    __slots__ = ("code", "message", "path", "silent")

    def __init__(
        self, message: str, path: PathCell, code: str = NULL_VIOLATION, *, silent: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.code = code
        self.silent = silent

    def in_non_null(self, message: str) -> NullViolation:
        """What a non-null position raises when this value cannot stand in it."""
        return NullViolation(message, self.path) if self.silent else self


class ShapeContext:
    __slots__ = ("condition_key", "errors", "variables")

    def __init__(
        self,
        errors: list[GraphQLError],
        variables: Mapping[str, Any],
        condition_key: tuple[bool, ...] | None,
    ) -> None:
        self.errors = errors
        self.variables = variables
        self.condition_key = condition_key

    def record(self, violation: NullViolation) -> None:
        path = materialize(violation.path)
        depth = len(path)
        if any(error.path is not None and error.path[:depth] == path for error in self.errors):
            return  # a subgraph error at or below this path already explains the null
        self.errors.append(GraphQLError(violation.message, violation.code, path=path))


def materialize(cell: PathCell) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    while cell is not None:
        steps.append(cell[0])
        cell = cell[1]
    steps.reverse()
    return tuple(steps)


class ResponseShaper:
    """The compiled shape of one operation's response."""

    def __init__(
        self,
        schema: GraphQLSchema,
        root_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        condition_variables: tuple[str, ...],
        *,
        without_deferred: bool = False,
    ) -> None:
        self._schema = schema
        self._root_type = root_type
        self._selection_set = selection_set
        self._fragments = fragments
        self._compiler = _Compiler(schema, fragments, without_deferred)
        self._root = ObjectShape(self._compiler, root_type, [selection_set])
        self._condition_variables = condition_variables

    def context(self, errors: list[GraphQLError], variables: Mapping[str, Any]) -> ShapeContext:
        condition_key = (
            tuple(bool(variables.get(name)) for name in self._condition_variables)
            if self._condition_variables
            else None
        )
        return ShapeContext(errors, variables, condition_key)

    def deferred_shape(self, query_path: tuple[str, ...], subselection: str) -> ValueShaper:
        """The shape of a deferred block's subselection at ``query_path`` (the type
        there is read from the operation, through its response keys)."""
        definition = parse(subselection, no_location=True).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        parent = type_at(
            self._schema, self._root_type, self._selection_set, self._fragments, query_path
        )
        return ObjectShape(self._compiler, parent, [definition.selection_set]).shape

    def shape(
        self, data: dict[str, Any], errors: list[GraphQLError], variables: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        context = self.context(errors, variables)
        try:
            shaped: dict[str, Any] = self._root.shape(data, context, None)
            return shaped
        except NullViolation as violation:
            context.record(violation)
            return None


class ObjectShape:
    __slots__ = ("_by_type", "_compiler", "_default_typename", "_parent", "_selection_sets")

    def __init__(
        self,
        compiler: _Compiler,
        parent: GraphQLCompositeType,
        selection_sets: list[SelectionSetNode],
    ) -> None:
        self._compiler = compiler
        self._parent = parent
        self._selection_sets = selection_sets
        self._default_typename = parent.name if is_object_type(parent) else None
        self._by_type: dict[Any, list[FieldPlan]] = {}

    def shape(self, obj: Any, context: ShapeContext, path: PathCell) -> Any:
        if not isinstance(obj, dict):
            raise NullViolation(f"Expected an object of type {self._parent.name}", path, MALFORMED)
        typename = obj.get("__typename") or self._default_typename
        cache_key = typename if context.condition_key is None else (typename, context.condition_key)
        fields = self._by_type.get(cache_key)
        if fields is None:
            if isinstance(typename, str) and self._compiler.hidden(typename):
                fields = _HIDDEN
            else:
                compiler, selection_sets = self._compiler, self._selection_sets
                fields = compiler.fields(self._parent, selection_sets, typename, context)
            self._by_type[cache_key] = fields
        if fields is _HIDDEN:
            raise NullViolation(f"{typename} is not in the API schema", path, silent=True)
        if fields is _UNRESOLVED:
            raise NullViolation(
                f"Abstract type {self._parent.name} must resolve to an object type at runtime",
                path,
                MALFORMED,
            )
        result: dict[str, Any] = {}
        for key, kind, non_null, shaper, extra in fields:
            if kind == _TYPENAME:
                result[key] = extra
                continue
            value = obj.get(key)
            if value is None:
                if non_null and kind == _VALUE:
                    raise NullViolation(extra, (key, path))
            elif shaper is not None:
                try:
                    value = shaper(value, context, (key, path))
                except NullViolation as violation:
                    if non_null:
                        raise violation.in_non_null(extra) from None
                    if not violation.silent:
                        context.record(violation)
                    value = None
            result[key] = value
        return result


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        without_deferred: bool = False,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._without_deferred = without_deferred

    def hidden(self, typename: str) -> bool:
        """A runtime type the API schema leaves out (@inaccessible): its objects are
        null to the client, as Apollo Router and Hive Gateway answer."""
        return self._schema.get_type(typename) is None

    def fields(
        self,
        parent: GraphQLCompositeType,
        selection_sets: list[SelectionSetNode],
        typename: str | None,
        context: ShapeContext,
    ) -> list[FieldPlan]:
        runtime = self._runtime_type(parent, typename)
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(runtime, selection_set, context.variables, grouped, set())
        if not is_object_type(runtime) and any(
            nodes[0].name.value == "__typename" for nodes in grouped.values()
        ):
            return _UNRESOLVED
        plans: list[FieldPlan] = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                plans.append((key, _TYPENAME, True, None, runtime.name))
                continue
            if name in _INTROSPECTION_FIELDS:
                plans.append((key, _PASSTHROUGH, False, None, ""))
                continue
            # a union (when a subgraph left out __typename) has no fields of its own
            fields = runtime.fields if isinstance(runtime, HasFields) else {}
            field = fields.get(name)
            if field is None:
                continue
            message = f"Cannot return null for non-nullable field {runtime.name}.{name}."
            child_sets = [node.selection_set for node in nodes if node.selection_set]
            plans.append(
                (
                    key,
                    _VALUE,
                    is_non_null_type(field.type),
                    self._value_shaper(field.type, child_sets, message),
                    message,
                )
            )
        return plans

    def _runtime_type(
        self, parent: GraphQLCompositeType, typename: str | None
    ) -> GraphQLCompositeType:
        if typename is None or typename == parent.name:
            return parent
        candidate = self._schema.get_type(typename)
        if is_object_type(candidate) and (
            not is_abstract_type(parent) or self._schema.is_sub_type(parent, candidate)
        ):
            return candidate
        return parent

    def _collect(
        self,
        runtime: GraphQLCompositeType,
        selection_set: SelectionSetNode,
        variables: Mapping[str, Any],
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not included(selection, variables):
                continue
            if self._without_deferred and _deferred(selection, variables):
                continue  # delivered later, by its own block
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self._applies(condition.name.value, runtime):
                    self._collect(runtime, selection.selection_set, variables, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._fragments.get(name)
                if fragment is None or name in visited:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, runtime):
                    self._collect(runtime, fragment.selection_set, variables, grouped, visited)

    def _applies(self, condition: str, runtime: GraphQLCompositeType) -> bool:
        if condition == runtime.name:
            return True
        condition_type = self._schema.get_type(condition)
        return (
            is_abstract_type(condition_type)
            and is_object_type(runtime)
            and self._schema.is_sub_type(condition_type, runtime)
        )

    def _value_shaper(
        self,
        field_type: GraphQLOutputType,
        child_sets: list[SelectionSetNode],
        message: str,
    ) -> ValueShaper | None:
        nullable = field_type.of_type if is_non_null_type(field_type) else field_type
        if is_list_type(nullable):
            item_type = nullable.of_type
            item_non_null = is_non_null_type(item_type)
            inner = self._value_shaper(item_type, child_sets, message)
            if inner is None and not item_non_null:
                return None  # a list of nullable leaves is already in shape
            return _list_shaper(inner, item_non_null, message)
        named: GraphQLNamedType = get_named_type(nullable)
        if is_enum_type(named):
            return _enum_shaper(named.name, frozenset(named.values))
        if is_leaf_type(named):
            return None
        return ObjectShape(self, named, child_sets).shape  # type: ignore[arg-type]


def _enum_shaper(name: str, values: frozenset[str]) -> ValueShaper:
    """Only the API schema's values: a subgraph may know values the API hides."""

    def shape_enum(value: Any, context: ShapeContext, path: PathCell) -> Any:
        if isinstance(value, str) and value in values:
            return value
        shown = orjson.dumps(value).decode() if isinstance(value, str) else repr(value)
        raise NullViolation(f'Enum "{name}" cannot represent value: {shown}', path, BAD_ENUM)

    return shape_enum


def _list_shaper(inner: ValueShaper | None, item_non_null: bool, message: str) -> ValueShaper:
    def shape_list(value: Any, context: ShapeContext, path: PathCell) -> Any:
        if not isinstance(value, list):
            raise NullViolation("Expected a list", path, MALFORMED)
        result: list[Any] = []
        for index, item in enumerate(value):
            if item is None:
                if item_non_null:
                    raise NullViolation(message, (index, path))
            elif inner is not None:
                try:
                    item = inner(item, context, (index, path))
                except NullViolation as violation:
                    if item_non_null:
                        raise violation.in_non_null(message) from None
                    if not violation.silent:
                        context.record(violation)
                    item = None
            result.append(item)
        return result

    return shape_list


def included(selection: Any, variables: Mapping[str, Any]) -> bool:
    """``@skip``/``@include``, read directly: ``if`` is a literal or a variable."""
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        for argument in directive.arguments or ():
            if argument.name.value != "if":
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                condition = bool(variables.get(value.name.value))
            else:
                condition = isinstance(value, BooleanValueNode) and value.value
            if condition == (name == "skip"):
                return False
    return True


def _deferred(selection: Any, variables: Mapping[str, Any]) -> bool:
    """A fragment whose ``@defer`` holds (``if`` absent, true, or a true variable)."""
    if isinstance(selection, FieldNode):
        return False
    for directive in selection.directives or ():
        if directive.name.value != "defer":
            continue
        for argument in directive.arguments or ():
            if argument.name.value == "if":
                value = argument.value
                if isinstance(value, VariableNode):
                    return bool(variables.get(value.name.value, True))
                return isinstance(value, BooleanValueNode) and value.value
        return True
    return False
