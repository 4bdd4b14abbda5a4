"""Which address a request comes from, for the limits of callers without credentials.

Anonymous callers are limited per address, not as one client: one scraper must not spend
the quota of every shopper reading the catalogue. The address is the socket's peer, unless
that peer is a proxy the operator trusts (``[gateway] trusted_proxies``); then it is the
right-most ``X-Forwarded-For`` entry that is not itself a trusted proxy. Entries left of
that one are whatever the caller wrote, so they are never believed.

An IPv6 caller is limited per /64: a home or a cloud instance is handed a whole /64, so
one caller could otherwise take a fresh address, and a fresh quota, per request.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

# Where the ASGI server names no peer (a Unix socket, an in-process test client).
UNKNOWN = "unknown"

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The networks whose ``X-Forwarded-For`` is believed; none by default."""

    def __init__(self, networks: Iterable[str] = ()) -> None:
        self._networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(network, strict=False) for network in networks
        )

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self._networks)


def caller_address(peer: str | None, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The address to limit a caller by, from its socket ``peer`` and the
    ``X-Forwarded-For`` header (believed only past ``trusted`` proxies)."""
    address = peer or UNKNOWN
    if trusted and forwarded_for and trusted.trusts(address):
        for hop in reversed(forwarded_for.split(",")):
            address = hop.strip()
            if not trusted.trusts(address):
                break
    return _per_network(address)


def _per_network(address: str) -> str:
    if ":" not in address:
        return address  # IPv4, or a name: as it is, with nothing to parse
    try:
        parsed = ipaddress.IPv6Address(address.strip("[]"))
    except ValueError:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.IPv6Network((parsed, 64), strict=False))
