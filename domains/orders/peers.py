"""Checkout's ports (domains/orders/checkout.py) over GraphQL: pricing's ``quote`` and
inventory's ``reserveStockLines``/``releaseReservation``, in process or over HTTP.

Their errors keep the code the peer gave (INSUFFICIENT_STOCK, UNKNOWN_SKU,
PRICE_NOT_FOUND, ...); a peer that cannot be asked is SERVICE_UNAVAILABLE.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.types import ASGIApp

from adapters.graphql.client import GraphQLClient, RemoteError, RemoteUnavailable
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

QUOTE = """
query CheckoutQuote(
  $lines: [QuoteLineInput!]!, $channel: String!, $currency: String!, $region: String,
  $location: String
) {
  quote(lines: $lines, channel: $channel, currency: $currency, region: $region,
        location: $location) {
    lines { sku quantity unitBase { amount } lineTotal { amount } taxRate }
  }
}
"""

LOCATION = """
query CheckoutLocation($id: ID!) { location(id: $id) { region kind channels } }
"""

RESERVE = """
mutation CheckoutReserve($input: ReserveStockLinesInput!) {
  reserveStockLines(input: $input) { idempotencyKey status }
}
"""

RELEASE = """
mutation CheckoutRelease($key: String!) {
  releaseReservation(input: { idempotencyKey: $key }) { status }
}
"""

LOCATION_TTL = 60.0
MAX_LOCATIONS = 10_000

# Codes that mean the peer broke, not that the checkout was wrong.
_BROKEN = {"INTERNAL_SERVER_ERROR", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}


class _Peer:
    def __init__(self, name: str, peer: str | ASGIApp | None) -> None:
        self.name = name
        self._client = None if peer is None else GraphQLClient(peer)

    async def call(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        if self._client is None:
            raise CheckoutUnavailable(f"checkout cannot reach {self.name}: it is not configured")
        try:
            # Every call checkout makes is a query or keyed by the checkout's key.
            return await self._client.execute(query, variables, idempotent=True)
        except RemoteUnavailable as error:
            raise CheckoutUnavailable(f"{self.name} is unavailable ({error})") from None
        except RemoteError as error:
            if error.code in _BROKEN:
                raise CheckoutUnavailable(f"{self.name} failed: {error.message}") from None
            details = {k: v for k, v in error.extensions.items() if k != "code"}
            raise CheckoutRefused(error.message, code=error.code, **details) from None

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
            QUOTE,
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
                    unit_price=Decimal(line["unitBase"]["amount"]),
                    line_total=Decimal(line["lineTotal"]["amount"]),
                    tax_rate=Decimal(line["taxRate"]),
                )
                for line in data["quote"]["lines"]
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
        found = (await self.call(LOCATION, {"id": location_id})).get("location")
        place = (
            Place(found["region"], found["kind"], tuple(found["channels"]))
            if isinstance(found, dict)
            else None
        )
        if len(self._places) >= MAX_LOCATIONS:
            self._places.clear()
        self._places[location_id] = (now, place)
        return place

    async def reserve(
        self, key: str, lines: Sequence[StockLine], *, order_reference: str, channel: str
    ) -> list[Reserved]:
        data = await self.call(
            RESERVE,
            {
                "input": {
                    "idempotencyKey": key,
                    "orderReference": order_reference,
                    "channel": channel,
                    "lines": [
                        {"sku": line.sku, "locationId": line.location_id, "quantity": line.quantity}
                        for line in lines
                    ],
                }
            },
        )
        return [Reserved(r["idempotencyKey"], r["status"]) for r in data["reserveStockLines"]]

    async def release(self, key: str, count: int) -> None:
        for number in range(1, count + 1):
            try:
                await self.call(RELEASE, {"key": reservation_key(key, number)})
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
