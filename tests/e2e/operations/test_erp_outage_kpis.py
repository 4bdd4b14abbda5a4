"""Scenario 7, ERP outage at peak, as operators watch it: the business KPIs in the
process's registry and each waiting order's erpSync, through `retailgraph run`'s app.

Orders are placed while the simulated ERP is down: the backlog and its age rise, and
every waiting order says why it waits and when it is tried next. The ERP comes back: the
backlog drains to zero and the orders are posted. A repeated placeOrder and an operator's
replay are counted.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from tests.e2e.operations.support import (
    AS_OPERATOR,
    AS_STOREFRONT,
    Caller,
    backlog,
    until,
    value,
)
from tests.support import TEST_NOW

PLACE_ORDER = """
mutation Place($key: String!) {
  placeOrder(input: {
    idempotencyKey: $key, channel: "web", customerReference: "kpis"
    fulfilment: { type: SHIP_FROM_DC, locationId: "DC-NORTH" }
    lines: [{ sku: "ST-0002-01", quantity: 1 }]
  }) { created order { id } }
}
"""
ERP_SYNC = """
query ($id: ID!) {
  order(id: $id) { erpSync { status attempts lastError nextAttemptAt erpDocumentId } }
}
"""
REPLAY = "mutation ($id: ID!) { replayErpSync(orderId: $id) { replayed } }"


class Operator(Caller):
    async def place(self, key: str) -> dict[str, Any]:
        placed: dict[str, Any] = (await self.post(PLACE_ORDER, AS_STOREFRONT, key=key))[
            "placeOrder"
        ]
        return placed

    async def erp_sync(self, order_id: str) -> dict[str, Any]:
        sync: dict[str, Any] = (await self.post(ERP_SYNC, AS_OPERATOR, id=order_id))["order"][
            "erpSync"
        ]
        return sync


@pytest.fixture
def system(embedded: tuple[Caller, Any]) -> tuple[Operator, Any]:
    caller, app = embedded
    return Operator(caller.client), app


async def test_an_erp_outage_shows_in_the_kpis_and_on_each_waiting_order(
    system: tuple[Operator, Any],
) -> None:
    operator, app = system
    erp = app.state.erp
    await until(lambda: backlog() == 0, "the demo orders to reach the ERP")
    erp.outage = True
    try:
        await _outage_and_drain(operator, erp)
    finally:
        erp.outage = False  # the module's system is shared: the next test needs the ERP up


async def _outage_and_drain(operator: Operator, erp: Any) -> None:
    orders = [(await operator.place(f"kpis-{uuid.uuid4()}"))["order"]["id"] for _ in range(8)]

    async def all_waiting_with_a_reason() -> bool:
        syncs = [await operator.erp_sync(order_id) for order_id in orders]
        return all(
            s["status"] == "PENDING" and s["lastError"] and s["nextAttemptAt"] for s in syncs
        )

    await until(all_waiting_with_a_reason, "every order to show why it waits")
    sync = await operator.erp_sync(orders[-1])
    assert "ERP" in sync["lastError"]
    assert datetime.fromisoformat(sync["nextAttemptAt"]) >= TEST_NOW
    # The gauges are read every interval, so they may trail the orders by one read.
    await until(lambda: backlog() == 8, "the backlog gauge to count the 8 waiting orders")
    await until(lambda: value("retailgraph_erp_backlog_oldest_seconds") > 0.5, "the age to rise")
    assert (
        value("retailgraph_erp_errors_total", operation="post_sales_order", reason="unavailable")
        >= 5
    )

    erp.outage = False
    await until(lambda: backlog() == 0, "the backlog to drain")
    assert value("retailgraph_erp_backlog_oldest_seconds") == 0
    for order_id in orders:
        sync = await operator.erp_sync(order_id)
        assert sync["status"] == "POSTED"
        assert (sync["lastError"], sync["nextAttemptAt"]) == (None, None)
        assert sync["erpDocumentId"]


async def test_a_repeated_order_and_a_replay_are_counted(system: tuple[Operator, Any]) -> None:
    operator, app = system
    duplicates = value(
        "retailgraph_duplicate_requests_total", operation="placeOrder", channel="web"
    )
    replays = value("retailgraph_replays_total", kind="sale")
    key = f"kpis-{uuid.uuid4()}"
    first = await operator.place(key)
    again = await operator.place(key)
    assert (first["created"], again["created"]) == (True, False)
    assert (
        value("retailgraph_duplicate_requests_total", operation="placeOrder", channel="web")
        == duplicates + 1
    )

    # The ERP refused the sale for good (an operator fixes the cause, then replays it).
    order_id = first["order"]["id"]
    await until(lambda: operator.erp_sync(order_id), "the order's posting to exist")
    async with app.state.domains["orders"].engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE orders_erp_postings SET status = 'dead_lettered', lease_owner = NULL,"
                " last_error = 'Unknown product' WHERE order_id = :id"
            ),
            {"id": order_id},
        )
    await until(lambda: value("retailgraph_erp_dead_letters", kind="sale") == 1, "the dead letter")
    replayed = await operator.post(REPLAY, AS_OPERATOR, id=order_id)
    assert replayed == {"replayErpSync": {"replayed": 1}}
    assert value("retailgraph_replays_total", kind="sale") == replays + 1

    async def posted() -> bool:
        return (await operator.erp_sync(order_id))["status"] == "POSTED"

    await until(posted, "the replayed sale to be posted")
    await until(lambda: value("retailgraph_erp_dead_letters", kind="sale") == 0, "no dead letter")
