"""Demand control: an operation's estimated cost, from the schema's ``@cost`` and
``@listSize`` and the request's variables, checked before any subgraph is called.

The estimate follows the IBM GraphQL cost directive specification as Apollo Router
applies it: a composite value costs 1 and a leaf 0 unless ``@cost`` says otherwise, a
mutation's root field 10, arguments their ``@cost``; a list multiplies what each item
costs by its expected size: the value of a slicing argument (``first: 50``), else its
``assumedSize``, else ``default_list_size``. With ``sizedFields`` (connections) the size
applies to those child fields instead. Fragments count once per place they are spread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    is_list_type,
    is_non_null_type,
)

from gateway.engine import GraphQLError
from gateway.supergraph.costs import CostDirectives, ListSize

CostMode = Literal["enforce", "measure", "off"]
MUTATION_WEIGHT = 10


@dataclass(frozen=True, slots=True)
class CostLimits:
    """``enforce`` refuses an operation estimated above ``max_cost``; ``measure`` only
    reports the estimate; ``off`` skips the estimate."""

    mode: CostMode = "enforce"
    # The public benchmark's query, on a supergraph with no @listSize, is estimated at 24,420.
    max_cost: int = 50_000
    default_list_size: int = 10


class CostEstimator:
    def __init__(self, schema: GraphQLSchema, directives: CostDirectives, limits: CostLimits):
        self.schema = schema
        self.directives = directives
        self.limits = limits

    def estimate(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None,
    ) -> int:
        return self.estimate_once(operation, fragments, variables)[0]

    def estimate_once(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None,
    ) -> tuple[int, bool]:
        """The estimate, and whether it read a variable (if not, it holds for every
        request of the operation and can be kept with its plan)."""
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0, False
        walk = _Walk(self, fragments, variables or {})
        mutation = operation.operation.value == "mutation"
        cost = walk.selection_set(root.name, operation.selection_set, root_weight=mutation)
        return cost, walk.read_variables

    def refusal(self, cost: int, max_cost: int | None = None) -> GraphQLError | None:
        """The refusal of an operation costing ``cost``, against ``max_cost`` (a client's
        own budget) or the gateway's."""
        limit = self.limits.max_cost if max_cost is None else max_cost
        if self.limits.mode != "enforce" or cost <= limit:
            return None
        return GraphQLError(
            f"The operation's estimated cost is {cost}; the limit is {limit}.",
            "COST_ESTIMATED_TOO_EXPENSIVE",
            extensions={"cost": {"estimated": cost, "max": limit}},
        )

    def report(self, cost: int, max_cost: int | None = None) -> dict[str, Any]:
        limit = self.limits.max_cost if max_cost is None else max_cost
        return {"estimated": cost, "max": limit, "mode": self.limits.mode}


class _Walk:
    def __init__(
        self,
        estimator: CostEstimator,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = estimator.schema
        self.directives = estimator.directives
        self.default_list_size = estimator.limits.default_list_size
        self.fragments = fragments
        self.variables = variables
        # (fragment, parent type) -> cost; the variables are fixed for one request.
        self.fragment_costs: dict[tuple[str, str], int] = {}
        self.open: set[str] = set()
        self.read_variables = False

    def selection_set(
        self,
        type_name: str,
        selection_set: SelectionSetNode | None,
        *,
        root_weight: bool = False,
        sized: tuple[tuple[str, ...], int] | None = None,
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                # A connection's size (``first``) is the size of its ``edges`` list.
                size = sized[1] if sized is not None and selection.name.value in sized[0] else None
                total += self.field(type_name, selection, root_weight, size)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = condition.name.value if condition else type_name
                total += self.selection_set(
                    inner, selection.selection_set, root_weight=root_weight, sized=sized
                )
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, root_weight, sized)
        return total

    def fragment(
        self, name: str, root_weight: bool, sized: tuple[tuple[str, ...], int] | None
    ) -> int:
        definition = self.fragments.get(name)
        if definition is None or name in self.open:
            return 0
        condition = definition.type_condition.name.value
        key = (name, condition)
        if sized is None and not root_weight and key in self.fragment_costs:
            return self.fragment_costs[key]
        self.open.add(name)
        cost = self.selection_set(
            condition, definition.selection_set, root_weight=root_weight, sized=sized
        )
        self.open.discard(name)
        if sized is None and not root_weight:
            self.fragment_costs[key] = cost
        return cost

    def field(
        self, parent: str, node: FieldNode, root_weight: bool, given_size: int | None = None
    ) -> int:
        name = node.name.value
        parent_type = self.schema.get_type(parent)
        fields = (
            parent_type.fields
            if isinstance(parent_type, GraphQLObjectType | GraphQLInterfaceType)
            else {}
        )
        definition = fields.get(name)
        if definition is None:  # __typename, or a field of a type the walk cannot see
            return 0
        named = get_named_type(definition.type)
        weight = self.directives.field_weights.get((parent, name))
        if weight is None:
            weight = self.directives.type_weights.get(
                named.name, 1 if is_composite_type(named) else 0
            )
        if root_weight:
            weight = max(weight, MUTATION_WEIGHT)
        arguments = sum(
            self.directives.argument_weights.get((parent, name, argument.name.value), 0)
            for argument in node.arguments or ()
        )
        list_size = self.directives.list_sizes.get((parent, name))
        size = self.size(node, definition, list_size) if given_size is None else given_size
        sized = None
        if list_size is not None and list_size.sized_fields:
            sized, size = (list_size.sized_fields, size), 1
        elif given_size is None and not _is_list(definition.type):
            size = 1
        children = self.selection_set(named.name, node.selection_set, sized=sized)
        return arguments + size * (weight + children)

    def size(self, node: FieldNode, definition: GraphQLField, list_size: ListSize | None) -> int:
        if list_size is not None:
            sizes = [
                self._int_argument(node, definition, argument)
                for argument in list_size.slicing_arguments
            ]
            given = [size for size in sizes if size is not None]
            if given:
                return max(given)
            if list_size.assumed_size is not None:
                return list_size.assumed_size
        return self.default_list_size

    def _int_argument(self, node: FieldNode, definition: GraphQLField, name: str) -> int | None:
        """The argument's value in this request, else the schema's default for it."""
        given: Any = None
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                given = int(value.value)
            elif isinstance(value, VariableNode):
                self.read_variables = True
                given = self.variables.get(value.name.value)
        if given is None:
            argument_definition = definition.args.get(name)
            given = None if argument_definition is None else _default(argument_definition)
        if isinstance(given, int) and not isinstance(given, bool):
            return max(given, 0)
        return None


def _default(argument: GraphQLArgument) -> Any:
    # graphql-core 3.3 keeps an SDL default as its literal until it is coerced.
    default = argument.default
    if default is not None and isinstance(default.literal, IntValueNode):
        return int(default.literal.value)
    return argument.default_value


def _is_list(field_type: Any) -> bool:
    while is_non_null_type(field_type):
        field_type = field_type.of_type
    return is_list_type(field_type)
