"""``build_plan``: the planner's entry point."""

from __future__ import annotations

from collections.abc import Mapping

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode

from gateway.planner.assemble import assemble
from gateway.planner.builder import Builder
from gateway.planner.deferred import defer_usage, subselection
from gateway.planner.errors import OperationNotFound
from gateway.planner.plan import Condition, QueryPlan
from gateway.supergraph.model import Supergraph

# Planning steps (a field placed, a selection weighed for a subgraph) one operation may
# take. The benchmark query takes about 300; the limits' default of 2,000 fields needs
# about 40,000 at most.
DEFAULT_PLANNING_BUDGET = 200_000


def build_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None,
    *,
    budget: int = DEFAULT_PLANNING_BUDGET,
) -> QueryPlan:
    """Plans one operation of a document already validated against the API schema.

    A ``@defer(if: $v)`` is planned both ways, under ``Condition(if: $v)``, as Apollo
    does. Raises ``PlanningBudgetExceeded`` after ``budget`` steps, whatever the
    operation."""
    operation = select_operation(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    # a subscription's fragments are never deferred (validation refuses @defer there
    # unless its ``if`` may be false)
    deferred, variables = defer_usage(operation, fragments)
    deferred = deferred and operation.operation.value != "subscription"
    return _plan(
        supergraph, operation, fragments, budget, deferred, variables if deferred else [], {}
    )


def _plan(
    supergraph: Supergraph,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    budget: int,
    defers: bool,
    variables: list[str],
    values: Mapping[str, bool],
) -> QueryPlan:
    if variables:
        variable, rest = variables[0], variables[1:]
        args = (supergraph, operation, fragments, budget, defers, rest)
        deferred = _plan(*args, {**values, variable: True})
        eager = _plan(*args, {**values, variable: False})
        if deferred.node == eager.node:
            return deferred
        return QueryPlan(Condition(variable, deferred.node, eager.node))
    builder = Builder(
        supergraph, operation, fragments, budget=budget, defers=defers, defer_values=values
    )
    groups = builder.build()
    primary = None
    if builder.blocks:
        selections = operation.selection_set.selections
        primary = subselection(selections, fragments, values)
    return assemble(groups, builder.roots, operation, builder.blocks, primary)


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise OperationNotFound("the document contains no operation")
        raise OperationNotFound("the document contains several operations: give an operation name")
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    raise OperationNotFound(f'unknown operation named "{operation_name}"')
