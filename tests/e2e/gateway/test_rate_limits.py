"""A client with a rate limit spends one request of its quota per HTTP request; every
answer tells it where it stands (IETF RateLimit fields), and past its quota it is refused
with 429, ``Retry-After`` and ``RATE_LIMITED`` until the quota comes back. Anonymous
callers are limited per address.

The gateway is built from settings as ``retailgraph gateway`` builds it, without Redis
(each replica counts for itself); time is a clock the test moves.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gateway.commands import gateway_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from gateway.security.clients import key_hash
from gateway.settings import GatewaySettings
from gateway.supergraph.compose import compose_from_apps
from kernel.clock import SettableClock
from tests.e2e.gateway.subgraphs import subgraph_apps
from tests.support import TEST_NOW

QUERY = {"query": "{ products { sku } }"}
SHOP = {"x-api-key": "shop-key"}


def settings(**gateway: Any) -> GatewaySettings:
    """A shop client allowed 3 requests a minute (one back every 20 seconds)."""
    shop = {
        "api_key_hashes": [key_hash("shop-key")],
        "rate_limit": {"quota": 3, "window": 60},
    }
    return GatewaySettings.model_validate({"clients": {"shop": shop}, **gateway})


@asynccontextmanager
async def gateway(
    chosen: GatewaySettings,
    clock: SettableClock,
    *,
    redis_url: str | None = None,
    peer: str = "192.0.2.1",
) -> AsyncIterator[httpx.AsyncClient]:
    apps = subgraph_apps()
    engine = FederatedEngine(
        await compose_from_apps(apps),
        subgraphs={name: SubgraphOptions(app=app) for name, app in apps.items()},
    )
    app = gateway_app(engine, chosen, clock=clock, redis_url=redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(TEST_NOW)


async def test_a_client_gets_its_quota_then_429_until_the_quota_comes_back(
    clock: SettableClock,
) -> None:
    async with gateway(settings(), clock) as client:
        allowed = [await client.post("/graphql", json=QUERY, headers=SHOP) for _ in range(3)]
        refused = await client.post("/graphql", json=QUERY, headers=SHOP)
        clock.advance(timedelta(seconds=19))
        still_refused = await client.get("/graphql", params=QUERY, headers=SHOP)
        clock.advance(timedelta(seconds=1))
        again = await client.post("/graphql", json=QUERY, headers=SHOP)

    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert all("errors" not in r.json() for r in allowed)
    assert {r.headers["ratelimit-policy"] for r in allowed} == {'"shop";q=3;w=60'}
    assert [r.headers["ratelimit"] for r in allowed] == [
        '"shop";r=2;t=20',
        '"shop";r=1;t=20',
        '"shop";r=0;t=20',
    ]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"
    assert refused.headers["ratelimit"] == '"shop";r=0;t=20'
    assert refused.headers["ratelimit-policy"] == '"shop";q=3;w=60'
    [error] = refused.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED"}
    assert "data" not in refused.json()
    assert still_refused.status_code == 429
    assert still_refused.headers["retry-after"] == "1"
    assert again.status_code == 200
    assert again.headers["ratelimit"] == '"shop";r=0;t=20'


async def test_every_answer_to_a_limited_client_carries_the_ratelimit_fields(
    clock: SettableClock,
) -> None:
    graphql_response = {
        "accept": "application/graphql-response+json",
        "content-type": "application/json",
        **SHOP,
    }
    async with gateway(settings(), clock) as client:
        invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=SHOP)
        malformed = await client.post("/graphql", content=b"{", headers=graphql_response)
        anonymous = await client.post("/graphql", json=QUERY)

    assert invalid.status_code == 200
    assert invalid.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert invalid.headers["ratelimit"] == '"shop";r=2;t=20'
    assert malformed.status_code == 400
    assert malformed.headers["ratelimit"] == '"shop";r=1;t=20'
    # A client without a limit is told of none.
    assert anonymous.status_code == 200
    assert "ratelimit" not in anonymous.headers
    assert "ratelimit-policy" not in anonymous.headers


async def test_a_refusal_over_graphql_response_json_is_429_too(clock: SettableClock) -> None:
    headers = {"accept": "application/graphql-response+json", **SHOP}
    async with gateway(settings(), clock) as client:
        for _ in range(3):
            await client.post("/graphql", json=QUERY, headers=headers)
        refused = await client.post("/graphql", json=QUERY, headers=headers)

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/graphql-response+json")
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_anonymous_callers_are_limited_each_by_their_own_address(
    clock: SettableClock,
) -> None:
    limited = settings(anonymous={"rate_limit": {"quota": 2, "window": 60}})
    async with (
        gateway(limited, clock, peer="192.0.2.10") as scraper,
        gateway(limited, clock, peer="192.0.2.20") as shopper,
    ):
        # Two gateways with their own counts: the second shows the address is the key.
        scraped = [await scraper.post("/graphql", json=QUERY) for _ in range(3)]
        shopped = await shopper.post("/graphql", json=QUERY)

    assert [r.status_code for r in scraped] == [200, 200, 429]
    assert scraped[0].headers["ratelimit-policy"] == '"anonymous";q=2;w=60'
    assert shopped.status_code == 200


async def test_one_gateway_limits_each_anonymous_address_apart(clock: SettableClock) -> None:
    limited = settings(anonymous={"rate_limit": {"quota": 1, "window": 60}})
    async with gateway(limited, clock, peer="192.0.2.10") as client:
        first = await client.post("/graphql", json=QUERY)
        second = await client.post("/graphql", json=QUERY)
        # Not believed: the peer is not a trusted proxy.
        spoofed = await client.post(
            "/graphql", json=QUERY, headers={"x-forwarded-for": "198.51.100.7"}
        )
        # An authenticated client spends its own quota, not the address's.
        shop = await client.post("/graphql", json=QUERY, headers=SHOP)

    assert [first.status_code, second.status_code, spoofed.status_code] == [200, 429, 429]
    assert shop.status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(
    clock: SettableClock,
) -> None:
    limited = settings(
        anonymous={"rate_limit": {"quota": 1, "window": 60}}, trusted_proxies=["10.0.0.0/8"]
    )
    async with gateway(limited, clock, peer="10.1.2.3") as proxy:
        one = await proxy.post("/graphql", json=QUERY, headers={"x-forwarded-for": "192.0.2.5"})
        # The caller wrote the left entry itself; the proxy appended the one it saw.
        other = await proxy.post(
            "/graphql", json=QUERY, headers={"x-forwarded-for": "192.0.2.5, 192.0.2.6"}
        )
        one_again = await proxy.post(
            "/graphql", json=QUERY, headers={"x-forwarded-for": "192.0.2.6, 192.0.2.5"}
        )

    assert [one.status_code, other.status_code, one_again.status_code] == [200, 200, 429]


async def test_without_redis_the_gateway_limits_on_its_own_and_says_so_once(
    clock: SettableClock, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on port 1: every connection is refused at once.
    with caplog.at_level(logging.WARNING, logger="gateway.quotas"):
        async with gateway(settings(), clock, redis_url="redis://127.0.0.1:1/0") as client:
            answers = [await client.post("/graphql", json=QUERY, headers=SHOP) for _ in range(4)]

    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit"] == '"shop";r=2;t=20'
    outages = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(outages) == 1
