"""Checkout's ports (domains/orders/checkout.py) over the internal endpoints of the
pricing and inventory subgraphs (``/internal/quote``; ``/internal/location``,
``/internal/reserve`` and ``/internal/release``: domains/pricing/internal.py,
domains/inventory/internal.py), in process or over HTTP: plain JSON, each one service
call on the peer, where a GraphQL operation cost the peer a whole execution.

Their errors keep the code the peer gave (INSUFFICIENT_STOCK, UNKNOWN_SKU,
PRICE_NOT_FOUND, ...); a peer that cannot be asked, or that failed, is
SERVICE_UNAVAILABLE.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.types import ASGIApp

from adapters.graphql.internal import MALFORMED, TOO_LARGE
from adapters.graphql.internal_client import InternalClient, RemoteError, RemoteUnavailable
from domains.orders.checkout import (
    CheckoutRefused,
    CheckoutUnavailable,
    Place,
    QuotedLine,
    RequestedLine,
    Reserved,
    StockLine,
)
from kernel.keys import reservation_key

LOCATION_TTL = 60.0
MAX_LOCATIONS = 10_000

# Codes that mean the call was not what the peer takes: the two sides disagree on the
# contract, which is no fault of the checkout's.
_BROKEN = {MALFORMED, TOO_LARGE}


class _Peer:
    def __init__(self, name: str, peer: str | ASGIApp | None) -> None:
        self.name = name
        self._client = None if peer is None else InternalClient(peer)

    async def call(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        if self._client is None:
            raise CheckoutUnavailable(f"checkout cannot reach {self.name}: it is not configured")
        try:
            # Every call checkout makes is a read or keyed by the checkout's key.
            return await self._client.call(endpoint, body, idempotent=True)
        except RemoteUnavailable as error:
            raise CheckoutUnavailable(f"{self.name} is unavailable ({error})") from None
        except RemoteError as error:
            if error.broken or error.code in _BROKEN:
                raise CheckoutUnavailable(f"{self.name} failed: {error.message}") from None
            raise CheckoutRefused(error.message, code=error.code, **error.details) from None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


class SubgraphPricing(_Peer):
    def __init__(self, peer: str | ASGIApp | None) -> None:
        super().__init__("pricing", peer)

    async def quote(
        self,
        lines: Sequence[RequestedLine],
        *,
        channel: str,
        currency: str,
        region: str,
        location: str,
    ) -> list[QuotedLine]:
        data = await self.call(
            "quote",
            {
                "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
                "channel": channel,
                "currency": currency,
                "region": region,
                "location": location,
            },
        )
        try:
            return [
                QuotedLine(
                    sku=line["sku"],
                    quantity=int(line["quantity"]),
                    unit_price=Decimal(line["unitBase"]),
                    line_total=Decimal(line["lineTotal"]),
                    tax_rate=Decimal(line["taxRate"]),
                )
                for line in data["lines"]
            ]
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise CheckoutUnavailable(f"pricing gave an unreadable quote: {error}") from None


class SubgraphStock(_Peer):
    def __init__(self, peer: str | ASGIApp | None) -> None:
        super().__init__("inventory", peer)
        # Locations change rarely; each is asked for once a minute at most.
        self._places: dict[str, tuple[float, Place | None]] = {}

    async def location(self, location_id: str) -> Place | None:
        now = time.monotonic()
        known = self._places.get(location_id)
        if known is not None and now - known[0] < LOCATION_TTL:
            return known[1]
        found = (await self.call("location", {"id": location_id})).get("location")
        try:
            place = (
                Place(found["region"], found["kind"], tuple(found["channels"]))
                if isinstance(found, dict)
                else None
            )
        except (KeyError, TypeError) as error:
            raise CheckoutUnavailable(f"inventory gave an unreadable location: {error}") from None
        if len(self._places) >= MAX_LOCATIONS:
            self._places.clear()
        self._places[location_id] = (now, place)
        return place

    async def reserve(
        self, key: str, lines: Sequence[StockLine], *, order_reference: str, channel: str
    ) -> list[Reserved]:
        data = await self.call(
            "reserve",
            {
                "idempotencyKey": key,
                "orderReference": order_reference,
                "channel": channel,
                "lines": [
                    {"sku": line.sku, "locationId": line.location_id, "quantity": line.quantity}
                    for line in lines
                ],
            },
        )
        try:
            return [Reserved(r["idempotencyKey"], r["status"]) for r in data["reservations"]]
        except (KeyError, TypeError) as error:
            raise CheckoutUnavailable(f"inventory gave unreadable reservations: {error}") from None

    async def release(self, key: str, count: int) -> None:
        for number in range(1, count + 1):
            try:
                await self.call("release", {"idempotencyKey": reservation_key(key, number)})
            except CheckoutRefused as refused:
                if refused.code != "RESERVATION_NOT_FOUND":
                    raise


class SubgraphCheckout:
    """Both ports, reaching the peers the runtime names (``Runtime.subgraphs``)."""

    def __init__(self, peers: Mapping[str, str | ASGIApp]) -> None:
        self.pricing = SubgraphPricing(peers.get("pricing"))
        self.stock = SubgraphStock(peers.get("inventory"))

    async def aclose(self) -> None:
        await self.pricing.aclose()
        await self.stock.aclose()
