"""What a refused credential is answered with, the same on HTTP and SSE (the WebSocket
closes with the matching code).

A bad, revoked or expired credential is 401 with ``WWW-Authenticate`` (RFC 6750), and the
body says only the code: which check failed is not the caller's business. When the
gateway requires credentials and none came, the challenge carries no error, as RFC 6750
asks. When the identity provider's keys cannot be had, the fault is ours, not the
caller's: 503 with ``Retry-After``.
"""

from __future__ import annotations

from gateway.http.params import HttpError
from gateway.security.clients import Unauthenticated

REALM = "retailgraph"
_MESSAGES = {
    "CREDENTIALS_REQUIRED": "Credentials are required.",
    "INVALID_CREDENTIALS": "The credentials are not valid.",
    "CREDENTIALS_EXPIRED": "The credentials have expired.",
}


def refusal(error: Unauthenticated) -> HttpError:
    if error.code == "UNAVAILABLE":
        return HttpError(
            503,
            "Credentials cannot be checked right now; try again shortly.",
            "AUTHENTICATION_UNAVAILABLE",
            {"Retry-After": "5"},
        )
    if error.code == "CREDENTIALS_REQUIRED":
        challenge = f'Bearer realm="{REALM}"'
    else:
        challenge = f'Bearer realm="{REALM}", error="invalid_token"'
    message = _MESSAGES.get(error.code, _MESSAGES["INVALID_CREDENTIALS"])
    return HttpError(401, message, error.code, {"WWW-Authenticate": challenge})
