"""Fake subgraphs for executor tests: answer from Python functions, record every request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import build_schema, parse
from graphql.utilities import get_operation_ast

from gateway.engine import ExecutionResult
from gateway.executor import Executor, FetchFailed
from gateway.executor.headers import subgraph_headers
from gateway.planner.plan import QueryPlan

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]

API_SCHEMA = build_schema(
    """
    interface Node { id: ID! }
    union SearchResult = User | Product
    type Query {
      me: User!
      users: [User]
      products(first: Int = 5): [Product!]
      search: [SearchResult]
      node(id: ID!): Node
    }
    enum Role { ADMIN MEMBER }
    type User implements Node {
      id: ID!
      name: String
      username: String!
      reviews: [Review]
      role: Role
      roles: [Role!]
    }
    type Review implements Node { id: ID! body: String product: Product author: User }
    type Product implements Node { id: ID! upc: String! name: String inStock: Boolean }
    """
)


@dataclass(frozen=True, slots=True)
class SubgraphRequest:
    service: str
    query: str
    variables: dict[str, Any]
    headers: Mapping[str, str]
    mutation: bool = False


class FakeSubgraphs:
    def __init__(self, **handlers: Handler) -> None:
        self._handlers = handlers
        self.requests: list[SubgraphRequest] = []

    async def fetch(
        self, service: str, body: bytes, headers: Mapping[str, str], *, mutation: bool = False
    ) -> dict[str, Any]:
        request = orjson.loads(body)
        self.requests.append(
            SubgraphRequest(
                service, request["query"], request.get("variables") or {}, headers, mutation
            )
        )
        response = self._handlers[service](request["query"], request.get("variables") or {})
        # a real subgraph's answer is fresh JSON: never share objects between requests
        decoded: dict[str, Any] = orjson.loads(orjson.dumps(response))
        return decoded

    def to(self, service: str) -> list[SubgraphRequest]:
        return [r for r in self.requests if r.service == service]


def failing(code: str, message: str) -> Handler:
    def fail(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        raise FetchFailed(code, message)

    return fail


def answer(data: dict[str, Any], errors: list[dict[str, Any]] | None = None) -> Handler:
    def respond(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return {"data": data, **({"errors": errors} if errors else {})}

    return respond


def entities(resolve: Callable[[dict[str, Any]], dict[str, Any] | None]) -> Handler:
    def respond(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return {"data": {"_entities": [resolve(r) for r in variables["representations"]]}}

    return respond


async def run(
    query: str,
    plan: QueryPlan,
    subgraphs: FakeSubgraphs,
    variables: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    interface_objects: Mapping[str, frozenset[str]] | None = None,
) -> ExecutionResult:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    executor = Executor(API_SCHEMA, subgraphs, interface_objects)
    compiled = executor.compile(document, operation, plan)
    return await executor.execute(compiled, variables, subgraph_headers(headers or {}))


async def run_incrementally(
    query: str,
    plan: QueryPlan,
    subgraphs: FakeSubgraphs,
    variables: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The parts of an incremental delivery, as the client receives them."""
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    executor = Executor(API_SCHEMA, subgraphs)
    compiled = executor.compile(document, operation, plan)
    parts = executor.execute_incrementally(compiled, variables, subgraph_headers({}))
    return [part.to_dict() async for part in parts]
