"""Endpoints for operators only: ``/metrics``, the console's data, and the subgraphs the
embedded mode serves beside the gateway for inspection.

They tell how the business runs (backlogs, lag, which clients call how often), so a caller
names itself with a credential, as on ``/graphql``, and must hold one of the scopes the
endpoint asks for. No credential: 401 with the gateway's usual challenge
(``authentication.py``), never the anonymous client's answer, since the anonymous client
holds no such scope and the caller's next step is to send one. A credential without the
scope: 403 with ``INSUFFICIENT_SCOPE`` and RFC 6750's ``insufficient_scope`` challenge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http.authentication import REALM, refusal
from gateway.http.params import HttpError
from gateway.http.responses import errors_body, graphql_response
from gateway.security.clients import (
    Caller,
    ClientDirectory,
    Unauthenticated,
    offered_credential,
)

OPERATOR_SCOPE = "operator"
# Prometheus' own key for scraping: it may read the metrics and nothing else.
METRICS_SCOPE = "metrics:read"

Endpoint = Callable[[Request], Awaitable[Response]]


def operator_only(
    endpoint: Endpoint,
    clients: ClientDirectory,
    scopes: Collection[str] = (OPERATOR_SCOPE,),
) -> Endpoint:
    """``endpoint`` for callers granted any of ``scopes``; the caller is on
    ``request.state.caller`` when it runs."""
    wanted = frozenset(scopes)

    async def guarded(request: Request) -> Response:
        admitted = await _admitted(request, clients, wanted)
        if isinstance(admitted, Response):
            return admitted
        request.state.caller = admitted
        return await endpoint(request)

    return guarded


def operator_only_app(
    app: ASGIApp, clients: ClientDirectory, scopes: Collection[str] = (OPERATOR_SCOPE,)
) -> ASGIApp:
    """``app`` (a whole ASGI app: a subgraph) over HTTP for callers granted any of
    ``scopes``. A WebSocket is closed before it opens (4403, graphql-transport-ws'
    "Forbidden"): its credentials would come in ``connection_init``, which only the
    guarded app reads."""
    wanted = frozenset(scopes)

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": FORBIDDEN_SOCKET})
            return
        if scope["type"] == "http":
            admitted = await _admitted(Request(scope, receive), clients, wanted)
            if isinstance(admitted, Response):
                await admitted(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


# graphql-transport-ws' close code for a socket the server will not serve.
FORBIDDEN_SOCKET = 4403


async def _admitted(
    request: Request, clients: ClientDirectory, wanted: frozenset[str]
) -> Caller | Response:
    """The caller when it holds one of ``wanted``; else the refusal to send it."""
    try:
        caller = await _caller(request, clients)
    except HttpError as refused:
        return _refused(refused)
    if not caller.scopes & wanted:
        return _refused(
            HttpError(
                403,
                f"This needs one of the scopes {', '.join(sorted(wanted))}.",
                "INSUFFICIENT_SCOPE",
                {
                    "WWW-Authenticate": f'Bearer realm="{REALM}", '
                    f'error="insufficient_scope", scope="{" ".join(sorted(wanted))}"'
                },
            )
        )
    return caller


async def _caller(request: Request, clients: ClientDirectory) -> Caller:
    try:
        if offered_credential(request.headers) is None:
            raise Unauthenticated("CREDENTIALS_REQUIRED")
        return await clients.caller(request.headers)
    except Unauthenticated as refused:
        raise refusal(refused) from None


def _refused(error: HttpError) -> Response:
    return graphql_response(
        errors_body([error.error]),
        status=error.status,
        media_type="application/json",
        headers=error.headers,
        outcome=error.error.code,
    )
