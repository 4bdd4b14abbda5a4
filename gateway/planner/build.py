"""``build_plan``: the planner's entry point."""

from __future__ import annotations

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode

from gateway.planner.assemble import assemble
from gateway.planner.builder import Builder
from gateway.planner.errors import OperationNotFound
from gateway.planner.plan import QueryPlan
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

    Raises ``PlanningBudgetExceeded`` after ``budget`` steps, whatever the operation."""
    operation = select_operation(document, operation_name)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    builder = Builder(supergraph, operation, fragments, budget=budget)
    groups = builder.build()
    return assemble(groups, builder.roots, operation)


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
