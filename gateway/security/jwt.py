"""Client authentication by bearer JWT, checked against the identity provider's published
keys (its JWKS).

A token is accepted only if it is signed with one of the provider's current public keys,
with an asymmetric algorithm the gateway is configured for, by the configured issuer, for
this gateway's audience, and is within its validity window on the gateway's clock (with a
small allowance for clock skew between machines). Anything else is one kind of refusal,
``InvalidToken``, whose message is a short code, so a caller learns nothing about which
check it failed.

The provider's keys are fetched over HTTP and trusted for a while. Providers rotate keys by
publishing a new one and then signing with it, so a token naming a key the gateway has not
seen makes it look again at once, but at most once per ``min_refetch_interval``: a flood of
made-up key ids costs the provider one request, not one per token. Keys the provider
retires stop verifying once the cached set is older than ``refresh_interval``. Every fetch
is bounded in time, size and key count, and a provider that cannot be reached refuses
tokens (``unavailable``) instead of failing the request in some other way.

PyJWT and cryptography are imported by the first verification, not with this module: a
gateway without an identity provider never needs them, and they hold 10 MB of its
resident memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from gateway.security.clock import Clock
from gateway.sessions import open_session

if TYPE_CHECKING:
    import jwt

__all__ = [
    "Clock",
    "InvalidToken",
    "JwksVerifier",
    "JwtSettings",
    "VerifiedToken",
]

_log = logging.getLogger(__name__)

# What each algorithm the gateway accepts needs of a key: its type and, for elliptic
# curves, its curve. Symmetric (HS*) and unsigned ("none") tokens are absent on purpose:
# keys here are public, so a token "signed" with one as a shared secret must never pass.
_KEY_FIT: Mapping[str, tuple[str, frozenset[str] | None]] = MappingProxyType(
    {
        "RS256": ("RSA", None),
        "RS384": ("RSA", None),
        "RS512": ("RSA", None),
        "PS256": ("RSA", None),
        "PS384": ("RSA", None),
        "PS512": ("RSA", None),
        "ES256": ("EC", frozenset({"P-256"})),
        "ES384": ("EC", frozenset({"P-384"})),
        "ES512": ("EC", frozenset({"P-521"})),
        "EdDSA": ("OKP", frozenset({"Ed25519", "Ed448"})),
    }
)
# Members a published key must not carry: a JWKS is public, so private or symmetric key
# material in it means the provider is misconfigured, and such a key is not used.
_SECRET_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class JwtSettings:
    """How the gateway recognises its clients' tokens."""

    # Where the identity provider publishes its public keys (a JSON Web Key Set).
    jwks_url: str
    # The ``iss`` every token must carry: the provider the gateway trusts.
    issuer: str
    # The ``aud`` a token must name (among others, if it is a list): this gateway.
    audience: str
    # The signing algorithms accepted; asymmetric ones only.
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    # Seconds of clock skew allowed for exp/nbf/iat.
    leeway: float = 30.0
    # How long fetched keys are trusted before a refetch.
    refresh_interval: float = 300.0
    # An unknown kid triggers at most one refetch per this many seconds.
    min_refetch_interval: float = 10.0
    # The whole fetch of the key set, connection included, in seconds.
    fetch_timeout: float = 5.0
    # A key set larger than this is refused rather than read.
    max_jwks_bytes: int = 1_000_000
    # A key set with more keys than this is refused.
    max_keys: int = 100
    # Characters; a longer token is refused before it is decoded.
    max_token_length: int = 16_384

    def __post_init__(self) -> None:
        if not self.algorithms:
            raise ValueError("at least one signing algorithm must be accepted")
        unsupported = [alg for alg in self.algorithms if alg not in _KEY_FIT]
        if unsupported:
            raise ValueError(
                f"only asymmetric signing algorithms can be accepted, not {unsupported}; "
                f"choose among {sorted(_KEY_FIT)}"
            )
        if urlsplit(self.jwks_url).scheme not in ("http", "https"):
            raise ValueError("the JWKS address must be an http(s) URL")
        if not self.issuer or not self.audience:
            raise ValueError("an issuer and an audience are required")
        durations = {
            "leeway": self.leeway,
            "refresh_interval": self.refresh_interval,
            "min_refetch_interval": self.min_refetch_interval,
            "fetch_timeout": self.fetch_timeout,
        }
        for name, seconds in durations.items():
            if seconds < 0:
                raise ValueError(f"{name} cannot be negative")


@dataclass(frozen=True)
class VerifiedToken:
    """A caller the gateway has recognised: who it is and what it was granted."""

    subject: str | None
    # From ``scope`` (space-separated) and ``scp`` (a list, or a space-separated string).
    scopes: frozenset[str]
    # Every claim of the token, read-only.
    claims: Mapping[str, Any]


class InvalidToken(Exception):
    """A refused token. ``code`` is all a caller is told: ``invalid``, ``expired``,
    ``not_yet_valid`` or ``unavailable`` (the provider's keys could not be had)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _FetchFailed(Exception):
    """The key set could not be fetched or was not a usable key set."""


@dataclass
class _KeySet:
    keys: tuple[Mapping[str, Any], ...]
    fetched_at: float
    # Keys already turned into verifiers, by position in ``keys`` and algorithm.
    prepared: dict[tuple[int, str], jwt.PyJWK] = field(default_factory=dict)

    def select(self, kid: str | None, alg: str) -> jwt.PyJWK | None:
        """The key the token names (by ``kid``, or the only key if it names none), if it
        exists and fits the token's algorithm."""
        if kid is None:
            candidates = [0] if len(self.keys) == 1 else []
        else:
            candidates = [i for i, key in enumerate(self.keys) if key.get("kid") == kid]
        for index in candidates:
            if not _fits(self.keys[index], alg):
                continue
            prepared = self.prepared.get((index, alg))
            if prepared is None:
                prepared = _prepare(self.keys[index], alg)
                if prepared is None:
                    continue
                self.prepared[(index, alg)] = prepared
            return prepared
        return None


class JwksVerifier:
    """Verifies bearer tokens against the identity provider's current keys.

    One per process, shared by every connection: it holds the cached keys and the one
    fetch in flight. ``http`` is for a caller that wants its own client (proxies, TLS
    settings); otherwise the verifier makes one and closes it in ``aclose``.
    """

    def __init__(
        self,
        settings: JwtSettings,
        *,
        clock: Clock,
        http: aiohttp.ClientSession | None = None,
        proxy: str | None = None,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._owns_http = http is None
        # The proxy comes from the settings: the environment is read in one place only.
        self._http = http
        self._proxy = proxy
        self._keys: _KeySet | None = None
        self._lock = asyncio.Lock()
        # Fetches finished so far, and when the last one started and whether it failed:
        # a verification that waited for another's fetch uses its outcome, and none
        # asks the provider again sooner than ``min_refetch_interval`` after it.
        self._attempts = 0
        self._last_attempt_at: float | None = None
        self._last_attempt_failed = False

    async def verify(self, token: str) -> VerifiedToken:
        """The caller the token identifies, or ``InvalidToken``."""
        import jwt

        settings = self._settings
        if not token or len(token) > settings.max_token_length:
            raise InvalidToken("invalid")
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, RecursionError):
            raise InvalidToken("invalid") from None
        alg = header.get("alg")
        kid = header.get("kid")
        if not isinstance(alg, str) or alg not in settings.algorithms:
            raise InvalidToken("invalid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("invalid")

        key = await self._key_for(kid, alg)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=settings.audience,
                issuer=settings.issuer,
                options={
                    # Time is checked below against the gateway's clock, not the machine's.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "iss", "aud"],
                },
            )
        except (jwt.PyJWTError, ValueError, RecursionError) as error:
            _log.debug("token refused: %s", error)
            raise InvalidToken("invalid") from None

        self._check_times(claims)
        subject = claims.get("sub")
        if subject is not None and not isinstance(subject, str):
            raise InvalidToken("invalid")
        return VerifiedToken(
            subject=subject,
            scopes=_scopes(claims),
            claims=MappingProxyType(claims),
        )

    async def aclose(self) -> None:
        """Closes the HTTP client if the verifier made it."""
        if self._owns_http and self._http is not None:
            await self._http.close()
            self._http = None

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._now()
        leeway = self._settings.leeway
        exp = _numeric_date(claims.get("exp"))
        if exp is None:
            raise InvalidToken("invalid")
        if exp <= now - leeway:
            raise InvalidToken("expired")
        for name in ("nbf", "iat"):
            if name not in claims:
                continue
            moment = _numeric_date(claims[name])
            if moment is None:
                raise InvalidToken("invalid")
            if moment > now + leeway:
                raise InvalidToken("not_yet_valid")

    async def _key_for(self, kid: str | None, alg: str) -> jwt.PyJWK:
        keys = self._fresh_keys()
        if keys is None:
            keys = await self._refetch(unknown_key=False)
        key = keys.select(kid, alg)
        if key is None:
            # Perhaps the provider has rotated to a key not yet seen here.
            keys = await self._refetch(unknown_key=True)
            key = keys.select(kid, alg)
        if key is None:
            raise InvalidToken("invalid")
        return key

    def _fresh_keys(self) -> _KeySet | None:
        keys = self._keys
        if keys is None or self._now() - keys.fetched_at >= self._settings.refresh_interval:
            return None
        return keys

    async def _refetch(self, *, unknown_key: bool) -> _KeySet:
        """The key set after fetching it again, if that is allowed now; else the cached one
        (if still fresh), or ``InvalidToken("unavailable")``.

        Only one fetch runs at a time; verifications that queued behind it use its result.
        """
        seen = self._attempts
        async with self._lock:
            if self._attempts == seen and self._may_fetch(unknown_key=unknown_key):
                await self._fetch_into_cache()
            keys = self._fresh_keys()
            if keys is None:
                raise InvalidToken("unavailable")
            return keys

    def _may_fetch(self, *, unknown_key: bool) -> bool:
        last = self._last_attempt_at
        if last is None:
            return True
        recent = self._now() - last < self._settings.min_refetch_interval
        if unknown_key:
            return not recent
        # The cache is stale or empty: fetch, unless the last try failed a moment ago.
        return not (recent and self._last_attempt_failed)

    async def _fetch_into_cache(self) -> None:
        # Recorded once the fetch has an outcome: one cancelled midway (its caller went
        # away) counts for nothing, and the next verification in line fetches instead.
        started = self._now()
        try:
            keys = _parse_key_set(await self._download(), self._settings.max_keys)
        except _FetchFailed as error:
            self._record_attempt(started, failed=True)
            _log.warning("could not fetch the identity provider's keys: %s", error)
            return
        self._keys = _KeySet(keys=keys, fetched_at=started)
        self._record_attempt(started, failed=False)

    def _record_attempt(self, started: float, *, failed: bool) -> None:
        self._attempts += 1
        self._last_attempt_at = started
        self._last_attempt_failed = failed

    async def _download(self) -> bytes:
        settings = self._settings
        limit = settings.max_jwks_bytes
        try:
            async with asyncio.timeout(settings.fetch_timeout):
                if self._http is None:
                    # opened on first use, inside the event loop that owns it
                    self._http = open_session(1, proxy=self._proxy)
                async with self._http.get(
                    settings.jwks_url,
                    headers={"Accept": "application/json"},
                    allow_redirects=False,
                ) as response:
                    if response.status != 200:
                        raise _FetchFailed(f"HTTP {response.status}")
                    declared = response.headers.get("content-length")
                    if declared is not None and declared.isdigit() and int(declared) > limit:
                        raise _FetchFailed(f"larger than {limit} bytes")
                    body = bytearray()
                    async for chunk in response.content.iter_any():
                        body += chunk
                        if len(body) > limit:
                            raise _FetchFailed(f"larger than {limit} bytes")
                    return bytes(body)
        except TimeoutError:
            raise _FetchFailed(f"no answer within {settings.fetch_timeout}s") from None
        except (aiohttp.ClientError, OSError) as error:
            raise _FetchFailed(f"{type(error).__name__}: {error}") from None

    def _now(self) -> float:
        return self._clock.now().timestamp()


def _parse_key_set(body: bytes, max_keys: int) -> tuple[Mapping[str, Any], ...]:
    """The signing keys of a JWKS document; keys the gateway cannot or must not use (other
    uses, unknown types, private material) are left out."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise _FetchFailed("not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise _FetchFailed("not a JWKS document")
    published = document["keys"]
    if len(published) > max_keys:
        raise _FetchFailed(f"more than {max_keys} keys")
    usable: list[Mapping[str, Any]] = []
    for key in published:
        if not isinstance(key, dict):
            continue
        if key.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        if key.get("use", "sig") != "sig" or not _SECRET_MEMBERS.isdisjoint(key):
            continue
        if "kid" in key and not isinstance(key["kid"], str):
            continue
        usable.append(MappingProxyType(key))
    return tuple(usable)


def _fits(key: Mapping[str, Any], alg: str) -> bool:
    kty, curves = _KEY_FIT[alg]
    if key.get("kty") != kty:
        return False
    if curves is not None and key.get("crv") not in curves:
        return False
    # A key the provider pinned to an algorithm verifies only that algorithm.
    pinned: object = key.get("alg", alg)
    return pinned == alg


def _prepare(key: Mapping[str, Any], alg: str) -> jwt.PyJWK | None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    try:
        prepared = jwt.PyJWK(dict(key), algorithm=alg)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
        _log.warning("the identity provider published a key that cannot be used: %s", error)
        return None
    if isinstance(prepared.key, RSAPublicKey) and prepared.key.key_size < _MIN_RSA_BITS:
        _log.warning("the identity provider published an RSA key under %d bits", _MIN_RSA_BITS)
        return None
    return prepared


def _numeric_date(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    moment = float(value)
    return moment if math.isfinite(moment) else None


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    granted: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            granted.update(value.split())
        elif isinstance(value, list) and all(isinstance(item, str) for item in value):
            granted.update(item for item in value if item)
        else:
            raise InvalidToken("invalid")
    return frozenset(granted)
