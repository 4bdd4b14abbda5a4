"""Turning exceptions into GraphQL errors a client can act on, with no stack traces."""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from adapters.db.unavailable import database_unavailable
from kernel.errors import DomainError

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"
INTERNAL_MESSAGE = "Internal server error"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service's database is unavailable; try again shortly"


def format_error(error: GraphQLError) -> dict[str, Any]:
    """The client's view of one error: a message, its path and ``extensions.code``."""
    formatted: dict[str, Any] = error.formatted  # type: ignore[assignment]
    original = error.original_error
    extensions = dict(formatted.get("extensions") or {})
    if isinstance(original, DomainError):
        formatted["message"] = original.message
        extensions["code"] = original.code
        extensions.update({k: v for k, v in original.details.items() if _is_json_scalar(v)})
    elif original is not None and database_unavailable(original):
        # The request may succeed when sent again; no stack trace, it is not a bug.
        log.warning("database unavailable at %s: %r", error.path, original)
        formatted["message"] = UNAVAILABLE_MESSAGE
        extensions = {"code": UNAVAILABLE}
    elif original is not None and not isinstance(original, GraphQLError):
        log.error("unexpected error at %s", error.path, exc_info=original)
        formatted["message"] = INTERNAL_MESSAGE
        extensions = {"code": INTERNAL}
    elif "code" not in extensions:
        extensions["code"] = _core_error_code(error)
    formatted["extensions"] = extensions
    return formatted


def _core_error_code(error: GraphQLError) -> str:
    """Codes for the errors graphql-core makes itself, as Apollo names them."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$") or error.path is not None:
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
