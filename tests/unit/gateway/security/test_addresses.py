"""Anonymous callers are limited by their address: the socket's peer, or past trusted
proxies the address they forwarded; IPv6 per /64."""

from __future__ import annotations

import pytest

from gateway.security.addresses import UNKNOWN, TrustedProxies, caller_address

PROXIES = TrustedProxies(["10.0.0.0/8", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.1", None, TrustedProxies(), "192.0.2.1"),
        ("192.0.2.1", "198.51.100.1", TrustedProxies(), "192.0.2.1"),
        ("192.0.2.1", "198.51.100.1", PROXIES, "192.0.2.1"),
        ("10.0.0.5", "198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.1", PROXIES, "198.51.100.1"),
        ("10.0.0.5", "198.51.100.1, 10.0.0.9", PROXIES, "198.51.100.1"),
        ("10.0.0.5", None, PROXIES, "10.0.0.5"),
        (None, None, TrustedProxies(), UNKNOWN),
        ("2001:db8:1:2:3:4:5:6", None, TrustedProxies(), "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", None, TrustedProxies(), "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", None, TrustedProxies(), "192.0.2.7"),
        ("fd00::1", "2001:db8::9", PROXIES, "2001:db8::/64"),
    ],
)
def test_the_address_a_caller_is_limited_by(
    peer: str | None, forwarded: str | None, trusted: TrustedProxies, expected: str
) -> None:
    assert caller_address(peer, forwarded, trusted) == expected


def test_a_forwarded_entry_that_is_no_address_is_kept_as_written() -> None:
    assert caller_address("10.0.0.5", "unknown-host", PROXIES) == "unknown-host"
