"""The caller's identity as the subgraphs receive it: signed by the gateway.

A subgraph behind the gateway must know who is calling (to filter by a store tool's
locations, to record who made an order's step), and must not believe a header anyone
could write. So the gateway adds one header to every subgraph fetch of a request,
``x-retailgraph-caller``, whose value is::

    v1.<base64url(JSON claims)>.<base64url(HMAC-SHA256(secret, "v1.<base64url(JSON claims)>"))>

The claims are ``client`` (the client's name), ``scopes`` and ``locations`` (granted to
this request, sorted), ``sub`` (the token's subject, when there is one) and ``iat`` (when
it was signed, in whole seconds of the gateway's clock). The secret is shared by the
gateway and the subgraphs alone (``[gateway] identity_secret``,
``[subgraphs] identity_secret``). A subgraph refuses a signature that does not match, and
one older (or newer) than its window, so a captured header cannot be replayed for long
(``adapters/graphql/identity.py`` is the other side of this contract).

A header of that name sent by a client is never forwarded (``executor/headers.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from gateway.security.clients import Caller
from gateway.security.clock import Clock

IDENTITY_HEADER = "x-retailgraph-caller"
VERSION = "v1"
# Shorter secrets are refused: HMAC-SHA256's key should be as long as its output.
MIN_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    """What the subgraphs learn of a caller; hashable, so subscriptions can be shared by
    callers with the same identity."""

    client: str
    scopes: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    subject: str | None = None

    @classmethod
    def of(cls, caller: Caller) -> CallerIdentity:
        return cls(
            caller.name,
            tuple(sorted(caller.scopes)),
            tuple(sorted(caller.client.locations)),
            caller.subject,
        )


class IdentitySigner:
    """Signs identities with the shared secret, at the time its clock gives."""

    def __init__(self, secret: bytes, clock: Clock) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"the identity secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._clock = clock

    def headers(self, identity: CallerIdentity) -> Mapping[str, str]:
        """The header that carries ``identity``, signed now."""
        return {IDENTITY_HEADER: self.sign(identity)}

    def sign(self, identity: CallerIdentity) -> str:
        claims: dict[str, object] = {
            "client": identity.client,
            "scopes": list(identity.scopes),
            "locations": list(identity.locations),
            "iat": int(self._clock.now().timestamp()),
        }
        if identity.subject is not None:
            claims["sub"] = identity.subject
        signed = f"{VERSION}.{_b64(orjson.dumps(claims))}"
        signature = hmac.new(self._secret, signed.encode("ascii"), hashlib.sha256).digest()
        return f"{signed}.{_b64(signature)}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
