"""Compiling an operation with its plan, and executing it.

``compile`` does every per-operation piece of work once (plan steps, request bodies,
response shape, the introspection sub-document); ``execute`` then only coerces variables,
fetches, merges and shapes. ``execute_incrementally`` delivers a plan with deferred
blocks in parts (``incremental``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    execute_sync,
    is_abstract_type,
    visit,
)
from graphql.execution.values import get_variable_values

from gateway.engine import ExecutionResult, GraphQLError, OperationType, RequestError
from gateway.executor.fetching import Fetcher
from gateway.executor.incremental import deliver
from gateway.executor.representations import PossibleTypes
from gateway.executor.runner import PlanRun
from gateway.executor.shaping import ResponseShaper
from gateway.executor.steps import (
    ConditionStep,
    DeferStep,
    InterfaceObjects,
    Step,
    compile_plan,
)
from gateway.planner.plan import Condition, Defer, Fetch, PlanNode, QueryPlan, SubscriptionNode

_INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


@dataclass(frozen=True, slots=True)
class CompiledOperation:
    operation_type: OperationType
    operation_name: str | None
    query_plan: QueryPlan
    step: Step | None
    shaper: ResponseShaper
    variable_definitions: tuple[VariableDefinitionNode, ...]
    introspection: DocumentNode | None
    """The operation cut down to its root ``__schema``/``__type`` fields, if it has any."""
    subscription: Fetch | None = None
    """A subscription's primary fetch; ``step`` is then the plan run on each event."""
    definition: OperationDefinitionNode | None = None
    fragments: Mapping[str, FragmentDefinitionNode] = field(default_factory=dict)
    """The operation as written, for what is measured per request (its cost)."""
    static_cost: int | None = None
    """Its estimated cost, when no variable changes it (else measured per request)."""
    errors: tuple[GraphQLError, ...] = ()
    """What every answer carries: the fields cut for the caller (``authorization``)."""
    deferred: bool = False
    """True when the plan defers fragments: the front doors may deliver it in parts."""
    primary_shaper: ResponseShaper | None = None
    """Shapes the first part of an incremental delivery (the deferred fragments left out)."""


class Executor:
    def __init__(
        self,
        api_schema: GraphQLSchema,
        fetcher: Fetcher,
        interface_objects: InterfaceObjects | None = None,
    ) -> None:
        self.schema = api_schema
        self.fetcher = fetcher
        self._interface_objects: InterfaceObjects = interface_objects or {}
        self._possible_types: PossibleTypes = {
            name: frozenset(t.name for t in api_schema.get_possible_types(named))
            for name, named in api_schema.type_map.items()
            if is_abstract_type(named) and not name.startswith("__")
        }
        self._abstract_types = frozenset(self._possible_types)

    def compile(
        self, document: DocumentNode, operation: OperationDefinitionNode, plan: QueryPlan
    ) -> CompiledOperation:
        operation_type: OperationType = operation.operation.value
        root_type = self.schema.get_root_type(operation.operation)
        if root_type is None:
            raise RequestError(
                [
                    GraphQLError(
                        f"The schema has no {operation_type} type", "GRAPHQL_VALIDATION_FAILED"
                    )
                ]
            )
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        primary: Fetch | None = None
        runnable = plan
        if isinstance(plan.node, SubscriptionNode):
            primary, runnable = plan.node.primary, QueryPlan(plan.node.rest)
        conditions = _condition_variables(document)
        deferred = _has_defer(plan.node)
        primary_shaper = (
            ResponseShaper(
                self.schema,
                root_type,
                operation.selection_set,
                fragments,
                conditions,
                without_deferred=True,
            )
            if deferred
            else None
        )
        shape_deferred = primary_shaper.deferred_shape if primary_shaper is not None else None
        return CompiledOperation(
            operation_type=operation_type,
            operation_name=operation.name.value if operation.name else None,
            query_plan=plan,
            step=compile_plan(
                runnable, self._possible_types, self._interface_objects, shape_deferred
            ),
            shaper=ResponseShaper(
                self.schema,
                root_type,
                operation.selection_set,
                fragments,
                conditions,
            ),
            variable_definitions=tuple(operation.variable_definitions or ()),
            introspection=_introspection_document(document, operation),
            subscription=primary,
            definition=operation,
            fragments=fragments,
            deferred=deferred,
            primary_shaper=primary_shaper,
        )

    async def execute(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> ExecutionResult:
        """``headers`` go with every subgraph fetch (see ``subgraph_headers``).

        Raises ``RequestError`` for variables that don't coerce, and for nothing else.
        """
        coerced = self.coerce_variables(operation, variables)
        run = PlanRun(self.fetcher, coerced, headers, self._abstract_types)
        await run.run(operation.step)
        return self._finish(operation, run, variables, coerced, operation.shaper)

    def execute_incrementally(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncGenerator[ExecutionResult, None]:
        """The response in parts: the initial result (``has_next``), then one part per
        batch of deferred blocks done, the last with ``has_next=False``. When nothing is
        deferred for these variables (``@defer(if: $v)`` with ``$v`` false) the one
        result is the whole response, with ``has_next=False``.

        Raises ``RequestError`` at once (before any result) for variables that don't
        coerce."""
        coerced = self.coerce_variables(operation, variables)
        defer = _chosen_defer(operation.step, coerced)
        shaper = operation.primary_shaper
        if defer is None or shaper is None:
            return self._whole(operation, variables, coerced, headers)
        data: dict[str, Any] = {}

        def new_run() -> PlanRun:
            run = PlanRun(self.fetcher, coerced, headers, self._abstract_types)
            run.data = data
            return run

        async def finish_primary(run: PlanRun) -> ExecutionResult:
            return self._finish(operation, run, variables, coerced, shaper)

        return deliver(
            defer,
            new_run,
            finish_primary,
            lambda errors: shaper.context(errors, coerced),
            self._possible_types,
            coerced,
        )

    async def _whole(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any] | None,
        coerced: dict[str, Any],
        headers: Mapping[str, str],
    ) -> AsyncGenerator[ExecutionResult, None]:
        run = PlanRun(self.fetcher, coerced, headers, self._abstract_types)
        await run.run(operation.step)
        result = self._finish(operation, run, variables, coerced, operation.shaper)
        result.has_next = False
        yield result

    def _finish(
        self,
        operation: CompiledOperation,
        run: PlanRun,
        variables: Mapping[str, Any] | None,
        coerced: dict[str, Any],
        shaper: ResponseShaper,
    ) -> ExecutionResult:
        """Answers root introspection and shapes the run's data for the client."""
        run.errors[:0] = operation.errors
        if operation.introspection is not None:
            introspected = execute_sync(
                self.schema, operation.introspection, variable_values=dict(variables or {})
            )
            if introspected.data:
                run.data.update(introspected.data)
            for error in introspected.errors or ():
                run.errors.append(
                    GraphQLError(
                        error.message,
                        "INTERNAL_SERVER_ERROR",
                        path=tuple(error.path) if error.path else None,
                    )
                )
        data = shaper.shape(run.data, run.errors, coerced)
        return ExecutionResult(data, run.errors)

    async def execute_event(
        self,
        operation: CompiledOperation,
        event: Mapping[str, Any],
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> ExecutionResult:
        """One subscription event: ``event`` is the primary fetch's result (``data`` and
        ``errors`` as its subgraph sent them); the rest of the plan fills in the fields other
        subgraphs own. ``variables`` are already coerced. ``event`` is left untouched, so
        one event can feed several operations."""
        primary = operation.subscription
        service = primary.service_name if primary is not None else ""
        run = PlanRun(self.fetcher, variables, headers, self._abstract_types)
        run.errors.extend(operation.errors)
        data = event.get("data")
        if isinstance(data, dict):
            run.data = orjson.loads(orjson.dumps(data))  # the runner merges in place
        run.subgraph_errors(service, event.get("errors"))
        if run.data:
            await run.run(operation.step)
        shaped = operation.shaper.shape(run.data, run.errors, variables) if run.data else None
        return ExecutionResult(shaped, run.errors)

    def coerce_variables(
        self, operation: CompiledOperation, variables: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        if not operation.variable_definitions:
            return {}
        if variables is not None and not isinstance(variables, Mapping):
            raise RequestError([GraphQLError("Variables must be an object", "BAD_USER_INPUT")])
        result = get_variable_values(
            self.schema, operation.variable_definitions, dict(variables or {}), max_errors=50
        )
        if isinstance(result, list):
            raise RequestError(
                [
                    GraphQLError(
                        error.message,
                        "BAD_USER_INPUT",
                        locations=tuple((loc.line, loc.column) for loc in error.locations or ()),
                    )
                    for error in result
                ]
            )
        return dict(result.coerced)


def _has_defer(node: PlanNode | None) -> bool:
    if isinstance(node, Condition):
        return _has_defer(node.if_clause) or _has_defer(node.else_clause)
    return isinstance(node, Defer)


def _chosen_defer(step: Step | None, variables: Mapping[str, Any]) -> DeferStep | None:
    """The Defer node these variables run (``@defer(if: $v)`` plans sit under conditions)."""
    while isinstance(step, ConditionStep):
        step = step.if_step if variables.get(step.variable) else step.else_step
    return step if isinstance(step, DeferStep) else None


def _condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """Variables that ``@skip``/``@include``/``@defer`` read: the response shape (of
    the whole response, or of its first part) depends on them."""
    names: set[str] = set()

    class _Conditions(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            if node.name.value in ("skip", "include", "defer"):
                for argument in node.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)

    visit(document, _Conditions())
    return tuple(sorted(names))


def _introspection_document(
    document: DocumentNode, operation: OperationDefinitionNode
) -> DocumentNode | None:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    selections = _introspection_selections(operation.selection_set, fragments, set())
    if not selections:
        return None
    cut = OperationDefinitionNode(
        operation=operation.operation,
        name=operation.name,
        variable_definitions=operation.variable_definitions,
        directives=operation.directives,
        selection_set=SelectionSetNode(selections=selections),
    )
    return DocumentNode(definitions=(cut, *fragments.values()))


def _introspection_selections(
    selection_set: SelectionSetNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    visited: set[str],
) -> tuple[SelectionNode, ...]:
    """The root's ``__schema``/``__type`` fields, also those inside root fragments."""
    kept: list[SelectionNode] = []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in _INTROSPECTION_FIELDS:
                kept.append(selection)
            continue
        if isinstance(selection, InlineFragmentNode):
            inner_set = selection.selection_set
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is None or selection.name.value in visited:
                continue
            visited.add(selection.name.value)
            inner_set = fragment.selection_set
        else:
            continue
        inner = _introspection_selections(inner_set, fragments, visited)
        if inner:
            kept.append(
                InlineFragmentNode(
                    directives=selection.directives,
                    selection_set=SelectionSetNode(selections=inner),
                )
            )
    return tuple(kept)
