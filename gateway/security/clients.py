"""Who is calling: the configured clients, and the credentials that name one.

Every request is made by a client. A storefront, a store associate app, a partner or an
operator console each present a credential, and the gateway grants what that client's
configuration says: its scopes, whether it may send documents of its own or only its
trusted ones, introspection, its cost budget, its rate limit and, for store tools, the
locations it serves. A request without credentials is the ``anonymous`` client, which may
read the catalogue and nothing the schema protects.

Credentials are the same on every transport: ``Authorization: Bearer <credential>`` or
``X-API-Key: <key>`` on HTTP and SSE, and ``{"authorization": "Bearer ..."}`` or
``{"apiKey": ...}`` in a WebSocket's ``connection_init`` payload.

- **API keys** are kept only as their SHA-256 (``sha256:<hex>``): the settings never hold
  a key, and a leaked settings file gives none away. A client lists several hashes while
  a key is rotated, so the old and the new one both work until the old one is removed.
- **JWTs** from the identity provider (``jwt.JwksVerifier``) name their client in a claim
  (``azp`` by default). The token's scopes count only as far as that client may be
  granted them.

A credential that is not recognised is refused, never treated as anonymous: a client whose
key was revoked must learn so, not quietly lose its rights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.security.jwt import InvalidToken, JwksVerifier
from gateway.security.ratelimit import RatePolicy

ANONYMOUS = "anonymous"
_KEY_HASH_PREFIX = "sha256:"
# Longer credentials are refused unread: an API key is a few dozen characters, a JWT a
# few kilobytes.
MAX_CREDENTIAL_LENGTH = 16_384


def key_hash(key: str) -> str:
    """How an API key is written in the settings: ``sha256:<hex>`` of its UTF-8 bytes."""
    return _KEY_HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Client:
    """What one client may do. ``scopes`` are the most it is granted (a JWT may carry
    fewer); ``locations`` are the stores and DCs a store tool serves (empty: none)."""

    name: str
    scopes: frozenset[str] = frozenset()
    key_hashes: frozenset[str] = frozenset()
    arbitrary_documents: bool = True
    # None: as the gateway's own introspection setting says.
    introspection: bool | None = None
    max_cost: int | None = None
    rate_limit: RatePolicy | None = None
    # Long-lived connections (WebSockets, SSE streams) and subscriptions it may hold at
    # once, across every replica; None: no cap.
    max_connections: int | None = None
    max_subscriptions: int | None = None
    locations: frozenset[str] = frozenset()
    manifests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Caller:
    """The client behind one request, and what this request was granted."""

    client: Client
    scopes: frozenset[str] = frozenset()
    # The policies (``@policy``) this request meets.
    policies: frozenset[str] = frozenset()
    # The end user or service account a token names, when there is one.
    subject: str | None = None
    claims: Mapping[str, Any] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return self.client.name != ANONYMOUS

    @property
    def name(self) -> str:
        return self.client.name


class Unauthenticated(Exception):
    """A credential was offered and refused. ``code`` is all the caller is told:
    ``INVALID_CREDENTIALS`` (unknown, malformed or revoked), ``CREDENTIALS_EXPIRED``, or
    ``CREDENTIALS_REQUIRED`` (none offered where the anonymous client is off);
    ``UNAVAILABLE`` when the identity provider's keys cannot be had."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Credential:
    kind: str  # "api_key" or "bearer"
    value: str


def anonymous_only() -> ClientDirectory:
    """A gateway that knows no client: every caller is anonymous."""
    return ClientDirectory([], anonymous=Client(ANONYMOUS))


def offered_credential(
    headers: Mapping[str, str], payload: Mapping[str, Any] | None = None
) -> Credential | None:
    """The credential a request offers, from a ``connection_init`` payload first, then
    from the headers; None when it offers none."""
    for source in (payload or {}, headers):
        key = _text(source, "apiKey") if source is payload else None
        if key is not None:
            return Credential("api_key", key)
        authorization = _text(source, "authorization") or _text(source, "Authorization")
        if authorization is not None:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Unauthenticated("INVALID_CREDENTIALS")
            return Credential("bearer", value.strip())
    header_key = _text(headers, "x-api-key")
    if header_key is not None:
        return Credential("api_key", header_key)
    return None


def _text(source: Mapping[str, Any], name: str) -> str | None:
    value = source.get(name)
    return value if isinstance(value, str) else None


class ClientDirectory:
    """Turns what a request offers into its caller."""

    def __init__(
        self,
        clients: Iterable[Client],
        *,
        anonymous: Client | None = None,
        tokens: JwksVerifier | None = None,
        client_claim: str = "azp",
    ) -> None:
        self.clients = {client.name: client for client in clients}
        # None: every request must name a client.
        self.anonymous = anonymous
        if (anonymous is not None and anonymous.name != ANONYMOUS) or ANONYMOUS in self.clients:
            raise ValueError(f"the client {ANONYMOUS!r} is the one without credentials")
        self._by_key_hash: dict[str, Client] = {}
        for client in self.clients.values():
            for hashed in client.key_hashes:
                if not hashed.startswith(_KEY_HASH_PREFIX):
                    raise ValueError(f"{client.name}: an API key is kept as sha256:<hex>")
                if hashed in self._by_key_hash:
                    raise ValueError(f"{client.name}: an API key hash is used twice")
                self._by_key_hash[hashed] = client
        self._tokens = tokens
        self._client_claim = client_claim

    async def caller(
        self, headers: Mapping[str, str], payload: Mapping[str, Any] | None = None
    ) -> Caller:
        """The caller of a request; raises ``Unauthenticated`` for a refused credential."""
        credential = offered_credential(headers, payload)
        if credential is None:
            if self.anonymous is None:
                raise Unauthenticated("CREDENTIALS_REQUIRED")
            return Caller(self.anonymous, self.anonymous.scopes)
        if not 0 < len(credential.value) <= MAX_CREDENTIAL_LENGTH:
            raise Unauthenticated("INVALID_CREDENTIALS")
        if (
            credential.kind == "bearer"
            and self._tokens is not None
            and _looks_like_jwt(credential.value)
        ):
            return await self._token_caller(credential.value)
        client = self._by_key_hash.get(key_hash(credential.value))
        if client is None:
            raise Unauthenticated("INVALID_CREDENTIALS")
        return Caller(client, client.scopes)

    async def _token_caller(self, token: str) -> Caller:
        assert self._tokens is not None
        try:
            verified = await self._tokens.verify(token)
        except InvalidToken as refused:
            code = {"expired": "CREDENTIALS_EXPIRED", "unavailable": "UNAVAILABLE"}
            raise Unauthenticated(code.get(refused.code, "INVALID_CREDENTIALS")) from None
        named = verified.claims.get(self._client_claim)
        client = self.clients.get(named) if isinstance(named, str) else None
        if client is None:
            raise Unauthenticated("INVALID_CREDENTIALS")
        return Caller(
            client,
            verified.scopes & client.scopes,
            subject=verified.subject,
            claims=verified.claims,
        )

    async def aclose(self) -> None:
        if self._tokens is not None:
            await self._tokens.aclose()


def _looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2
