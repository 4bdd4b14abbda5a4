"""Client tokens are checked against an identity provider's published keys, served here
over real HTTP by a small provider whose keys the tests rotate, retire and take down."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.security.clients import Client, ClientDirectory, Unauthenticated
from gateway.security.jwt import InvalidToken, JwksVerifier, JwtSettings, VerifiedToken
from kernel.clock import SettableClock

ISSUER = "https://id.example.test/"
AUDIENCE = "retailgraph"
START = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@pytest.fixture(scope="module")
def rsa_keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_jwk(kid: str, key: SigningKey) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        jwk["alg"] = "RS256"
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
        jwk["alg"] = "ES256"
    return {**jwk, "kid": kid, "use": "sig"}


@dataclass
class Provider:
    """An identity provider: publishes its public keys at /jwks and counts the requests."""

    clock: SettableClock
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    status: int = 200
    url: str = ""

    def publish(self, kid: str, key: SigningKey) -> None:
        self.published[kid] = public_jwk(kid, key)

    def retire(self, kid: str) -> None:
        del self.published[kid]

    async def jwks(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.status != 200:
            return web.Response(status=self.status, text="identity provider unavailable")
        return web.json_response({"keys": list(self.published.values())})

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "client-42",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, key: SigningKey, kid: str | None, **claims: Any) -> str:
        alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        headers = {"kid": kid} if kid is not None else {}
        return jwt.encode(self.claims(**claims), key, algorithm=alg, headers=headers)


def forged(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A token put together by hand, for headers PyJWT refuses to write."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    return f"{signing_input}.{part(sign(signing_input.encode()))}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
async def provider(clock: SettableClock) -> AsyncIterator[Provider]:
    provider = Provider(clock)
    app = web.Application()
    app.router.add_get("/jwks", provider.jwks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    provider.url = f"http://127.0.0.1:{sock.getsockname()[1]}/jwks"
    yield provider
    await runner.cleanup()


VerifierFactory = Callable[..., Awaitable[JwksVerifier]]


@pytest.fixture
async def make_verifier(provider: Provider, clock: SettableClock) -> AsyncIterator[VerifierFactory]:
    made: list[JwksVerifier] = []

    async def make(**settings: Any) -> JwksVerifier:
        options: dict[str, Any] = {"jwks_url": provider.url, "issuer": ISSUER, "audience": AUDIENCE}
        options.update(settings)
        verifier = JwksVerifier(JwtSettings(**options), clock=clock)
        made.append(verifier)
        return verifier

    yield make
    for verifier in made:
        await verifier.aclose()


@pytest.fixture
async def verifier(
    make_verifier: VerifierFactory,
    provider: Provider,
    rsa_keys: list[rsa.RSAPrivateKey],
    ec_key: ec.EllipticCurvePrivateKey,
) -> JwksVerifier:
    provider.publish("rsa-1", rsa_keys[0])
    provider.publish("ec-1", ec_key)
    return await make_verifier()


async def refused(verifier: JwksVerifier, token: str) -> str:
    with pytest.raises(InvalidToken) as refusal:
        await verifier.verify(token)
    return str(refusal.value)


# --- what a valid token gives ---------------------------------------------------------


async def test_an_rs256_token_names_its_caller_and_the_scopes_of_its_scope_string(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", scope="catalog:read orders:write")

    verified = await verifier.verify(token)

    assert verified == VerifiedToken(
        subject="client-42",
        scopes=frozenset({"catalog:read", "orders:write"}),
        claims=verified.claims,
    )
    assert verified.claims["iss"] == ISSUER


async def test_an_es256_token_grants_the_scopes_of_its_scp_list(
    verifier: JwksVerifier, provider: Provider, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    token = provider.token(ec_key, "ec-1", scp=["inventory:read", "pricing:read"])

    verified = await verifier.verify(token)

    assert verified.subject == "client-42"
    assert verified.scopes == {"inventory:read", "pricing:read"}


async def test_a_token_may_be_meant_for_several_audiences_among_them_this_gateway(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", aud=["billing", AUDIENCE])

    assert (await verifier.verify(token)).scopes == frozenset()


async def test_a_token_without_a_key_id_verifies_only_while_the_provider_has_one_key(
    make_verifier: VerifierFactory, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    provider.publish("rsa-1", rsa_keys[0])
    verifier = await make_verifier()
    token = provider.token(rsa_keys[0], kid=None)
    assert (await verifier.verify(token)).subject == "client-42"

    provider.publish("rsa-2", rsa_keys[1])
    ambiguous = await make_verifier()
    assert await refused(ambiguous, token) == "invalid"


# --- what is refused ------------------------------------------------------------------


async def test_an_expired_token_is_refused_as_expired(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    now = int(provider.clock.now().timestamp())
    token = provider.token(rsa_keys[0], "rsa-1", iat=now - 7200, exp=now - 3600)

    assert await refused(verifier, token) == "expired"


async def test_a_token_without_an_expiry_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    assert await refused(verifier, provider.token(rsa_keys[0], "rsa-1", exp=None)) == "invalid"


async def test_a_token_not_yet_valid_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    now = int(provider.clock.now().timestamp())
    token = provider.token(rsa_keys[0], "rsa-1", nbf=now + 600)

    assert await refused(verifier, token) == "not_yet_valid"


async def test_a_token_issued_in_the_future_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    now = int(provider.clock.now().timestamp())
    token = provider.token(rsa_keys[0], "rsa-1", iat=now + 600)

    assert await refused(verifier, token) == "not_yet_valid"


async def test_a_token_from_another_issuer_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", iss="https://elsewhere.example.test/")

    assert await refused(verifier, token) == "invalid"


async def test_a_token_for_another_audience_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", aud="billing")

    assert await refused(verifier, token) == "invalid"


async def test_a_token_signed_by_a_key_other_than_the_one_it_names_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    token = provider.token(rsa_keys[2], "rsa-1")

    assert await refused(verifier, token) == "invalid"


async def test_a_tampered_token_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    header, _, signature = provider.token(rsa_keys[0], "rsa-1").split(".")
    claims = provider.claims(scope="admin")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    assert await refused(verifier, f"{header}.{payload}.{signature}") == "invalid"


async def test_an_unsigned_token_is_refused(verifier: JwksVerifier, provider: Provider) -> None:
    token = forged({"alg": "none", "kid": "rsa-1"}, provider.claims(), lambda _: b"")

    assert await refused(verifier, token) == "invalid"


async def test_a_token_signed_with_the_public_key_as_a_shared_secret_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    secret = (
        rsa_keys[0]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    token = forged(
        {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"},
        provider.claims(scope="admin"),
        lambda signing_input: hmac.new(secret, signing_input, hashlib.sha256).digest(),
    )

    assert await refused(verifier, token) == "invalid"


def test_the_gateway_cannot_be_configured_to_accept_symmetric_or_unsigned_tokens() -> None:
    for algorithms in (("RS256", "HS256"), ("none",), ()):
        with pytest.raises(ValueError, match="algorithm"):
            JwtSettings("https://id.example.test/jwks", ISSUER, AUDIENCE, algorithms=algorithms)


async def test_a_token_signed_with_an_algorithm_the_gateway_does_not_accept_is_refused(
    make_verifier: VerifierFactory, provider: Provider, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    provider.publish("ec-1", ec_key)
    rsa_only = await make_verifier(algorithms=("RS256",))

    assert await refused(rsa_only, provider.token(ec_key, "ec-1")) == "invalid"


async def test_a_token_naming_an_rsa_key_but_signed_as_ec_is_refused(
    verifier: JwksVerifier, provider: Provider, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    assert await refused(verifier, provider.token(ec_key, "rsa-1")) == "invalid"


async def test_a_key_the_provider_pinned_to_one_algorithm_verifies_no_other(
    make_verifier: VerifierFactory, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    provider.publish("rsa-1", rsa_keys[0])  # published with "alg": "RS256"
    verifier = await make_verifier(algorithms=("RS256", "PS256"))
    token = jwt.encode(provider.claims(), rsa_keys[0], algorithm="PS256", headers={"kid": "rsa-1"})

    assert await refused(verifier, token) == "invalid"


async def test_a_token_naming_a_key_the_provider_never_published_is_refused(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    assert await refused(verifier, provider.token(rsa_keys[2], "nobody")) == "invalid"


async def test_an_oversized_or_malformed_token_is_refused_without_asking_the_provider(
    verifier: JwksVerifier, provider: Provider
) -> None:
    for token in ("", "not a token", "a.b.c", "x" * 20_000):
        assert await refused(verifier, token) == "invalid"
    assert provider.requests == 0


# --- clock skew -----------------------------------------------------------------------


async def test_clock_skew_within_the_leeway_is_tolerated(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    now = int(clock.now().timestamp())
    # The provider's clock runs 20 s ahead of the gateway's (leeway is 30 s)...
    early = provider.token(rsa_keys[0], "rsa-1", iat=now + 20, nbf=now + 20, exp=now + 320)
    assert (await verifier.verify(early)).subject == "client-42"
    # ...or the token expired 20 s ago by the gateway's clock.
    late = provider.token(rsa_keys[0], "rsa-1", iat=now - 320, exp=now - 20)
    assert (await verifier.verify(late)).subject == "client-42"


async def test_clock_skew_beyond_the_leeway_is_refused(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    now = int(clock.now().timestamp())
    early = provider.token(rsa_keys[0], "rsa-1", iat=now + 40, nbf=now + 40, exp=now + 340)
    assert await refused(verifier, early) == "not_yet_valid"
    late = provider.token(rsa_keys[0], "rsa-1", iat=now - 340, exp=now - 40)
    assert await refused(verifier, late) == "expired"


async def test_a_token_expires_when_the_gateways_clock_says_so(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1")  # valid for an hour
    await verifier.verify(token)

    clock.advance(timedelta(hours=1, seconds=29))
    await verifier.verify(token)
    clock.advance(timedelta(seconds=2))
    assert await refused(verifier, token) == "expired"


# --- key rotation and the provider's load ----------------------------------------------


async def test_a_new_key_is_picked_up_on_its_first_token_before_the_refresh_interval(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    await verifier.verify(provider.token(rsa_keys[0], "rsa-1"))
    assert provider.requests == 1

    provider.publish("rsa-2", rsa_keys[1])
    clock.advance(timedelta(seconds=11))  # past min_refetch_interval, far from refresh_interval
    rotated = await verifier.verify(provider.token(rsa_keys[1], "rsa-2", scope="orders:read"))

    assert rotated.scopes == {"orders:read"}
    assert provider.requests == 2
    await verifier.verify(provider.token(rsa_keys[0], "rsa-1"))
    assert provider.requests == 2


async def test_a_retired_key_stops_verifying_once_the_refresh_interval_has_passed(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    provider.publish("rsa-2", rsa_keys[1])
    old = provider.token(rsa_keys[0], "rsa-1", exp=int(clock.now().timestamp()) + 86_400)
    new = provider.token(rsa_keys[1], "rsa-2", exp=int(clock.now().timestamp()) + 86_400)
    await verifier.verify(old)

    provider.retire("rsa-1")
    clock.advance(timedelta(seconds=299))
    await verifier.verify(old)  # the fetched keys are trusted for refresh_interval
    assert provider.requests == 1

    clock.advance(timedelta(seconds=2))
    assert await refused(verifier, old) == "invalid"
    assert (await verifier.verify(new)).subject == "client-42"
    assert provider.requests == 2


async def test_a_flood_of_unknown_key_ids_asks_the_provider_at_most_once_per_interval(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    await verifier.verify(provider.token(rsa_keys[0], "rsa-1"))
    bogus = [provider.token(rsa_keys[2], f"bogus-{n}") for n in range(50)]

    async def flood() -> None:
        outcomes = await asyncio.gather(
            *(verifier.verify(token) for token in bogus), return_exceptions=True
        )
        assert all(isinstance(outcome, InvalidToken) for outcome in outcomes)

    await flood()  # within min_refetch_interval of the first fetch
    assert provider.requests == 1
    clock.advance(timedelta(seconds=10))
    await flood()
    assert provider.requests == 2
    clock.advance(timedelta(seconds=9))
    await flood()
    assert provider.requests == 2
    clock.advance(timedelta(seconds=1))
    await flood()
    assert provider.requests == 3


async def test_concurrent_first_verifications_share_one_fetch(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    tokens = [provider.token(rsa_keys[0], "rsa-1", sub=f"client-{n}") for n in range(20)]

    verified = await asyncio.gather(*(verifier.verify(token) for token in tokens))

    assert {token.subject for token in verified} == {f"client-{n}" for n in range(20)}
    assert provider.requests == 1


# --- when the provider is unreachable or misbehaves -------------------------------------


async def test_a_provider_that_is_down_makes_tokens_refused_as_unavailable(
    make_verifier: VerifierFactory, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    provider.publish("rsa-1", rsa_keys[0])
    nothing_listening = await make_verifier(jwks_url=f"http://127.0.0.1:{free_port()}/jwks")

    assert await refused(nothing_listening, provider.token(rsa_keys[0], "rsa-1")) == "unavailable"


async def test_a_failing_provider_is_retried_at_most_once_per_interval_and_recovered_from(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", exp=int(clock.now().timestamp()) + 86_400)
    provider.status = 503

    for _ in range(5):
        assert await refused(verifier, token) == "unavailable"
    assert provider.requests == 1

    provider.status = 200
    clock.advance(timedelta(seconds=10))
    assert (await verifier.verify(token)).subject == "client-42"
    assert provider.requests == 2


async def test_keys_are_not_trusted_past_the_refresh_interval_when_the_provider_is_down(
    verifier: JwksVerifier,
    provider: Provider,
    clock: SettableClock,
    rsa_keys: list[rsa.RSAPrivateKey],
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", exp=int(clock.now().timestamp()) + 86_400)
    await verifier.verify(token)

    provider.status = 500
    clock.advance(timedelta(seconds=300))

    assert await refused(verifier, token) == "unavailable"


async def test_a_provider_that_answers_too_slowly_makes_tokens_refused_as_unavailable(
    make_verifier: VerifierFactory, rsa_keys: list[rsa.RSAPrivateKey], provider: Provider
) -> None:
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        slow = await make_verifier(jwks_url=f"http://127.0.0.1:{port}/jwks", fetch_timeout=0.2)
        token = provider.token(rsa_keys[0], "rsa-1")
        assert await refused(slow, token) == "unavailable"
    finally:
        done.set()
        server.close()
        await server.wait_closed()


async def test_an_oversized_or_overfull_key_set_is_not_used(
    make_verifier: VerifierFactory, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    provider.publish("rsa-1", rsa_keys[0])
    for n in range(120):
        provider.publish(f"spare-{n}", rsa_keys[1])
    token = provider.token(rsa_keys[0], "rsa-1")

    too_many = await make_verifier(max_keys=100)
    assert await refused(too_many, token) == "unavailable"
    too_large = await make_verifier(max_keys=1000, max_jwks_bytes=10_000)
    assert await refused(too_large, token) == "unavailable"
    assert (await (await make_verifier(max_keys=1000)).verify(token)).subject == "client-42"


# --- tokens name their client -----------------------------------------------------------


def directory(verifier: JwksVerifier) -> ClientDirectory:
    partner = Client("acme", scopes=frozenset({"catalog:read", "orders:read"}))
    return ClientDirectory([partner], tokens=verifier)


async def test_a_token_names_its_client_which_bounds_the_scopes_the_token_grants(
    verifier: JwksVerifier, provider: Provider, rsa_keys: list[rsa.RSAPrivateKey]
) -> None:
    token = provider.token(rsa_keys[0], "rsa-1", azp="acme", scope="orders:read orders:cancel")

    caller = await directory(verifier).caller({"authorization": f"Bearer {token}"})

    assert (caller.name, caller.scopes, caller.subject) == (
        "acme",
        frozenset({"orders:read"}),
        "client-42",
    )


async def test_a_token_for_an_unknown_client_or_expired_is_refused_with_its_code(
    verifier: JwksVerifier,
    provider: Provider,
    rsa_keys: list[rsa.RSAPrivateKey],
    clock: SettableClock,
) -> None:
    clients = directory(verifier)
    stranger = provider.token(rsa_keys[0], "rsa-1", azp="stranger")
    with pytest.raises(Unauthenticated) as unknown:
        await clients.caller({"authorization": f"Bearer {stranger}"})
    expiring = provider.token(rsa_keys[0], "rsa-1", azp="acme")
    clock.advance(timedelta(hours=2))
    with pytest.raises(Unauthenticated) as expired:
        await clients.caller({"authorization": f"Bearer {expiring}"})
    assert (unknown.value.code, expired.value.code) == (
        "INVALID_CREDENTIALS",
        "CREDENTIALS_EXPIRED",
    )


async def test_the_gateway_admits_a_token_of_a_configured_client_and_refuses_an_expired_one(
    provider: Provider, rsa_keys: list[rsa.RSAPrivateKey], clock: SettableClock
) -> None:
    import httpx

    from gateway.commands import federated_engine, gateway_app
    from gateway.executor import SubgraphOptions
    from gateway.settings import GatewaySettings
    from gateway.supergraph.compose import compose_from_apps
    from tests.e2e.gateway.subgraphs import subgraph_apps

    provider.publish("rsa-1", rsa_keys[0])
    settings = GatewaySettings.model_validate(
        {
            "identity_provider": {
                "jwks_url": provider.url,
                "issuer": ISSUER,
                "audience": AUDIENCE,
            },
            "clients": {"acme": {"scopes": ["orders:read"]}},
            "anonymous": {"enabled": False},
        }
    )
    apps = subgraph_apps()
    engine = federated_engine(
        await compose_from_apps(apps),
        settings,
        {name: SubgraphOptions(app=app) for name, app in apps.items()},
        clock=clock,
    )
    app = gateway_app(engine, settings, clock=clock)
    token = provider.token(rsa_keys[0], "rsa-1", azp="acme", scope="orders:read")
    query = {"query": "{ products(first: 1) { sku } }"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            admitted = await client.post(
                "/graphql", json=query, headers={"authorization": f"Bearer {token}"}
            )
            clock.advance(timedelta(hours=2))
            expired = await client.post(
                "/graphql", json=query, headers={"authorization": f"Bearer {token}"}
            )
            anonymous = await client.post("/graphql", json=query)

    assert admitted.json() == {"data": {"products": [{"sku": "SKU-0"}]}}
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == "CREDENTIALS_EXPIRED"
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "CREDENTIALS_REQUIRED"
