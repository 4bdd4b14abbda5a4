"""The one log line each GraphQL request over HTTP leaves: who asked, what, how it ended.

Written at ``info``, inside the request's context, so it carries the correlation id (and
the trace id when tracing is on) that the process's logging adds to every line. A refusal
(bad credentials, a rate limit, an invalid document) is an answer like any other: one line,
never a traceback.
"""

from __future__ import annotations

import structlog

from gateway.http.tracing import INTERNAL_ERROR

_log = structlog.get_logger()
# Named as the standard library's loggers are, for the lines to be told apart alike.
_NAME = "gateway.http"


def log_request(
    client: str, operation: str | None, outcome: str, status: int, seconds: float
) -> None:
    # The unexpected error's traceback was logged where it was caught; this says which
    # request it ended.
    write = _log.warning if outcome == INTERNAL_ERROR else _log.info
    write(
        "request",
        logger=_NAME,
        client=client,
        operation=operation,
        outcome=outcome,
        status=status,
        duration_ms=round(seconds * 1000, 3),
    )
