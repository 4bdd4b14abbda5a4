"""The graphql-transport-ws protocol, server side: reading client messages, close codes.

Pure: no I/O. A message that breaks the protocol raises ``ProtocolViolation`` with the
close code the protocol prescribes; the connection closes the socket with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

SUBPROTOCOL = "graphql-transport-ws"

# The identity provider cannot be asked right now (RFC 6455's "Try Again Later").
TRY_AGAIN_LATER = 1013
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
DUPLICATE_SUBSCRIBER = 4409
TOO_MANY_INITIALISATIONS = 4429
# Ours: the client already holds all the connections it may (its ``max_connections``).
# The protocol's own "too many" code, told apart by its reason; graphql-ws clients do not
# reconnect on their own after it, so an over-limit client does not hammer the gateway.
TOO_MANY_CONNECTIONS = 4429
# RFC 6455: a message too big to process.
MESSAGE_TOO_BIG = 1009
# RFC 6455 caps a close frame's reason at 123 bytes of UTF-8.
MAX_CLOSE_REASON_BYTES = 123


def close_reason(reason: str) -> str:
    """``reason`` cut to what a close frame can carry, never mid-character."""
    encoded = reason.encode()
    if len(encoded) <= MAX_CLOSE_REASON_BYTES:
        return reason
    return encoded[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


class ProtocolViolation(Exception):
    """Close the socket with ``code`` and ``reason``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ConnectionInit:
    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Ping:
    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Pong:
    pass


@dataclass(frozen=True, slots=True)
class Subscribe:
    id: str
    # None when the payload names a persisted document (documentId or Apollo's hash).
    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None
    document_id: str | None = None

    def document_names(self) -> dict[str, Any]:
        """The payload's names for its document, as ``resolve_document`` reads them."""
        return {"query": self.query, "documentId": self.document_id, "extensions": self.extensions}


@dataclass(frozen=True, slots=True)
class Complete:
    id: str


ClientMessage = ConnectionInit | Ping | Pong | Subscribe | Complete


def parse_message(frame: str | bytes) -> ClientMessage:
    """One client frame as a message; raises ``ProtocolViolation`` (4400) when invalid."""
    try:
        message = orjson.loads(frame)
    except (orjson.JSONDecodeError, UnicodeEncodeError):
        raise _invalid("the message is not valid JSON") from None
    if not isinstance(message, dict):
        raise _invalid("the message is not a JSON object")
    kind = message.get("type")
    if kind == "connection_init":
        return ConnectionInit(_optional_object(message, "payload"))
    if kind == "ping":
        return Ping(_optional_object(message, "payload"))
    if kind == "pong":
        _optional_object(message, "payload")
        return Pong()
    if kind == "subscribe":
        return _subscribe(message)
    if kind == "complete":
        return Complete(_id(message))
    if isinstance(kind, str):
        raise _invalid(f'unexpected message of type "{kind}"')
    raise _invalid('the message has no "type"')


def next_prefix(operation_id: str) -> bytes:
    """A ``next`` message up to its payload: the payload's JSON and ``}`` complete it."""
    return b'{"id":' + orjson.dumps(operation_id) + b',"type":"next","payload":'


def next_frame(prefix: bytes, payload_json: bytes) -> bytes:
    return prefix + payload_json + b"}"


def error_frame(operation_id: str, errors: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"id": operation_id, "type": "error", "payload": errors})


def complete_frame(operation_id: str) -> bytes:
    return orjson.dumps({"id": operation_id, "type": "complete"})


def _subscribe(message: dict[str, Any]) -> Subscribe:
    operation_id = _id(message)
    payload = message.get("payload")
    if not isinstance(payload, dict):
        raise _invalid('"subscribe" needs a payload object')
    query = payload.get("query")
    document_id = payload.get("documentId")
    extensions = _optional_object(payload, "extensions")
    if query is not None and not isinstance(query, str):
        raise _invalid('"query" must be a string')
    if document_id is not None and (not isinstance(document_id, str) or not document_id):
        raise _invalid('"documentId" must be a non-empty string')
    if query is None and document_id is None and not (extensions or {}).get("persistedQuery"):
        raise _invalid('"subscribe" needs a "query" or a "documentId" in its payload')
    name = payload.get("operationName")
    if name is not None and not isinstance(name, str):
        raise _invalid('"operationName" must be a string or null')
    return Subscribe(
        operation_id,
        query,
        name,
        _optional_object(payload, "variables"),
        extensions,
        document_id,
    )


def _id(message: dict[str, Any]) -> str:
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id:
        raise _invalid(f'"{message.get("type")}" needs a non-empty string "id"')
    return operation_id


def _optional_object(message: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = message.get(name)
    if value is not None and not isinstance(value, dict):
        raise _invalid(f'"{name}" must be an object or null')
    return value


def _invalid(reason: str) -> ProtocolViolation:
    return ProtocolViolation(BAD_REQUEST, reason)
