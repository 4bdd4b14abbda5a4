"""A subgraph's internal endpoints: plain JSON over HTTP, beside ``/graphql``, for the
calls one domain makes to another many times a second (checkout's quote and
reservations), each one service call.

A GraphQL request costs its peer a parse (cached), a validation (cached), an execution
through strawberry's resolvers and type conversions, and error formatting: for a quote
of a few lines, most of the peer's Python. Here the body is read into a dict, handed to
the service, and its answer written back.

``POST /internal/<name>`` with a JSON object. The answer is 200 with the endpoint's JSON,
or a 4xx or 5xx whose body is ``{"error": {"code": ..., "message": ..., ...details}}``:
a domain's refusal keeps its code (400), as ``extensions.code`` would in GraphQL; a body
that is not the endpoint's contract is ``MALFORMED_REQUEST`` (400), a larger body than
``MAX_BODY_BYTES`` is ``PAYLOAD_TOO_LARGE`` (413), a caller identity the subgraph cannot
believe is ``INVALID_CALLER_IDENTITY`` (401), a database that cannot serve now is
``SERVICE_UNAVAILABLE`` (503, as ``/graphql`` answers it), and anything unexpected is
``INTERNAL_SERVER_ERROR`` (500, logged, no trace in the answer).

Trust is the GraphQL route's: the same verifier checks the caller identity the gateway
signs (``adapters/graphql/identity.py``), and a request without one is anonymous, as a
subgraph's ``/graphql`` takes it (docs/security.md, "The caller at the subgraphs").
The correlation id and the trace context come in the same headers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry.trace import SpanKind, Tracer
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.db.unavailable import database_unavailable
from adapters.graphql.errors import INTERNAL, INTERNAL_MESSAGE, UNAVAILABLE, UNAVAILABLE_MESSAGE
from adapters.graphql.identity import INVALID, Identity, IdentityVerifier, InvalidIdentity
from adapters.graphql.metrics import ERRORS, OK, REFUSED, SubgraphMetrics
from kernel import correlation, tracing
from kernel.errors import DomainError

log = logging.getLogger(__name__)

PREFIX = "/internal/"
# As the gateway's request body limit (README, "Limits and safety"): a checkout that
# passed it asks its peers for less than it sent.
MAX_BODY_BYTES = 1_000_000
MALFORMED = "MALFORMED_REQUEST"
TOO_LARGE = "PAYLOAD_TOO_LARGE"


class Malformed(DomainError):
    """The body is not what the endpoint takes (a caller built for another contract)."""

    code = MALFORMED


@dataclass(frozen=True, slots=True)
class Call:
    """One request to an internal endpoint: its JSON body, the running domain, and the
    verified caller."""

    body: Mapping[str, Any]
    domain: Any
    identity: Identity


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class InternalEndpoint:
    """``POST /internal/<name>``, answered by ``handler`` with JSON-ready values."""

    name: str
    handler: Handler


def internal_routes(
    endpoints: list[InternalEndpoint],
    verifier: IdentityVerifier,
    metrics: SubgraphMetrics,
    *,
    name: str,
    tracer: Tracer | None = None,
) -> list[Route]:
    """The endpoints as routes of subgraph ``name``: counted in its request metrics
    under ``internal/<name>``, and a server span each with a ``tracer``."""
    return [
        Route(
            PREFIX + endpoint.name,
            _Served(endpoint, verifier, metrics, name, tracer).answer,
            methods=["POST"],
        )
        for endpoint in endpoints
    ]


class _Served:
    def __init__(
        self,
        endpoint: InternalEndpoint,
        verifier: IdentityVerifier,
        metrics: SubgraphMetrics,
        subgraph: str,
        tracer: Tracer | None,
    ) -> None:
        self._endpoint = endpoint
        self._verifier = verifier
        self._metrics = metrics
        self._subgraph = subgraph
        self._tracer = tracer
        self._operation = f"internal/{endpoint.name}"

    async def answer(self, request: Request) -> Response:
        started = time.perf_counter()
        correlation.bind(request.headers.get(correlation.HEADER))
        if self._tracer is None:
            status, body = await self._run(request)
        else:
            with self._tracer.start_as_current_span(
                f"{self._subgraph} {self._operation}",
                context=tracing.extract(request.headers),
                kind=SpanKind.SERVER,
                attributes={
                    "retailgraph.subgraph": self._subgraph,
                    "retailgraph.correlation_id": correlation.current() or "",
                },
            ) as span:
                status, body = await self._run(request)
                if status != 200:
                    span.set_attribute("error.type", str(status))
        outcome = OK if status == 200 else REFUSED if status in (401, 413) else ERRORS
        self._metrics.request(self._operation, outcome, time.perf_counter() - started)
        return Response(orjson.dumps(body), status, media_type="application/json")

    async def _run(self, request: Request) -> tuple[int, Any]:
        try:
            identity = self._verifier.identity(request.headers)
        except InvalidIdentity as refused:
            log.warning("refused an internal call whose caller identity is invalid (%s)", refused)
            return 401, _error(INVALID, "The caller identity is invalid")
        try:
            body = await _json_object(request)
        except _TooLarge:
            return 413, _error(TOO_LARGE, f"The body is larger than {MAX_BODY_BYTES} bytes")
        except Malformed as error:
            return 400, _error(error.code, error.message)
        call = Call(body, request.app.state.domain, identity)
        try:
            # Run to its end even if the caller stops waiting (an in-process caller's task
            # cancelled): its unit of work commits or rolls back and gives its connection
            # back, as a GraphQL resolver does (``adapters/graphql/shielded.py``).
            return 200, await asyncio.shield(self._endpoint.handler(call))
        except DomainError as error:
            return 400, {"error": {**error.extensions, "message": error.message}}
        except Exception as error:
            if database_unavailable(error):
                log.warning(
                    "internal call %s: the database is unavailable (%s)", self._operation, error
                )
                return 503, _error(UNAVAILABLE, UNAVAILABLE_MESSAGE)
            log.exception("internal call %s failed", self._operation)
            return 500, _error(INTERNAL, INTERNAL_MESSAGE)


class _TooLarge(Exception):
    pass


async def _json_object(request: Request) -> Mapping[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError:
        raise Malformed("The body is not JSON") from None
    if not isinstance(body, dict):
        raise Malformed("The body is not a JSON object")
    return body


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


# Reading a body's fields: a wrong type or a missing field is the caller's contract
# broken, MALFORMED_REQUEST.


def text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise Malformed(f"{key} must be a string")
    return value


def optional_text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise Malformed(f"{key} must be a string or null")
    return value


def whole_number(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"{key} must be a whole number")
    return value


def objects(
    body: Mapping[str, Any], key: str, *, at_most: int, code: str
) -> list[Mapping[str, Any]]:
    """A list of JSON objects; past ``at_most`` it is refused with ``code`` (the limit's
    code in the service behind the endpoint) before any is read."""
    value = body.get(key)
    if not isinstance(value, list):
        raise Malformed(f"{key} must be a list of objects")
    if len(value) > at_most:
        raise DomainError(f"{key}: at most {at_most}", code=code)
    if not all(isinstance(item, dict) for item in value):
        raise Malformed(f"{key} must be a list of objects")
    return value
