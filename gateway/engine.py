"""The contract between the front doors (HTTP, WebSocket) and the federated engine.

The front doors deal with transport: methods, media types, status codes, framing. The
engine deals with GraphQL: it prepares a document (parse, validate, plan) and executes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import orjson

from gateway.planner.plan import QueryPlan
from gateway.security.clients import Caller

OperationType = Literal["query", "mutation", "subscription"]


@dataclass(frozen=True, slots=True)
class GraphQLError:
    message: str
    code: str
    path: tuple[str | int, ...] | None = None
    locations: tuple[tuple[int, int], ...] | None = None
    extensions: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message}
        if self.locations:
            error["locations"] = [{"line": ln, "column": col} for ln, col in self.locations]
        if self.path is not None:
            error["path"] = list(self.path)
        error["extensions"] = {**self.extensions, "code": self.code}
        return error


class RequestError(Exception):
    """The request cannot be executed at all: it gets errors and no ``data`` key.

    Parse and validation failures, an unknown or ambiguous operation name, and variables
    that do not coerce. Over ``application/graphql-response+json`` these are 4xx.
    """

    def __init__(self, errors: list[GraphQLError], *, status: int = 400) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
        self.status = status


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed, validated and planned operation; ``plan`` is the engine's own business."""

    operation_type: OperationType
    operation_name: str | None
    plan: object
    # Who it was prepared for (its client's cost budget applies when it runs).
    caller: Caller | None = None
    # Its plan defers fragments: it can be delivered in parts (``execute_incrementally``).
    deferred: bool = False


@dataclass(slots=True)
class ExecutionResult:
    """One response, or one part of an incrementally delivered one (``@defer``): the
    initial part has ``data`` and ``has_next``; a subsequent part has ``incremental``
    (entries with ``data``, ``path``, and ``label``/``errors`` when set) and ``has_next``,
    False on the last part."""

    data: dict[str, Any] | None
    errors: list[GraphQLError] = field(default_factory=list)
    extensions: dict[str, Any] | None = None
    has_next: bool | None = None
    incremental: list[dict[str, Any]] | None = None
    _json: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.incremental is not None:
            if self.incremental:
                result["incremental"] = self.incremental
            result["hasNext"] = bool(self.has_next)
            if self.extensions:
                result["extensions"] = self.extensions
            return result
        if self.errors:
            result["errors"] = [e.to_dict() for e in self.errors]
        result["data"] = self.data
        if self.has_next is not None:
            result["hasNext"] = self.has_next
        if self.extensions:
            result["extensions"] = self.extensions
        return result

    def to_json(self) -> bytes:
        """``to_dict()`` as JSON, encoded once: one subscription event goes to many clients."""
        if self._json is None:
            self._json = orjson.dumps(self.to_dict(), option=orjson.OPT_NON_STR_KEYS)
        return self._json


class ResultSink(Protocol):
    """Takes each result of an operation as it comes (``Engine.follow``): it must neither
    block nor raise."""

    def put(self, result: ExecutionResult) -> None: ...


class Engine(Protocol):
    @property
    def ready(self) -> bool:
        """True once a supergraph is loaded and operations can be planned."""
        ...

    def prepare(
        self,
        document: str,
        operation_name: str | None,
        caller: Caller | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Prepared:
        """Parse, validate and plan for ``caller`` (its rights cut the operation down; a
        ``@policy`` may look at the ``variables`` the request will run with); raises
        ``RequestError``. Cached by document and by what the caller may see."""
        ...

    async def execute(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> ExecutionResult:
        """Run a query or mutation; raises ``RequestError`` for bad variables only."""
        ...

    def execute_incrementally(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncIterator[ExecutionResult]:
        """Run a query or mutation whose plan defers fragments (``Prepared.deferred``):
        the initial part, then a part as deferred fragments complete (``hasNext`` false on
        the last). Raises ``RequestError`` before any part, as ``execute`` does."""
        ...

    def subscribe(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncIterator[ExecutionResult]:
        """Run a subscription: one result per event (a query or mutation: its one result,
        or its parts when it defers fragments)."""
        ...

    def follow(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        sink: ResultSink,
    ) -> Awaitable[None]:
        """As ``subscribe``, but each result is handed to ``sink``; the awaitable ends with
        the stream. A subscription's event is put to every sink of the same operation,
        variables and identity by the one task that executed it, with no task of the
        subscriber's woken. Raises ``RequestError`` at once, as ``subscribe`` does."""
        ...

    def query_plan(self, prepared: Prepared) -> QueryPlan | None:
        """The plan to show a client who asks for it (``Apollo-Expose-Query-Plan``)."""
        ...

    async def aclose(self) -> None:
        """Release what the engine holds (connection pools, upstream subscriptions)."""
        ...
