"""Running planned subscriptions, shared twice over.

- Upstream: subscribers whose operations plan to the same primary fetch (same subgraph,
  same subgraph operation and variables, same forwarded headers) share one subgraph
  subscription.
- Results: subscribers of the same operation with the same variables and headers share
  each event's execution, so the fields other subgraphs own are fetched once per event,
  not once per client.

Both are shared only by callers of the same identity, which the subgraphs receive signed
(``security/identity.py``): signed again for each event's fetches, so a subscription
outlives the window in which a subgraph accepts a signature.

Each event is executed in order, before the next one, so results keep the order the
owning subgraph published them in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from gateway.engine import ExecutionResult, GraphQLError
from gateway.executor import CompiledOperation, Executor, FetchFailed
from gateway.executor.headers import CORRELATION_HEADER
from gateway.planner.plan import Fetch
from gateway.security.identity import CallerIdentity, IdentitySigner
from gateway.subscriptions.fanout import Fanout, Sink, SubscriberTooSlow
from gateway.subscriptions.upstream import Upstream

_Headers = tuple[tuple[str, str], ...]
_UpstreamKey = tuple[str, str, bytes, _Headers, CallerIdentity | None]
_ResultKey = tuple["_Same", bytes, _Headers, CallerIdentity | None]


class _Same:
    """A compiled operation as a key, by identity (its parts are not all hashable)."""

    __slots__ = ("operation",)

    def __init__(self, operation: CompiledOperation) -> None:
        self.operation = operation

    def __hash__(self) -> int:
        return id(self.operation)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.operation is self.operation


class SubscriptionStreams:
    def __init__(
        self,
        executor: Executor,
        upstream: Upstream,
        inbox_limit: int = 1000,
        identity: IdentitySigner | None = None,
    ) -> None:
        self._executor = executor
        self._upstream = upstream
        self._identity = identity
        self._events: Fanout[_UpstreamKey, dict[str, Any]] = Fanout(inbox_limit)
        self._results: Fanout[_ResultKey, ExecutionResult] = Fanout(inbox_limit, _too_slow)

    @property
    def upstream_subscriptions(self) -> int:
        """How many subgraph subscriptions are open."""
        return len(self._events)

    @property
    def subscribers(self) -> int:
        """How many client subscriptions are running."""
        return self._results.subscribers

    def stream(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        caller: CallerIdentity | None = None,
    ) -> AsyncIterator[ExecutionResult]:
        """One subscriber's results; ``variables`` coerced, ``headers`` for the subgraphs,
        ``caller`` signed for them.

        A subscriber that falls too far behind gets a last ``SUBSCRIBER_TOO_SLOW`` error.
        """
        key = _result_key(operation, variables, headers, caller)

        def produce() -> AsyncIterator[ExecutionResult]:
            return self._execute_events(operation, variables, headers, caller)

        return self._results.subscribe(key, produce)

    async def follow(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        caller: CallerIdentity | None,
        sink: Sink[ExecutionResult],
    ) -> None:
        """As ``stream``, but each result goes to ``sink`` in the task that executed it,
        shared by every subscriber of the same key; returns when the stream ends. Falling
        behind is the sink's own business."""
        key = _result_key(operation, variables, headers, caller)

        def produce() -> AsyncIterator[ExecutionResult]:
            return self._execute_events(operation, variables, headers, caller)

        await self._results.follow(key, produce, sink)

    async def _execute_events(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any],
        headers: Mapping[str, str],
        caller: CallerIdentity | None,
    ) -> AsyncIterator[ExecutionResult]:
        primary = operation.subscription
        if primary is None:
            yield _failure("QUERY_PLANNING_FAILED", "The subscription has no primary fetch")
            return
        used = {name: variables[name] for name in primary.variable_usages if name in variables}
        key: _UpstreamKey = (
            primary.service_name,
            primary.operation,
            _canonical(used),
            _sharing_headers(headers),
            caller,
        )

        def produce() -> AsyncIterator[dict[str, Any]]:
            return self._open(primary, used, self._signed(headers, caller))

        try:
            async for event in self._events.subscribe(key, produce):
                yield await self._executor.execute_event(
                    operation, event, variables, self._signed(headers, caller)
                )
        except FetchFailed as failure:
            yield _failure(failure.code, failure.message, primary.service_name)
        except SubscriberTooSlow as slow:
            yield _failure("SUBSCRIBER_TOO_SLOW", f"The subscription fell behind: {slow}")

    def _open(
        self, primary: Fetch, variables: Mapping[str, Any], headers: Mapping[str, str]
    ) -> AsyncIterator[dict[str, Any]]:
        return self._upstream.subscribe(
            primary.service_name,
            primary.operation,
            primary.operation_name,
            variables,
            headers,
        )

    def _signed(
        self, headers: Mapping[str, str], caller: CallerIdentity | None
    ) -> Mapping[str, str]:
        if self._identity is None or caller is None:
            return headers
        return {**headers, **self._identity.headers(caller)}

    async def aclose(self) -> None:
        await self._results.aclose()
        await self._events.aclose()
        await self._upstream.aclose()


def _too_slow(reason: str) -> ExecutionResult:
    return _failure("SUBSCRIBER_TOO_SLOW", f"This subscriber fell behind: {reason}")


def _failure(code: str, message: str, service: str | None = None) -> ExecutionResult:
    extensions = {"serviceName": service} if service else {}
    return ExecutionResult(None, [GraphQLError(message, code, extensions=extensions)])


def _result_key(
    operation: CompiledOperation,
    variables: Mapping[str, Any],
    headers: Mapping[str, str],
    caller: CallerIdentity | None,
) -> _ResultKey:
    """Who may share one execution per event: the same compiled operation (cut for what
    the caller may see), variables, forwarded headers and identity."""
    return (_Same(operation), _canonical(variables), _sharing_headers(headers), caller)


def _canonical(variables: Mapping[str, Any]) -> bytes:
    return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)


def _sharing_headers(headers: Mapping[str, str]) -> _Headers:
    """The headers that can change what a subgraph answers: all but the correlation id."""
    return tuple(sorted((k.lower(), v) for k, v in headers.items() if k != CORRELATION_HEADER))
