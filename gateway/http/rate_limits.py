"""What a client over its limits is answered with on HTTP and SSE (the WebSocket answers
with an ``error`` message or closes with 4429).

Over its request quota: 429 with ``Retry-After`` and the RateLimit fields, and the code
``RATE_LIMITED``, whatever the response media type (like every refusal before GraphQL
runs). Over its connections or subscriptions: 429 with ``RATE_LIMITED`` and no
``Retry-After``, since no wait frees a slot; closing another stream does.
"""

from __future__ import annotations

from gateway.http.params import HttpError
from gateway.security.quotas import RATE_LIMITED
from gateway.security.ratelimit import Decision, RatePolicy, ratelimit_headers


def over_quota(policy: RatePolicy, decision: Decision) -> HttpError:
    return HttpError(
        429,
        f"Too many requests: the quota is {policy.quota} per {policy.window:g} seconds; "
        "try again after the time Retry-After gives.",
        RATE_LIMITED,
        ratelimit_headers(policy, decision),
    )


def too_many_streams(what: str, limit: int | None) -> HttpError:
    return HttpError(
        429,
        f"Too many {what} open: this client may hold {limit} at once; close one first.",
        RATE_LIMITED,
    )
