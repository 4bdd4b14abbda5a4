"""Who is calling a subgraph: the identity the gateway signed, verified here.

The gateway sends the caller it identified in ``x-retailgraph-caller``:
``v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "v1.<claims>"))>``, the claims
being ``client``, ``scopes``, ``locations``, ``sub`` (optional) and ``iat`` (seconds).
``gateway/security/identity.py`` writes it; the two sides share the format (documented in
docs/security.md) and the secret, not code: the gateway imports none of the product's.

A request without the header is anonymous. One whose header is malformed, signed with
another secret, or signed outside the window (``MAX_AGE`` either way, on the process's
clock) is refused before it runs, with ``INVALID_CALLER_IDENTITY``: someone wrote the
header who does not hold the secret, or replays one captured earlier.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.types import Info

from adapters.graphql.access import OPERATOR
from kernel.actors import Actor
from kernel.clock import Clock

HEADER = "x-retailgraph-caller"
VERSION = "v1"
INVALID = "INVALID_CALLER_IDENTITY"
# How long a signature is good for, either side of the subgraph's clock: long enough for
# one request's fetches and for clocks a few seconds apart, short enough that a captured
# header is soon worthless.
MAX_AGE = timedelta(seconds=60)
# A WebSocket closed for an invalid identity (graphql-transport-ws' "Forbidden").
WEBSOCKET_FORBIDDEN = 4403

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of one subgraph request, as the gateway vouches for it."""

    client: str
    scopes: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    subject: str | None = None

    @property
    def confined(self) -> bool:
        """A store tool: it sees only its own locations (operators see every one)."""
        return bool(self.locations) and OPERATOR not in self.scopes

    def may_see(self, location: str) -> bool:
        return not self.confined or location in self.locations

    @property
    def actor(self) -> Actor:
        """Who a change made in this request is recorded as made by."""
        return Actor(self.client, self.subject)


ANONYMOUS = Identity("anonymous")


class InvalidIdentity(Exception):
    """The header is there and cannot be believed; the message says why (for the log)."""


class IdentityVerifier:
    """Checks the gateway's signature with the shared secret (None: none is configured,
    so no header can be believed)."""

    def __init__(self, secret: bytes | None, clock: Clock, max_age: timedelta = MAX_AGE) -> None:
        self._secret = secret
        self._clock = clock
        self._max_age = max_age

    def identity(self, headers: Mapping[str, str]) -> Identity:
        value = headers.get(HEADER)
        if value is None:
            return ANONYMOUS
        if self._secret is None:
            raise InvalidIdentity("no identity secret is configured for this subgraph")
        version, _, rest = value.partition(".")
        encoded, _, signature = rest.partition(".")
        if version != VERSION or not encoded or not signature:
            raise InvalidIdentity("malformed")
        expected = hmac.new(
            self._secret, f"{version}.{encoded}".encode("ascii", "replace"), hashlib.sha256
        ).digest()
        # Compared as text: one signature has one spelling (base64 decoding would pass over
        # stray characters).
        spelled = base64.urlsafe_b64encode(expected).rstrip(b"=").decode("ascii")
        if not hmac.compare_digest(spelled.encode(), signature.encode("ascii", "replace")):
            raise InvalidIdentity("bad signature")
        claims = _claims(encoded)
        signed_at = claims.get("iat")
        if not isinstance(signed_at, int) or isinstance(signed_at, bool):
            raise InvalidIdentity("no signing time")
        age = self._clock.now().timestamp() - signed_at
        if abs(age) > self._max_age.total_seconds():
            raise InvalidIdentity(f"signed {age:.0f} s from now, outside the window")
        return _identity(claims)


def _identity(claims: Mapping[str, Any]) -> Identity:
    client, subject = claims.get("client"), claims.get("sub")
    if not isinstance(client, str) or not (subject is None or isinstance(subject, str)):
        raise InvalidIdentity("malformed claims")
    return Identity(client, _names(claims, "scopes"), _names(claims, "locations"), subject)


def _names(claims: Mapping[str, Any], key: str) -> frozenset[str]:
    values = claims.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidIdentity(f"malformed {key}")
    return frozenset(values)


def _claims(encoded: str) -> dict[str, Any]:
    try:
        claims = orjson.loads(_unb64(encoded))
    except orjson.JSONDecodeError:
        raise InvalidIdentity("malformed claims") from None
    if not isinstance(claims, dict):
        raise InvalidIdentity("malformed claims")
    return claims


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidIdentity("malformed") from None


class VerifiedIdentity:
    """ASGI middleware in front of a subgraph's GraphQL route: the request's identity in
    ``scope["state"]["identity"]``, or a refusal before the request runs."""

    def __init__(self, app: ASGIApp, verifier: IdentityVerifier) -> None:
        self._app = app
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            identity = self._verifier.identity(connection.headers)
        except InvalidIdentity as refused:
            log.warning(
                "refused a request whose caller identity is invalid (%s), from %s",
                refused,
                connection.client.host if connection.client else "an unknown peer",
            )
            await _refuse(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self._app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": WEBSOCKET_FORBIDDEN})
        return
    # As GraphQL over HTTP answers a request that cannot run: errors, no data, a code.
    body = {
        "errors": [{"message": "The caller identity is invalid", "extensions": {"code": INVALID}}]
    }
    await JSONResponse(body, status_code=401)(scope, receive, send)


def identity_of(info: Info) -> Identity:
    """The verified caller of the request ``info`` belongs to."""
    identity: Identity = info.context.get("identity", ANONYMOUS)
    return identity
