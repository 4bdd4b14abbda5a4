"""Subgraph requests go through the configured forward proxy, unless NO_PROXY exempts
the subgraph's host."""

from __future__ import annotations

import pytest

from gateway.executor.network import Proxies

PROXIES = Proxies(
    http="http://proxy.internal:3128",
    https="http://tls-proxy.internal:3128",
    no_proxy="localhost, .cluster.local,inventory",
)


@pytest.mark.parametrize(
    ("url", "proxy"),
    [
        ("http://pricing.example.com/graphql", "http://proxy.internal:3128"),
        ("https://pricing.example.com/graphql", "http://tls-proxy.internal:3128"),
        ("http://localhost:4002/graphql", None),
        ("http://orders.svc.cluster.local/graphql", None),
        ("http://cluster.local/graphql", None),
        ("http://inventory:4003/graphql", None),
        ("http://inventory-eu:4003/graphql", "http://proxy.internal:3128"),
    ],
)
def test_a_subgraph_url_goes_through_its_schemes_proxy_unless_exempt(
    url: str, proxy: str | None
) -> None:
    assert PROXIES.for_url(url) == proxy


def test_no_proxy_star_exempts_every_host_and_no_proxy_configured_means_direct() -> None:
    assert Proxies(http="http://p:1", no_proxy="*").for_url("http://a/graphql") is None
    assert Proxies().for_url("https://a/graphql") is None
