"""A small in-memory Engine on graphql-core, for testing the front doors without subgraphs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import (
    GraphQLError as CoreError,
)
from graphql import (
    OperationDefinitionNode,
    build_schema,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values

from gateway.engine import ExecutionResult, GraphQLError, Prepared, RequestError
from gateway.planner.plan import Fetch, QueryPlan
from gateway.security.clients import Caller

SDL = """
type Query {
  hello(name: String): String
  product(id: ID!): Product
}
type Product { id: ID! name: String }
type Mutation { bump: Int }
type Subscription { ticks: Int }
"""

_ROOT = {
    "hello": lambda info, name=None: f"Hello, {name or 'world'}!",
    "product": lambda info, id: {"id": id, "name": f"Product {id}"},
    "bump": lambda info: 1,
}


class _Plan:
    def __init__(self, document: Any, operation: OperationDefinitionNode) -> None:
        self.document = document
        self.operation = operation
        self.query_plan = QueryPlan(
            Fetch(service_name="fake", operation="{ hello }", operation_kind="query")
        )


class FakeEngine:
    def __init__(self, *, ready: bool = True) -> None:
        self.schema = build_schema(SDL)
        self._ready = ready
        self.closed = False
        self.fail_with: Exception | None = None
        self.seen_headers: list[Mapping[str, str]] = []

    @property
    def ready(self) -> bool:
        return self._ready

    def make_ready(self) -> None:
        self._ready = True

    def prepare(
        self,
        document: str,
        operation_name: str | None,
        caller: Caller | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Prepared:
        try:
            ast = parse(document)
        except CoreError as error:
            raise RequestError([_error(error, "GRAPHQL_PARSE_FAILED")]) from None
        invalid = validate(self.schema, ast)
        if invalid:
            raise RequestError([_error(e, "GRAPHQL_VALIDATION_FAILED") for e in invalid])
        operation = get_operation_ast(ast, operation_name)
        if operation is None:
            message = f"Unknown operation named {operation_name!r}."
            raise RequestError([GraphQLError(message, "OPERATION_RESOLUTION_FAILURE")])
        kind = operation.operation.value
        return Prepared(kind, operation_name, _Plan(ast, operation))  # type: ignore[arg-type]

    async def execute(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> ExecutionResult:
        self.seen_headers.append(dict(headers))
        if self.fail_with is not None:
            raise self.fail_with
        plan: _Plan = prepared.plan
        coerced = get_variable_values(
            self.schema, plan.operation.variable_definitions or [], dict(variables or {})
        )
        if isinstance(coerced, list):
            raise RequestError([_error(e, "BAD_USER_INPUT") for e in coerced])
        result = execute(
            self.schema,
            plan.document,
            root_value=_ROOT,
            variable_values=dict(variables or {}),
            operation_name=prepared.operation_name,
        )
        assert not isinstance(result, AsyncIterator)
        errors = [_error(e, "INTERNAL_SERVER_ERROR") for e in result.errors or []]
        return ExecutionResult(data=result.data, errors=errors)  # type: ignore[arg-type]

    def subscribe(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncIterator[ExecutionResult]:
        raise NotImplementedError("the fake engine has no subscriptions")

    def query_plan(self, prepared: Prepared) -> QueryPlan | None:
        plan: _Plan = prepared.plan
        return plan.query_plan

    async def aclose(self) -> None:
        self.closed = True


def _error(error: CoreError, code: str) -> GraphQLError:
    locations = tuple((loc.line, loc.column) for loc in error.locations or ())
    return GraphQLError(message=error.message, code=code, locations=locations or None)
