"""The graphql-transport-ws endpoint: one ``_Connection`` per client socket.

Every operation of a connection runs in its own task, so a slow subscription never holds
up the connection's pings or its other operations. When the socket goes (the client
leaves or breaks the protocol) every task is cancelled, which closes the streams behind
them and so releases the subgraph subscriptions no one else shares.

A subscription's events are not read by its task: the task that executed an event puts
it to every subscriber's ``_Events`` (``Engine.follow``), which writes the frame, built
once per event and operation id, straight on the socket (``frames.py``). A connection's
frames leave in the order they were sent: once one has to wait for its client, the ones
after it wait behind it (``_Connection._send``), up to ``BACKLOG`` frames; a subscription
whose next event finds the backlog full ends with ``SUBSCRIBER_TOO_SLOW``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from typing import Any

import orjson
from prometheus_client import Gauge
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from gateway.engine import Engine, ExecutionResult, GraphQLError, RequestError
from gateway.http.params import Limits, document_too_large
from gateway.metrics import GatewayMetrics
from gateway.security.clients import Caller, ClientDirectory, Unauthenticated, anonymous_only
from gateway.security.persisted import PersistedDocuments, default_documents
from gateway.security.quotas import RATE_LIMITED, Quotas, Slot
from gateway.subscriptions import protocol
from gateway.subscriptions.frames import FRAMES, WriteFrame, text_frame
from gateway.subscriptions.protocol import (
    Complete,
    ConnectionInit,
    Ping,
    ProtocolViolation,
    Subscribe,
)

_log = logging.getLogger("gateway.subscriptions")
_INTERNAL = GraphQLError("Internal server error", "INTERNAL_SERVER_ERROR")
BACKLOG = 1000
"""Frames a connection may hold for a client that does not read them."""


class GraphQLWebSocket:
    """The ASGI endpoint; ``init_timeout`` is how long a client has to send connection_init."""

    def __init__(
        self,
        engine: Engine,
        *,
        clients: ClientDirectory | None = None,
        init_timeout: float = 10.0,
        limits: Limits | None = None,
        documents: PersistedDocuments | None = None,
        quotas: Quotas | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.engine = engine
        self.metrics = metrics
        self.documents = documents or default_documents()
        self.clients = clients or anonymous_only()
        self.init_timeout = init_timeout
        self.limits = limits or Limits()
        # None: no client is limited.
        self.quotas = quotas
        self.frames = _NextFrames()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if protocol.SUBPROTOCOL not in scope.get("subprotocols", ()):
            await websocket.accept()
            await websocket.close(protocol.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        await websocket.accept(subprotocol=protocol.SUBPROTOCOL)
        if self.metrics is None:
            await _Connection(self, websocket, send).serve()
            return
        connections = self.metrics.connections["websocket"]
        connections.inc()
        try:
            await _Connection(self, websocket, send).serve()
        finally:
            connections.dec()


class _Connection:
    def __init__(self, endpoint: GraphQLWebSocket, websocket: WebSocket, send: Send) -> None:
        self._endpoint = endpoint
        self._websocket = websocket
        self._asgi_send = send
        self._headers: dict[str, str] = dict(websocket.headers)
        # Who the client is, once its connection_init is accepted, and whose quotas it
        # spends (``Quotas.holder``).
        self.caller: Caller | None = None
        self._holder = ""
        self._counted: Slot | None = None
        self._initialised = False
        self._acknowledged = False
        self._operations: dict[str, asyncio.Task[None]] = {}
        self._closed = False
        # The server's writer of ready-made frames, when it offers one (our uvicorn
        # protocol does); else every frame goes through ASGI's send.
        offered = (websocket.scope.get("extensions") or {}).get(FRAMES) or {}
        self._write_frame: WriteFrame | None = offered.get("write")
        # Frames waiting for the client, oldest first, and the task sending them.
        self._backlog: deque[bytes] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._too_many = GraphQLError(
            f"This connection already runs {endpoint.limits.max_socket_operations} operations, "
            "its limit; complete one first.",
            "TOO_MANY_OPERATIONS",
        )

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._endpoint.init_timeout
        try:
            while True:
                try:
                    async with asyncio.timeout_at(None if self._acknowledged else deadline):
                        message = await self._websocket.receive()
                except TimeoutError:
                    await self._close(protocol.INIT_TIMEOUT, "Connection initialisation timeout")
                    return
                if message["type"] == "websocket.disconnect":
                    self._closed = True
                    return
                frame = message.get("text")
                if frame is None:
                    frame = message.get("bytes") or b""
                if len(frame) > self._endpoint.limits.max_body_bytes:
                    # A text frame's length in characters is at most its size in bytes.
                    await self._close(protocol.MESSAGE_TOO_BIG, "Message too big")
                    return
                try:
                    await self._handle(protocol.parse_message(frame))
                except ProtocolViolation as violation:
                    await self._close(violation.code, violation.reason)
                    return
        finally:
            await self._cancel_all()
            if self._drainer is not None:
                self._drainer.cancel()
            if self._counted is not None and self._endpoint.quotas is not None:
                await self._endpoint.quotas.close(self._counted)

    async def _handle(self, message: protocol.ClientMessage) -> None:
        match message:
            case ConnectionInit():
                await self._initialise(message)
            case Ping():
                pong: dict[str, Any] = {"type": "pong"}
                if message.payload is not None:
                    pong["payload"] = message.payload
                self._send(orjson.dumps(pong))
            case Subscribe():
                if not self._acknowledged:
                    raise ProtocolViolation(protocol.UNAUTHORIZED, "Unauthorized")
                if message.id in self._operations:
                    raise ProtocolViolation(
                        protocol.DUPLICATE_SUBSCRIBER, f"Subscriber for {message.id} already exists"
                    )
                if len(self._operations) >= self._endpoint.limits.max_socket_operations:
                    self._send(protocol.error_frame(message.id, [self._too_many.to_dict()]))
                    return
                task = asyncio.create_task(self._run(message))
                self._operations[message.id] = task
            case Complete():
                running = self._operations.pop(message.id, None)
                if running is not None:
                    running.cancel()

    async def _initialise(self, message: ConnectionInit) -> None:
        if self._initialised:
            raise ProtocolViolation(
                protocol.TOO_MANY_INITIALISATIONS, "Too many initialisation requests"
            )
        self._initialised = True
        payload = message.payload or {}
        try:
            self.caller = await self._endpoint.clients.caller(self._headers, payload)
        except Unauthenticated as refused:
            if refused.code == "UNAVAILABLE":
                raise ProtocolViolation(protocol.TRY_AGAIN_LATER, "Try again later") from None
            raise ProtocolViolation(protocol.UNAUTHORIZED, "Unauthorized") from None
        quotas = self._endpoint.quotas
        if quotas is not None:
            client = self._websocket.client
            self._holder = quotas.holder(self.caller, client and client.host, self._headers)
            self._counted = await quotas.open_connection(self.caller, self._holder)
            if self._counted is None:
                raise ProtocolViolation(protocol.TOO_MANY_CONNECTIONS, "Too many connections")
        authorization = payload.get("authorization") or payload.get("Authorization")
        if isinstance(authorization, str):
            self._headers["authorization"] = authorization
        self._acknowledged = True
        self._send(b'{"type":"connection_ack"}')

    async def _run(self, message: Subscribe) -> None:
        """One operation: ``next``s then ``complete``, or one ``error``."""
        operation_id = message.id
        engine = self._endpoint.engine
        limits = self._endpoint.limits
        counted: Slot | None = None
        running: Gauge | None = None
        try:
            try:
                await self._spend()
                query = message.query
                if (
                    query is not None
                    and len(query.encode(errors="replace")) > limits.max_document_bytes
                ):
                    raise RequestError([document_too_large(limits)])
                assert self.caller is not None  # operations start after connection_init
                document = await self._endpoint.documents.resolve(
                    message.document_names(), self.caller.client
                )
                prepared = engine.prepare(
                    document.query,
                    message.operation_name or document.operation_name,
                    self.caller,
                    message.variables,
                )
                if prepared.operation_type == "subscription":
                    counted = await self._count_subscription()
                events = _Events(self, operation_id)
                following = engine.follow(prepared, message.variables, self._headers, events)
                metrics = self._endpoint.metrics
                if prepared.operation_type == "subscription" and metrics is not None:
                    running = metrics.subscriptions["websocket"]
                    running.inc()
            except RequestError as error:
                errors = [e.to_dict() for e in error.errors]
                self._send(protocol.error_frame(operation_id, errors))
                return
            await following
            self._send(protocol.complete_frame(operation_id))
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("operation %s failed", operation_id)
            self._send(protocol.error_frame(operation_id, [_INTERNAL.to_dict()]))
        finally:
            if running is not None:
                running.dec()
            if self._operations.get(operation_id) is asyncio.current_task():
                del self._operations[operation_id]
            if counted is not None and self._endpoint.quotas is not None:
                await self._endpoint.quotas.close(counted)

    async def _spend(self) -> None:
        """Charges the operation to the client's request quota; raises when it is spent."""
        quotas = self._endpoint.quotas
        assert self.caller is not None
        policy = self.caller.client.rate_limit
        if quotas is None or policy is None:
            return
        decision = await quotas.charge(policy, self._holder)
        if not decision.allowed:
            wait = decision.retry_after
            raise RequestError(
                [
                    GraphQLError(
                        f"Too many requests: the quota is {policy.quota} per "
                        f"{policy.window:g} seconds.",
                        RATE_LIMITED,
                        # The seconds Retry-After would say over HTTP.
                        extensions={} if wait is None else {"retryAfter": math.ceil(wait)},
                    )
                ]
            )

    async def _count_subscription(self) -> Slot | None:
        """Counts a subscription against the client's cap; raises when it is reached."""
        quotas = self._endpoint.quotas
        assert self.caller is not None
        if quotas is None:
            return None
        counted = await quotas.open_subscription(self.caller, self._holder)
        if counted is None:
            limit = self.caller.client.max_subscriptions
            raise RequestError(
                [
                    GraphQLError(
                        f"Too many subscriptions: this client may run {limit} at once; "
                        "complete one first.",
                        RATE_LIMITED,
                    )
                ]
            )
        return counted

    def _send(self, message: bytes, frame: bytes | None = None, bounded: bool = True) -> bool:
        """Sends ``message`` (its WebSocket ``frame``, when already built) after every
        frame sent before it; False, sending nothing, when ``bounded`` and ``BACKLOG``
        frames wait."""
        if self._closed:
            return True
        write = self._write_frame
        if not self._backlog and write is not None and write(frame or text_frame(message)):
            return True
        if bounded and len(self._backlog) >= BACKLOG:
            return False
        self._backlog.append(message)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return True

    async def _drain(self) -> None:
        """Sends the backlog through ASGI's send, which waits for the client to read. A
        frame leaves the backlog only once sent, so none overtakes it meanwhile."""
        backlog = self._backlog
        try:
            while backlog and not self._closed:
                # Straight to the server's ASGI send, past Starlette's WebSocket wrapper.
                await self._asgi_send({"type": "websocket.send", "text": backlog[0].decode()})
                backlog.popleft()
        except (OSError, RuntimeError):
            self._closed = True  # the client went away; its receive loop ends soon
        finally:
            if self._closed:
                backlog.clear()
            self._drainer = None

    async def _close(self, code: int, reason: str) -> None:
        await self._cancel_all()
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError, RuntimeError):
                await self._websocket.close(code, protocol.close_reason(reason))

    async def _cancel_all(self) -> None:
        tasks = list(self._operations.values())
        self._operations.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _Events:
    """One operation's results, put by the task that executed them (``Engine.follow``)."""

    __slots__ = ("_connection", "_ended", "_frames", "_operation_id", "_prefix", "_task")

    def __init__(self, connection: _Connection, operation_id: str) -> None:
        self._connection = connection
        self._operation_id = operation_id
        self._prefix = protocol.next_prefix(operation_id)
        self._frames = connection._endpoint.frames
        self._task = asyncio.current_task()
        self._ended = False

    def put(self, result: ExecutionResult) -> None:
        if self._ended:
            return
        message, frame = self._frames.next(self._prefix, result)
        if self._connection._send(message, frame):
            return
        # The client has not read the last BACKLOG frames: this subscription ends here
        # (the error and the completion go past the limit, as its last words).
        self._ended = True
        slow = GraphQLError(
            f"This subscriber fell behind: more than {BACKLOG} frames unread", "SUBSCRIBER_TOO_SLOW"
        )
        too_slow = ExecutionResult(None, [slow])
        self._connection._send(protocol.next_frame(self._prefix, too_slow.to_json()), None, False)
        self._connection._send(protocol.complete_frame(self._operation_id), None, False)
        if self._task is not None:
            self._task.cancel()


class _NextFrames:
    """The last result's ``next`` message and frame, per operation id: one event goes to
    every subscriber of a shared stream in turn, and most clients number their first
    operation alike ("1"), so the frame is built once and written to each."""

    __slots__ = ("_by_prefix", "_result")

    _MAX_IDS = 64

    def __init__(self) -> None:
        self._result: ExecutionResult | None = None
        self._by_prefix: dict[bytes, tuple[bytes, bytes]] = {}

    def next(self, prefix: bytes, result: ExecutionResult) -> tuple[bytes, bytes]:
        if result is not self._result:
            self._result = result
            self._by_prefix = {}
        built = self._by_prefix.get(prefix)
        if built is None:
            message = protocol.next_frame(prefix, result.to_json())
            built = (message, text_frame(message))
            if len(self._by_prefix) < self._MAX_IDS:
                self._by_prefix[prefix] = built
        return built
