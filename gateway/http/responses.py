"""GraphQL responses as HTTP responses: orjson bodies, UTF-8, the negotiated media type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from gateway.engine import GraphQLError
from gateway.http.media import APPLICATION_JSON
from gateway.metrics import OK


class GraphQLResponse(Response):
    media_type = APPLICATION_JSON
    # What the metrics count the answer as: ``ok``, ``errors`` (executed, with errors), or
    # the code of the refusal.
    outcome = OK

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def graphql_response(
    body: Mapping[str, Any],
    *,
    status: int,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    outcome: str = OK,
) -> GraphQLResponse:
    response = GraphQLResponse(
        body,
        status_code=status,
        media_type=f"{media_type}; charset=utf-8",
        headers=dict(headers or {}),
    )
    response.outcome = outcome
    return response


def errors_body(errors: list[GraphQLError]) -> dict[str, Any]:
    """A request error: ``errors`` and no ``data`` key (the request never executed)."""
    return {"errors": [e.to_dict() for e in errors]}
