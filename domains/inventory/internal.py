"""Inventory's internal endpoints (``adapters/graphql/internal.py``): what checkout asks
of it, each the service call its GraphQL field makes, with the same refusals.

- ``POST /internal/location`` ``{"id"}``: ``{"location": {"region", "kind", "channels"}}``,
  or ``{"location": null}`` when there is no such location.
- ``POST /internal/reserve`` ``{"idempotencyKey", "orderReference", "channel", "lines":
  [{"sku", "locationId", "quantity"}]}``: every line held or none, line n under
  ``<idempotencyKey>:<n>`` (as ``reserveStockLines``); ``{"reservations":
  [{"idempotencyKey", "status"}]}``. Refusals: ``INSUFFICIENT_STOCK``, ``INVALID_LINES``...
- ``POST /internal/release`` ``{"idempotencyKey"}``: the reservation given back (as
  ``releaseReservation``); ``{"status"}``, or ``RESERVATION_NOT_FOUND``.
"""

from __future__ import annotations

from typing import Any

from adapters.db.engine import one_statement
from adapters.graphql.internal import (
    Call,
    InternalEndpoint,
    objects,
    optional_text,
    text,
    whole_number,
)
from domains.inventory import model, repository, service
from domains.inventory.bootstrap import InventoryDomain
from kernel.keys import reservation_key


async def location(call: Call) -> dict[str, Any]:
    domain: InventoryDomain = call.domain
    location_id = text(call.body, "id")
    if not model.is_text(location_id, 64):
        return {"location": None}
    async with one_statement(domain.engine) as conn:
        found = await repository.load_locations(conn, ids=[location_id])
    if not found:
        return {"location": None}
    place = found[0]
    return {
        "location": {"region": place.region, "kind": place.kind, "channels": list(place.channels)}
    }


async def reserve(call: Call) -> dict[str, Any]:
    domain: InventoryDomain = call.domain
    body = call.body
    key = text(body, "idempotencyKey")
    order_reference = optional_text(body, "orderReference")
    channel = optional_text(body, "channel")
    lines = objects(body, "lines", at_most=service.MAX_LINES, code="INVALID_LINES")
    requests = [
        service.ReservationRequest(
            sku=text(line, "sku"),
            location_id=text(line, "locationId"),
            quantity=whole_number(line, "quantity"),
            idempotency_key=reservation_key(key, number),
            order_reference=order_reference,
            channel=channel,
        )
        for number, line in enumerate(lines, start=1)
    ]
    reservations = await domain.reservations.reserve(requests)
    now = domain.clock.now()
    return {
        "reservations": [
            {"idempotencyKey": r.idempotency_key, "status": str(r.status_at(now))}
            for r in reservations
        ]
    }


async def release(call: Call) -> dict[str, Any]:
    domain: InventoryDomain = call.domain
    released = await service.release_reservation(
        domain.uow(), idempotency_key=text(call.body, "idempotencyKey")
    )
    return {"status": str(released.status_at(domain.clock.now()))}


ENDPOINTS = [
    InternalEndpoint("location", location),
    InternalEndpoint("reserve", reserve),
    InternalEndpoint("release", release),
]
