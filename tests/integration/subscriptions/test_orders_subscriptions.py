"""Orders' subscriptions over a real graphql-transport-ws socket, on the in-process bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.orders import commands, service
from domains.orders.app import create_app
from domains.orders.bootstrap import OrdersDomain
from tests.integration.orders.conftest import make_order
from tests.integration.subscriptions.conftest import RuntimeFactory
from tests.live_subscriptions import serving_over_tcp, subscribers_reach, ws_client

STATUS = """subscription ($id: ID!) {
  orderStatusChanged(orderId: $id) { kind orderId status previousStatus order { id status } }
}"""

AT_LOCATION = """subscription ($loc: ID!, $statuses: [OrderStatus!]) {
  ordersAtLocation(locationId: $loc, statuses: $statuses) {
    kind number status order { fulfilment { locationId } }
  }
}"""


@pytest.fixture
async def live(
    engine: AsyncEngine, make_runtime: RuntimeFactory
) -> AsyncIterator[tuple[str, OrdersDomain]]:
    app = create_app(make_runtime(), engine=engine)
    async with serving_over_tcp(app) as base_url:
        yield base_url, app.state.domain


async def test_order_status_changed_follows_one_order_through_its_statuses(
    live: tuple[str, OrdersDomain],
) -> None:
    base_url, domain = live
    order = await make_order(domain)
    other = await make_order(domain)
    async with ws_client(base_url) as client:
        await client.subscribe("s", STATUS, {"id": order.id})
        await subscribers_reach(domain.runtime.hub, 1)
        await service.change_order(domain.uow(), other.id, commands.Confirm())
        await service.change_order(domain.uow(), order.id, commands.Confirm())
        await service.change_order(domain.uow(), order.id, commands.Cancel(reason="customer asked"))
        first = (await client.next_data("s"))["orderStatusChanged"]
        second = (await client.next_data("s"))["orderStatusChanged"]
    assert first["orderId"] == order.id
    assert (first["kind"], first["previousStatus"], first["status"]) == (
        "STATUS_CHANGED",
        "PENDING",
        "CONFIRMED",
    )
    assert (second["previousStatus"], second["status"]) == ("CONFIRMED", "CANCELLED")
    # The order is read when the event is sent, with loaders of its own per event.
    assert second["order"] == {"id": order.id, "status": "CANCELLED"}


async def test_orders_at_location_sends_new_and_changed_pickup_orders_of_that_store(
    live: tuple[str, OrdersDomain],
) -> None:
    base_url, domain = live
    pickup = {"fulfilment_type": "PICKUP_AT_STORE", "location_id": "STORE-7"}
    async with ws_client(base_url) as client:
        await client.subscribe("all", AT_LOCATION, {"loc": "STORE-7"})
        await client.subscribe(
            "confirmed", AT_LOCATION, {"loc": "STORE-7", "statuses": ["CONFIRMED"]}
        )
        await subscribers_reach(domain.runtime.hub, 2)
        await make_order(domain)  # shipped from a DC: not the store's
        order = await make_order(domain, **pickup)
        await service.change_order(domain.uow(), order.id, commands.Confirm())
        created = (await client.next_data("all"))["ordersAtLocation"]
        changed = (await client.next_data("all"))["ordersAtLocation"]
        confirmed = (await client.next_data("confirmed"))["ordersAtLocation"]
    assert created == {
        "kind": "CREATED",
        "number": order.number,
        "status": "PENDING",
        "order": {"fulfilment": {"locationId": "STORE-7"}},
    }
    assert (changed["kind"], changed["status"]) == ("STATUS_CHANGED", "CONFIRMED")
    assert confirmed == changed
