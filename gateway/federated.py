"""``FederatedEngine``: the ``Engine`` that plans against a supergraph and runs the plans.

It owns GraphQL concerns only: parse, validate, plan, compile, execute. Transport options
for the subgraph fetches (URL overrides, in-process apps, timeouts) come in as plain data;
the HTTP front door is elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Collection, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    DeferStreamDirectiveOnValidOperationsRule,
    DocumentNode,
    GraphQLSyntaxError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    specified_rules,
    validate,
)
from graphql import GraphQLError as CoreGraphQLError
from opentelemetry.trace import Tracer

from gateway.authorization import (
    Check,
    Protected,
    Restricted,
    UnauthorizedMode,
    protected_requirements,
    restrict,
)
from gateway.cost import CostEstimator, CostLimits
from gateway.engine import ExecutionResult, GraphQLError, Prepared, RequestError, ResultSink
from gateway.executor import (
    CompiledOperation,
    Executor,
    Fetcher,
    HttpFetcher,
    HttpOptions,
    SubgraphOptions,
    subgraph_headers,
)
from gateway.executor.deduplicated import DeduplicatingFetcher
from gateway.executor.headers import DEFAULT_FORWARDED
from gateway.executor.metered import MeteredFetcher
from gateway.executor.network import Proxies
from gateway.executor.traced import TracedFetcher
from gateway.grammar import parse_document
from gateway.limits import OperationLimits, check_operations, check_shape, measure
from gateway.metrics import GatewayMetrics
from gateway.planner import (
    DEFAULT_PLANNING_BUDGET,
    OperationNotFound,
    PlanningBudgetExceeded,
    PlanningError,
    build_plan,
    select_operation,
)
from gateway.planner.plan import QueryPlan
from gateway.security.clients import Caller
from gateway.security.identity import CallerIdentity, IdentitySigner
from gateway.security.policies import met_policies
from gateway.subscriptions.streams import SubscriptionStreams
from gateway.subscriptions.upstream import Upstream
from gateway.supergraph import Supergraph, load_supergraph

_SUBSCRIBE = "A subscription runs through subscribe(), over WebSocket or SSE"
# A request with this header set to ``true`` gets its estimated cost in ``extensions``.
COST_HEADER = "retailgraph-expose-cost"
# graphql-core's messages when it stops parsing a document too long or too deep.
_TOO_MANY_TOKENS = "tokens. Parsing aborted"
_NESTED_TOO_DEEPLY = "nested too deeply"
# Nesting deep enough to exhaust the parser's recursion is far past any depth limit.
_TOO_DEEP = GraphQLError("The document nests too deeply to be parsed.", "MAX_DEPTH_LIMIT")
_log = logging.getLogger(__name__)
# A subscription with an unconditional @defer gets a code of its own, as Apollo Router's.
_DEFER_IN_SUBSCRIPTION = DeferStreamDirectiveOnValidOperationsRule
_RULES = tuple(rule for rule in specified_rules if rule is not _DEFER_IN_SUBSCRIPTION)
# What ``/ready`` asks each subgraph: the cheapest operation every GraphQL server answers.
_TYPENAME = b'{"query":"{ __typename }"}'
_PROBE_HEADERS = {"content-type": "application/json", "accept": "application/json"}
# What the prepared operations may hold, in characters of their documents. A prepared
# operation (its document, plan and compiled shapes) takes about 130 to 170 bytes of
# memory per character of its document (tracemalloc: the bench query, 964 characters,
# 122 KiB; 19 aliased roots, 5,798 characters, 999 KiB), so this bounds the cache near
# 40 MiB however large the documents sent, where 1,024 documents alone would not.
DEFAULT_CACHE_CHARACTERS = 256_000


class FederatedEngine:
    """Plans operations against one supergraph and executes them over its subgraphs.

    ``subgraphs`` overrides, per subgraph name, the URL the supergraph gives, or serves
    the subgraph in process from an ASGI app; ``default_timeout`` applies where a
    subgraph sets none. ``forwarded_headers`` lists the client headers (lower case) passed
    on to every subgraph; ``X-Correlation-ID`` always is, and is generated when missing.
    ``fetcher`` replaces HTTP altogether (tests, custom transports). Subscriptions open
    on the owning subgraph over graphql-transport-ws, at the same URL or in-process app.
    ``identity`` signs each request's caller into every subgraph fetch
    (``security/identity.py``); without it the subgraphs see every request as anonymous.
    ``unauthorized`` says what becomes of an operation asking for fields its caller may
    not see: ``filter`` answers them null with ``UNAUTHORIZED_FIELD_OR_TYPE`` and runs the
    rest, ``reject`` refuses the whole operation with those errors. ``metrics`` records the
    plan cache's hits and misses, the estimated costs and every subgraph fetch. ``tracer``
    runs each subgraph fetch in a span whose context the subgraph continues.
    ``deduplicate`` lets identical queries in flight at once share one subgraph request
    (``executor/deduplicated.py``). The prepared operations kept are at most
    ``cache_size``, of at most ``cache_characters`` characters of documents in all, the
    least recently used dropped first; a longer document is prepared each time it comes.
    """

    def __init__(
        self,
        supergraph_sdl: str,
        *,
        subgraphs: Mapping[str, SubgraphOptions] | None = None,
        default_timeout: float = 30.0,
        forwarded_headers: Collection[str] = DEFAULT_FORWARDED,
        fetcher: Fetcher | None = None,
        max_connections: int = 512,
        cache_size: int = 1024,
        cache_characters: int = DEFAULT_CACHE_CHARACTERS,
        limits: OperationLimits | None = None,
        planning_budget: int = DEFAULT_PLANNING_BUDGET,
        introspection: bool = True,
        cost: CostLimits | None = None,
        proxies: Proxies | None = None,
        identity: IdentitySigner | None = None,
        unauthorized: UnauthorizedMode = "filter",
        metrics: GatewayMetrics | None = None,
        tracer: Tracer | None = None,
        deduplicate: bool = True,
    ) -> None:
        self.supergraph: Supergraph = load_supergraph(supergraph_sdl)
        self.limits = limits or OperationLimits()
        self.planning_budget = planning_budget
        self.introspection = introspection
        self.unauthorized = unauthorized
        self.cost = CostEstimator(
            self.supergraph.api_schema, self.supergraph.costs, cost or CostLimits()
        )
        self._http: HttpFetcher | None = None
        urls = {name: sub.url for name, sub in self.supergraph.subgraphs.items()}
        if fetcher is None:
            options = HttpOptions(
                default_timeout=default_timeout,
                max_connections=max_connections,
                subgraphs=dict(subgraphs or {}),
                proxies=proxies or Proxies(),
            )
            fetcher = self._http = HttpFetcher(urls, options)
        # /ready's probes go around the metrics: they are not traffic.
        self._fetcher = fetcher
        self._metrics = metrics
        if tracer is not None:
            fetcher = TracedFetcher(fetcher, tracer)
        if metrics is not None:
            fetcher = MeteredFetcher(fetcher, metrics)
        if deduplicate:
            # Outermost: the metrics and traces count the requests the subgraphs receive.
            fetcher = DeduplicatingFetcher(fetcher)
        self._executor = Executor(
            self.supergraph.api_schema, fetcher, _interface_objects(self.supergraph)
        )
        self._forwarded = frozenset(name.lower() for name in forwarded_headers)
        self._identity = identity
        self.subscriptions = SubscriptionStreams(
            self._executor,
            Upstream(urls, subgraphs, connect_timeout=default_timeout),
            identity=identity,
        )
        self._cache_size = cache_size
        self._cache_characters = cache_characters
        self._prepared: OrderedDict[tuple[str, str | None], _Checked | RequestError] = OrderedDict()
        # Characters of the documents in ``_prepared``.
        self._cached_characters = 0

    @property
    def ready(self) -> bool:
        return True

    def prepare(
        self,
        document: str,
        operation_name: str | None,
        caller: Caller | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> Prepared:
        checked = self._checked(document, operation_name)
        if isinstance(checked, RequestError):
            # a fresh exception each time: re-raising one instance would grow its traceback
            raise RequestError(checked.errors, status=checked.status)
        if checked.introspection_refusal is not None and not self._may_introspect(caller):
            raise RequestError([checked.introspection_refusal])
        if checked.protected.checks:
            # The verdicts depend on the caller and the variables; the preparation is
            # cached per set of verdicts, so a request asking for another location than
            # the one a preparation was made for gets the one its own verdicts call for.
            met = checked.protected.met(lambda check: _meets(caller, check, variables))
            prepared = checked.restricted.get(met)
            if prepared is None:
                prepared = checked.restricted[met] = self._restricted(checked, met)
        else:
            prepared = checked.prepared or RequestError([_UNPLANNED], status=500)
        if isinstance(prepared, RequestError):
            raise RequestError(prepared.errors, status=prepared.status)
        return prepared if caller is None else replace(prepared, caller=caller)

    def _checked(self, document: str, operation_name: str | None) -> _Checked | RequestError:
        key = (document, operation_name)
        cached = self._prepared.get(key)
        hit = cached is not None
        if cached is None:
            cached = self._check(document, operation_name)
            if len(document) <= self._cache_characters:
                self._prepared[key] = cached
                self._cached_characters += len(document)
                while (
                    len(self._prepared) > self._cache_size
                    or self._cached_characters > self._cache_characters
                ):
                    (dropped, _), _ = self._prepared.popitem(last=False)
                    self._cached_characters -= len(dropped)
        else:
            self._prepared.move_to_end(key)
        if self._metrics is not None:
            self._metrics.plan_cache(hit)
        return cached

    def _may_introspect(self, caller: Caller | None) -> bool:
        chosen = None if caller is None else caller.client.introspection
        return self.introspection if chosen is None else chosen

    def _restricted(self, checked: _Checked, met: frozenset[int]) -> Prepared | RequestError:
        restricted = restrict(
            self.supergraph.api_schema,
            self.supergraph.access,
            checked.document,
            checked.operation,
            checked.protected,
            met,
        )
        if self.unauthorized == "reject" and restricted.errors:
            # The whole operation is refused, as Apollo Router's reject_unauthorized and
            # Hive Router's reject mode do: no subgraph is asked anything.
            return RequestError(list(restricted.errors), status=403)
        return self._plan(
            checked.document,
            checked.operation,
            checked.operation_name,
            planned_from=restricted,
        )

    async def execute(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> ExecutionResult:
        operation, forwarded, report = self._admitted(prepared, variables, headers)
        result = await self._executor.execute(operation, variables, forwarded)
        if report is not None:
            result.extensions = {**(result.extensions or {}), "cost": report}
        return result

    def execute_incrementally(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncIterator[ExecutionResult]:
        """Run a query or mutation whose plan defers fragments (``CompiledOperation.
        deferred``) and deliver it in parts (``Executor.execute_incrementally``).

        Raises ``RequestError`` at once (before any part) for bad variables and a cost
        over budget; the first part carries the cost report when asked for."""
        operation, forwarded, report = self._admitted(prepared, variables, headers)
        parts = self._executor.execute_incrementally(operation, variables, forwarded)
        return parts if report is None else _with_cost(parts, report)

    def _admitted(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> tuple[CompiledOperation, dict[str, str], dict[str, Any] | None]:
        """A query or mutation allowed to run: its operation, the headers for its
        subgraph fetches, and its cost report when the client asked for one. Raises
        ``RequestError`` for a subscription and for a cost over the caller's budget."""
        operation = prepared.plan
        if not isinstance(operation, CompiledOperation):
            raise TypeError("prepared elsewhere than by this engine")
        if operation.operation_type == "subscription":
            raise RequestError([GraphQLError(_SUBSCRIBE, "SUBSCRIPTION_NOT_SUPPORTED")])
        budget = _budget(prepared.caller)
        cost = self._checked_cost(operation, variables, budget)
        forwarded = self._subgraph_headers(prepared, headers)
        wanted = cost is not None and headers.get(COST_HEADER, "").lower() == "true"
        report = self.cost.report(cost, budget) if wanted and cost is not None else None
        return operation, forwarded, report

    def _subgraph_headers(self, prepared: Prepared, headers: Mapping[str, str]) -> dict[str, str]:
        """The client headers passed on to the subgraphs, and the caller's identity."""
        forwarded = subgraph_headers(headers, self._forwarded)
        caller = _identity_of(prepared.caller)
        if self._identity is not None and caller is not None:
            forwarded.update(self._identity.headers(caller))
        return forwarded

    def _checked_cost(
        self,
        operation: CompiledOperation,
        variables: Mapping[str, Any] | None,
        budget: int | None = None,
    ) -> int | None:
        """The operation's estimated cost; raises ``RequestError`` when it is too high."""
        if self.cost.limits.mode == "off" or operation.definition is None:
            return None
        cost = operation.static_cost
        if cost is None:
            cost = self.cost.estimate(operation.definition, operation.fragments, variables)
        if self._metrics is not None:
            self._metrics.cost(cost)
        refusal = self.cost.refusal(cost, budget)
        if refusal is not None:
            raise RequestError([refusal])
        return cost

    def subscribe(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncIterator[ExecutionResult]:
        """Results as events arrive; a query or mutation gives its one result, or its
        parts when it defers fragments.

        Raises ``RequestError`` at once (before any result) when the variables do not
        coerce. Closing the iterator releases the subgraph subscription behind it.
        """
        operation = prepared.plan
        if not isinstance(operation, CompiledOperation):
            raise TypeError("prepared elsewhere than by this engine")
        coerced = self._executor.coerce_variables(operation, variables)
        if operation.operation_type != "subscription":
            if operation.deferred:
                return self.execute_incrementally(prepared, variables, headers)
            return self._single(prepared, variables, headers)  # execute checks its cost
        return self.subscriptions.stream(
            operation, coerced, *self._subscribing(prepared, operation, variables, headers)
        )

    def follow(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        sink: ResultSink,
    ) -> Awaitable[None]:
        operation = prepared.plan
        if not isinstance(operation, CompiledOperation):
            raise TypeError("prepared elsewhere than by this engine")
        if operation.operation_type != "subscription":
            return _put_each(self.subscribe(prepared, variables, headers), sink)
        coerced = self._executor.coerce_variables(operation, variables)
        forwarded, caller = self._subscribing(prepared, operation, variables, headers)
        return self.subscriptions.follow(operation, coerced, forwarded, caller, sink)

    def _subscribing(
        self,
        prepared: Prepared,
        operation: CompiledOperation,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> tuple[Mapping[str, str], CallerIdentity | None]:
        """Checks a subscription's cost; the headers for its subgraphs and the caller
        they are signed for."""
        self._checked_cost(operation, variables, _budget(prepared.caller))
        forwarded = subgraph_headers(headers, self._forwarded)
        caller = _identity_of(prepared.caller) if self._identity is not None else None
        return forwarded, caller

    async def _single(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> AsyncIterator[ExecutionResult]:
        yield await self.execute(prepared, variables, headers)

    def query_plan(self, prepared: Prepared) -> QueryPlan | None:
        operation = prepared.plan
        return operation.query_plan if isinstance(operation, CompiledOperation) else None

    async def unreachable_subgraphs(self) -> list[str]:
        """Why each subgraph that cannot be reached cannot: every subgraph of the supergraph
        is asked ``{ __typename }`` at once (``/ready``; a subgraph that answers GraphQL,
        even with an error, is up)."""
        names = sorted(self.supergraph.subgraphs)
        answers = await asyncio.gather(
            *(self._fetcher.fetch(name, _TYPENAME, _PROBE_HEADERS) for name in names),
            return_exceptions=True,
        )
        return [
            f"subgraph {name}: {answer}"
            for name, answer in zip(names, answers, strict=True)
            if isinstance(answer, BaseException)
        ]

    async def aclose(self) -> None:
        await self.subscriptions.aclose()
        if self._http is not None:
            await self._http.aclose()

    def _check(self, source: str, operation_name: str | None) -> _Checked | RequestError:
        """Parse, bound, select and validate once per document: what does not depend on
        who sends it."""
        try:
            document = parse_document(source, max_tokens=self.limits.max_tokens)
        except GraphQLSyntaxError as error:
            return RequestError([_core_error(error, _parse_failure_code(error.message))])
        except RecursionError:
            return RequestError([_TOO_DEEP])
        refused = check_operations(document, self.limits)
        if refused:
            return RequestError(refused)
        try:
            operation = select_operation(document, operation_name)
        except OperationNotFound as error:
            return RequestError([GraphQLError(str(error), "OPERATION_RESOLUTION_FAILURE")])
        refused = check_shape(measure(document, operation), self.limits)
        if refused:
            return RequestError(refused)
        errors = validate(self.supergraph.api_schema, document, _RULES)
        if errors:
            return RequestError([_core_error(e, "GRAPHQL_VALIDATION_FAILED") for e in errors])
        errors = validate(self.supergraph.api_schema, document, [_DEFER_IN_SUBSCRIPTION])
        if errors:
            return RequestError(
                [_core_error(e, "DEFER_NOT_SUPPORTED_IN_SUBSCRIPTION") for e in errors]
            )
        introspecting = validate(
            self.supergraph.api_schema, document, [NoSchemaIntrospectionCustomRule]
        )
        # One refusal is enough: the rule reports every introspection field.
        refusal = _core_error(introspecting[0], "INTROSPECTION_DISABLED") if introspecting else None
        protected = (
            protected_requirements(
                self.supergraph.api_schema, self.supergraph.access, document, operation
            )
            if self.supergraph.access
            else Protected(())
        )
        return _Checked(
            document,
            operation,
            operation_name,
            refusal,
            protected,
            None if protected.checks else self._plan(document, operation, operation_name),
        )

    def _plan(
        self,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        operation_name: str | None,
        *,
        planned_from: Restricted | None = None,
    ) -> Prepared | RequestError:
        """Plan the operation (or what ``planned_from`` leaves of it for a caller), and
        compile it to run: the response is always shaped as the caller asked, so a field
        cut for the caller answers null."""
        planned = planned_from.document if planned_from is not None else document
        try:
            if planned_from is not None and planned_from.empty:
                plan = QueryPlan(None)
            else:
                plan = build_plan(
                    self.supergraph, planned, operation_name, budget=self.planning_budget
                )
        except PlanningBudgetExceeded as error:
            return RequestError([GraphQLError(str(error), "PLANNING_BUDGET_EXCEEDED")])
        except PlanningError as error:
            return RequestError([GraphQLError(str(error), "QUERY_PLANNING_FAILED")], status=500)
        except Exception:  # a planner defect: the operator needs the trace, the client a code
            _log.exception("planning failed for operation %r", operation_name)
            return RequestError(
                [GraphQLError("The operation could not be planned", "QUERY_PLANNING_FAILED")],
                status=500,
            )
        compiled = self._executor.compile(document, operation, plan)
        if planned_from is not None and planned_from.errors:
            compiled = replace(compiled, errors=planned_from.errors)
        if self.cost.limits.mode != "off":
            # Worked out once per operation unless a variable sizes a list (the bench
            # query's estimate takes 0.05 ms, about 1% of the gateway's CPU per request).
            cost, varies = self.cost.estimate_once(operation, compiled.fragments, None)
            if not varies:
                compiled = replace(compiled, static_cost=cost)
        return Prepared(
            compiled.operation_type, compiled.operation_name, compiled, deferred=compiled.deferred
        )


@dataclass(slots=True)
class _Checked:
    """A document checked once, and what was planned of it: for everyone when it selects
    nothing protected (``prepared``), else per set of requirements met (``restricted``)."""

    document: DocumentNode
    operation: OperationDefinitionNode
    operation_name: str | None
    introspection_refusal: GraphQLError | None
    protected: Protected
    prepared: Prepared | RequestError | None
    restricted: dict[frozenset[int], Prepared | RequestError] = field(default_factory=dict)


async def _with_cost(
    parts: AsyncGenerator[ExecutionResult, None], report: dict[str, Any]
) -> AsyncIterator[ExecutionResult]:
    """The parts, the first carrying the cost report; closing it closes ``parts``."""
    async with aclosing(parts):
        first = True
        async for part in parts:
            if first:
                part.extensions = {**(part.extensions or {}), "cost": report}
                first = False
            yield part


_UNPLANNED = GraphQLError("The operation could not be planned", "QUERY_PLANNING_FAILED")


async def _put_each(results: AsyncIterator[ExecutionResult], sink: ResultSink) -> None:
    async with aclosing(results):  # type: ignore[type-var]
        async for result in results:
            sink.put(result)


def _identity_of(caller: Caller | None) -> CallerIdentity | None:
    return None if caller is None else CallerIdentity.of(caller)


def _budget(caller: Caller | None) -> int | None:
    """The caller's client's own cost budget, if it has one."""
    return None if caller is None else caller.client.max_cost


def _meets(caller: Caller | None, check: Check, variables: Mapping[str, Any] | None) -> bool:
    needed = check.requirement
    policies = met_policies(caller, check.location, variables) if needed.policies else frozenset()
    if caller is None:
        return needed.met_by(authenticated=False, scopes=frozenset(), policies=policies)
    return needed.met_by(
        authenticated=caller.authenticated, scopes=caller.scopes, policies=policies
    )


def _interface_objects(supergraph: Supergraph) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for name, meta in supergraph.types.items():
        for service, info in meta.subgraphs.items():
            if info.is_interface_object:
                found.setdefault(service, set()).add(name)
    return {service: frozenset(names) for service, names in found.items()}


def _parse_failure_code(message: str) -> str:
    if _TOO_MANY_TOKENS in message:
        return "MAX_TOKENS_LIMIT"
    if _NESTED_TOO_DEEPLY in message:
        return "MAX_DEPTH_LIMIT"
    return "GRAPHQL_PARSE_FAILED"


def _core_error(error: CoreGraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        error.message,
        code,
        locations=tuple((loc.line, loc.column) for loc in error.locations or ()),
    )
