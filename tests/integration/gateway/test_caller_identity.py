"""The caller the gateway identified reaches a subgraph signed, and a subgraph believes
nothing else: a forged, malformed or stale identity is refused with
INVALID_CALLER_IDENTITY, a request without one is anonymous."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import strawberry
from strawberry.types import Info

from adapters.graphql.identity import IdentityVerifier, identity_of
from adapters.graphql.subgraph import FederatedSchema, subgraph_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import Caller, Client
from gateway.security.identity import CallerIdentity, IdentitySigner
from kernel.clock import SettableClock
from tests.support import TEST_NOW
from tests.unit.gateway.planner.support import supergraph_sdl

SECRET = b"s" * 32
SUPERGRAPH = supergraph_sdl(
    ["echo"],
    """
    type Query @join__type(graph: ECHO) {
      caller: String @join__field(graph: ECHO)
    }
    """,
)
STORE = Caller(
    Client("store-berlin", scopes=frozenset({"orders:read"}), locations=frozenset({"S-1"})),
    frozenset({"orders:read"}),
    subject="associate-7",
)


@strawberry.type
class Query:
    @strawberry.field
    def caller(self, info: Info) -> str:
        seen = identity_of(info)
        return f"{seen.client} {sorted(seen.scopes)} {sorted(seen.locations)} {seen.subject}"


async def _context() -> dict[str, Any]:
    return {}


def echo_subgraph(clock: SettableClock, secret: bytes | None = SECRET) -> Any:
    return subgraph_app(
        FederatedSchema(query=Query), _context, identity=IdentityVerifier(secret, clock)
    )


async def ask_subgraph(app: Any, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://echo") as client:
        return await client.post("/graphql", json={"query": "{ caller }"}, headers=headers)


async def test_the_subgraph_sees_the_caller_the_gateway_identified() -> None:
    clock = SettableClock(TEST_NOW)
    engine = FederatedEngine(
        SUPERGRAPH,
        subgraphs={"echo": SubgraphOptions(app=echo_subgraph(clock))},
        identity=IdentitySigner(SECRET, clock),
    )

    result = await engine.execute(engine.prepare("{ caller }", None, STORE), None, {})
    await engine.aclose()

    assert result.data == {"caller": "store-berlin ['orders:read'] ['S-1'] associate-7"}


async def test_a_request_without_an_identity_is_anonymous() -> None:
    answer = await ask_subgraph(echo_subgraph(SettableClock(TEST_NOW)), {})

    assert answer.json() == {"data": {"caller": "anonymous [] [] None"}}


async def test_a_subgraph_refuses_an_identity_signed_with_another_secret() -> None:
    clock = SettableClock(TEST_NOW)
    forged = IdentitySigner(b"f" * 32, clock).headers(CallerIdentity("operator", ("operator",)))

    answer = await ask_subgraph(echo_subgraph(clock), dict(forged))

    assert answer.status_code == 401
    assert answer.json()["errors"][0]["extensions"]["code"] == "INVALID_CALLER_IDENTITY"
    assert "data" not in answer.json()


async def test_a_subgraph_refuses_a_malformed_identity_or_one_it_has_no_secret_for() -> None:
    clock = SettableClock(TEST_NOW)
    signed = IdentitySigner(SECRET, clock).sign(CallerIdentity("operator", ("operator",)))
    version, claims, signature = signed.split(".")

    answers = [
        await ask_subgraph(echo_subgraph(clock), {"x-retailgraph-caller": value})
        for value in ("operator", f"{version}.{claims}", f"{version}.{claims}.{signature}==x")
    ]
    no_secret = await ask_subgraph(echo_subgraph(clock, None), {"x-retailgraph-caller": signed})

    for answer in (*answers, no_secret):
        assert answer.status_code == 401
        assert answer.json()["errors"][0]["extensions"]["code"] == "INVALID_CALLER_IDENTITY"


async def test_a_subgraph_refuses_a_captured_identity_replayed_after_its_window() -> None:
    clock = SettableClock(TEST_NOW)
    captured = dict(IdentitySigner(SECRET, clock).headers(CallerIdentity.of(STORE)))
    subgraph = echo_subgraph(clock)

    clock.advance(timedelta(seconds=30))
    within = await ask_subgraph(subgraph, captured)
    clock.advance(timedelta(seconds=31))
    replayed = await ask_subgraph(subgraph, captured)

    assert within.json() == {"data": {"caller": "store-berlin ['orders:read'] ['S-1'] associate-7"}}
    assert replayed.status_code == 401
    assert replayed.json()["errors"][0]["extensions"]["code"] == "INVALID_CALLER_IDENTITY"


async def test_a_client_cannot_send_an_identity_of_its_own_through_the_gateway() -> None:
    clock = SettableClock(TEST_NOW)
    smuggled = IdentitySigner(SECRET, clock).headers(CallerIdentity("operator", ("operator",)))
    engine = FederatedEngine(
        SUPERGRAPH,
        subgraphs={"echo": SubgraphOptions(app=echo_subgraph(clock))},
        # Even a gateway told to forward the header by name does not.
        forwarded_headers=("authorization", "x-retailgraph-caller"),
    )

    result = await engine.execute(engine.prepare("{ caller }", None), None, dict(smuggled))
    await engine.aclose()

    assert result.data == {"caller": "anonymous [] [] None"}
