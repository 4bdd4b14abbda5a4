"""@defer's parts as one ``multipart/mixed`` response (``deferSpec=20220824``).

Each part is a JSON execution result: the initial one with ``data`` and ``hasNext``,
then ``incremental`` parts, the last with ``hasNext: false``. The framing is Apollo
Router's: a ``graphql`` boundary, each part headed by its content type, the body closed
by the final delimiter. A part goes out as soon as the engine yields it; the client
closing the connection closes the engine's stream, which cancels the deferred fetches
still running.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from gateway.engine import ExecutionResult, GraphQLError
from gateway.http.media import DEFER_SPEC, MULTIPART_MIXED
from gateway.metrics import ERRORS, OK

log = logging.getLogger("gateway.http")

BOUNDARY = "graphql"
CONTENT_TYPE = f'{MULTIPART_MIXED};boundary="{BOUNDARY}";deferSpec={DEFER_SPEC}'
_PART_HEAD = f"\r\n--{BOUNDARY}\r\ncontent-type: application/json; charset=utf-8\r\n\r\n".encode()
_END = f"\r\n--{BOUNDARY}--\r\n".encode()
# A subsequent part has no ``data``; this one ends the response with the failure.
_CLOSED_BY_FAILURE = orjson.dumps(
    {
        "hasNext": False,
        "errors": [GraphQLError("Internal server error", "INTERNAL_SERVER_ERROR").to_dict()],
    }
)


class IncrementalResponse(StreamingResponse):
    """The parts as they come; ``outcome`` is what the metrics count the answer as (the
    initial part's: ``ok`` or ``errors``)."""

    def __init__(self, first: ExecutionResult, rest: AsyncIterator[ExecutionResult]) -> None:
        super().__init__(_parts(first, rest), status_code=200, media_type=CONTENT_TYPE)
        self.outcome = ERRORS if first.errors else OK


async def _parts(first: ExecutionResult, rest: AsyncIterator[ExecutionResult]) -> Any:
    yield _PART_HEAD + first.to_json()
    try:
        async with aclosing(rest):  # type: ignore[type-var]
            async for part in rest:
                yield _PART_HEAD + part.to_json()
    except Exception:
        # The initial part is out: the failure ends the stream as a last part, with an
        # error the client can read, never a broken body.
        log.exception("a deferred part failed")
        yield _PART_HEAD + _CLOSED_BY_FAILURE
    yield _END
