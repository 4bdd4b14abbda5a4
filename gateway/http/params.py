"""Reading the GraphQL request parameters out of an HTTP request.

Anything wrong here makes the request not "well-formed" in the spec's sense, so it is
answered with a 4xx whatever the response media type (unlike GraphQL request errors,
which ``application/json`` answers with 200).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from gateway.engine import GraphQLError


class HttpError(Exception):
    """The request is rejected before GraphQL sees it."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_REQUEST",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = GraphQLError(message=message, code=code)
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """A request's parameters. It names its document with a ``query``, a ``documentId``
    (a trusted document), or ``extensions.persistedQuery`` (Apollo's persisted queries);
    ``gateway.security.documents`` turns them into the document to run."""

    query: str | None
    operation_name: str | None = None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    document_id: str | None = None

    def document_names(self) -> dict[str, Any]:
        """The parameters that name the document, as ``resolve_document`` reads them."""
        return {"query": self.query, "documentId": self.document_id, "extensions": self.extensions}


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request or socket may send: an HTTP body or WebSocket message, a GraphQL
    document, and the operations one WebSocket connection may run at once."""

    max_body_bytes: int = 1_000_000
    max_document_bytes: int = 100_000
    max_socket_operations: int = 100


# Document ids are hashes or short names; a manifest refuses ids longer than 256 characters.
MAX_DOCUMENT_ID_BYTES = 1_024


def document_too_large(limits: Limits) -> GraphQLError:
    return GraphQLError(
        f"The GraphQL document is larger than the limit of {limits.max_document_bytes} bytes.",
        "DOCUMENT_TOO_LARGE",
    )


async def params_from_post(request: Request, limits: Limits) -> GraphQLParams:
    _check_content_type(request.headers.get("content-type"))
    body = await _read_body(request, limits.max_body_bytes)
    if not body.strip():
        raise HttpError(400, "The request body is empty; send a JSON object with a query.")
    payload = _json(body, "The request body")
    if isinstance(payload, list):
        raise HttpError(
            400, "Batched requests (a JSON array) are not supported.", "BATCHING_NOT_ENABLED"
        )
    if not isinstance(payload, dict):
        raise HttpError(400, "The request body must be a JSON object.")
    return _params(payload, limits)


def params_from_get(request: Request, limits: Limits) -> GraphQLParams:
    raw: dict[str, Any] = dict(request.query_params)
    for name in ("variables", "extensions"):
        if name in raw and raw[name] != "":
            raw[name] = _json(raw[name], f"The {name!r} parameter")
        elif name in raw:
            raw[name] = None
    return _params(raw, limits)


def _json(text: str | bytes, what: str) -> Any:
    # orjson refuses what would hurt later: invalid UTF-8, lone surrogates, and nesting
    # deeper than 1,024 levels (which would exhaust the stack of any recursive reader).
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise HttpError(400, f"{what} is not valid JSON: {error}.") from None


def _utf8(text: str, what: str) -> bytes:
    """``text`` as UTF-8; a lone surrogate (JSON can escape one) is the client's mistake."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        raise HttpError(400, f"{what} is not valid Unicode text.") from None


def _params(payload: dict[str, Any], limits: Limits) -> GraphQLParams:
    query = payload.get("query")
    extensions = payload.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HttpError(400, "The 'extensions' parameter must be an object or null.")
    document_id = payload.get("documentId")
    if document_id is not None:
        if not isinstance(document_id, str) or not document_id:
            raise HttpError(400, "The 'documentId' parameter must be a non-empty string.")
        if len(_utf8(document_id, "The 'documentId' parameter")) > MAX_DOCUMENT_ID_BYTES:
            raise HttpError(
                400, f"The 'documentId' parameter is longer than {MAX_DOCUMENT_ID_BYTES} bytes."
            )
    if query is None:
        if document_id is None and not (extensions and "persistedQuery" in extensions):
            raise HttpError(
                400,
                "The 'query' parameter is missing; send a GraphQL document, or the "
                "'documentId' of a persisted one.",
            )
    elif not isinstance(query, str):
        raise HttpError(400, "The 'query' parameter must be a string.")
    elif len(_utf8(query, "The 'query' parameter")) > limits.max_document_bytes:
        too_large = document_too_large(limits)
        raise HttpError(413, too_large.message, too_large.code)
    operation_name = payload.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HttpError(400, "The 'operationName' parameter must be a string or null.")
    if operation_name is not None:
        _utf8(operation_name, "The 'operationName' parameter")
    variables = payload.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HttpError(400, "The 'variables' parameter must be an object or null.")
    return GraphQLParams(
        query=query,
        operation_name=operation_name or None,
        variables=variables,
        extensions=extensions or {},
        document_id=document_id,
    )


def _check_content_type(header: str | None) -> None:
    if not header:
        raise HttpError(
            415, "A POST needs 'Content-Type: application/json'.", "UNSUPPORTED_MEDIA_TYPE"
        )
    media, *params = (p.strip().lower() for p in header.split(";"))
    if media != "application/json":
        raise HttpError(
            415,
            f"Unsupported Content-Type {media!r}; send 'application/json'.",
            "UNSUPPORTED_MEDIA_TYPE",
        )
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise HttpError(
                415, "Only UTF-8 request bodies are supported.", "UNSUPPORTED_MEDIA_TYPE"
            )


async def _read_body(request: Request, limit: int) -> bytes:
    """Read at most ``limit`` bytes, so a huge body is refused without being buffered."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # The client left (or was dropped for sending too slowly): no one reads the answer.
        raise HttpError(400, "The request body did not arrive.", "REQUEST_INCOMPLETE") from None
    return b"".join(chunks)


def _too_large(limit: int) -> HttpError:
    return HttpError(
        413, f"The request body is larger than the limit of {limit} bytes.", "PAYLOAD_TOO_LARGE"
    )
