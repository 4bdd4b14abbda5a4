"""The operators' console in Debian's Chromium, against the embedded system (demo
retailer, ERP simulator, worker) served on a real port.

The ERP is down, so orders queue; one posted order's sale is dead-lettered as an ERP
refusal would leave it. The console shows the backlog and the dead letter, a new pickup
order appears live in the store view (also across a dropped connection, once), and the
Replay button sends the dead letter back to the queue. The page loads nothing from any
other origin. A screenshot is taken on the way; to refresh the README's, run the test with
``CONSOLE_SCREENSHOT=docs/console.png``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.db.engine import create_engine
from domains.inventory.model import Divergence, DivergenceCause
from domains.inventory.service import record_reconciliation
from domains.inventory.uow import InventoryUnitOfWork
from domains.orders.tables import erp_postings
from gateway.settings import GatewaySettings
from kernel.clock import SystemClock
from retailgraph.demo.catalog import demo_catalog
from retailgraph.domains import DOMAINS
from retailgraph.embedded import DEMO_KEYS, NEWCOMER, create_app
from tests.e2e.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.e2e.gateway.threaded import serving_in_thread
from tests.support import local_runtime

STORE = "STORE-BERLIN"
AS_OPERATOR = {"X-API-Key": DEMO_KEYS["operator"]}
AS_STOREFRONT = {"X-API-Key": DEMO_KEYS["storefront"]}
PLACE_ORDER = """
mutation ($key: String!, $type: FulfilmentType!, $at: ID!, $sku: ID!) {
  placeOrder(input: {
    idempotencyKey: $key, channel: "web", customerReference: "console"
    fulfilment: { type: $type, locationId: $at }
    lines: [{ sku: $sku, quantity: 1 }]
  }) { order { id number } }
}
"""
WAIT_MS = 30_000


class System:
    def __init__(self, url: str, app: Any, databases: dict[str, str]) -> None:
        self.url = url
        self.app = app
        self.orders_database = databases["orders"]
        self.inventory_database = databases["inventory"]

    def place(self, fulfilment: str, location: str, sku: str) -> dict[str, str]:
        variables = {"key": f"console-{uuid.uuid4()}", "type": fulfilment, "at": location}
        answer = httpx.post(
            f"{self.url}/graphql",
            json={"query": PLACE_ORDER, "variables": {**variables, "sku": sku}},
            headers=AS_STOREFRONT,
            timeout=30,
        ).json()
        assert "errors" not in answer, answer
        order: dict[str, str] = answer["data"]["placeOrder"]["order"]
        return order


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The embedded system as `retailgraph run` builds it, its console reading the KPIs
    every second."""
    folder = tmp_path_factory.mktemp("console")
    urls = {name: f"sqlite+aiosqlite:///{folder / name}.db" for name in DOMAINS}
    settings = GatewaySettings.model_validate({**NEWCOMER, "console": {"kpi_interval": 1}})
    app = create_app(local_runtime(**urls), settings=settings, kpi_interval=0.5)
    with serving_in_thread(app, lifespan="on", startup_timeout=120) as url:
        assert httpx.get(f"{url}/ready", timeout=10).status_code == 200
        yield System(url, app, urls)


@pytest.fixture
async def orders_database(system: System) -> AsyncIterator[Any]:
    engine = create_engine(system.orders_database)
    yield engine
    await engine.dispose()


def _stocked_at_the_store() -> str:
    return next(
        row.sku for row in demo_catalog().stock if row.location_id == STORE and row.on_hand >= 20
    )


async def _reconciled_with_one_divergence(system: System, sku: str) -> None:
    """A stored reconciliation that found the ERP with 5 more of ``sku`` at the store."""
    engine = create_engine(system.inventory_database)
    try:
        uow = InventoryUnitOfWork(async_sessionmaker(engine), clock=SystemClock())
        divergence = Divergence(sku, STORE, 25, 20, 0, 0, DivergenceCause.UNEXPLAINED)
        await record_reconciliation(uow, 120, [divergence])
    finally:
        await engine.dispose()


async def _dead_letter_a_posted_sale(engine: Any) -> str:
    """One posted sale, dead-lettered as an ERP refusal leaves it; returns its order id."""
    async with engine.begin() as conn:
        seq, order_id = (
            await conn.execute(
                select(erp_postings.c.seq, erp_postings.c.order_id)
                .where(erp_postings.c.status == "posted", erp_postings.c.kind == "sale")
                .order_by(erp_postings.c.seq)
                .limit(1)
            )
        ).one()
        await conn.execute(
            update(erp_postings)
            .where(erp_postings.c.seq == seq)
            .values(
                status="dead_lettered",
                attempts=1,
                last_error="The ERP refused the order: unknown product ST-9999-99",
            )
        )
    return str(order_id)


async def _status_of(engine: Any, order_id: str) -> str:
    async with engine.connect() as conn:
        return str(
            (
                await conn.execute(
                    select(erp_postings.c.status).where(
                        erp_postings.c.order_id == order_id, erp_postings.c.kind == "sale"
                    )
                )
            ).scalar_one()
        )


async def test_the_console_shows_the_erp_queue_a_live_store_and_replays_a_dead_letter(
    system: System, orders_database: Any, tmp_path: Path
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    system.app.state.erp.outage = True
    sku = _stocked_at_the_store()
    for _ in range(3):
        system.place("SHIP_FROM_DC", "DC-NORTH", sku)
    dead_order = await _dead_letter_a_posted_sale(orders_database)
    await _reconciled_with_one_divergence(system, sku)
    requested: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("request", lambda request: requested.append(request.url))
            page.on("websocket", lambda socket: requested.append(socket.url))
            await page.add_init_script(
                f"sessionStorage.setItem('retailgraph.console.store', {json.dumps(STORE)})"
            )
            await page.goto(f"{system.url}/console")
            await page.fill("#credential", DEMO_KEYS["operator"])
            await page.click("#signin button[type=submit]")

            # The newest reconciliation's divergence, with its likely cause.
            divergence = page.locator(f"#reconciliation tr:has-text('{sku}')")
            await divergence.wait_for(timeout=WAIT_MS)
            assert "UNEXPLAINED" in (await divergence.inner_text()).upper()

            # The backlog the outage built, and the dead letter with its reason.
            backlog = page.locator("[data-testid=backlog]")
            await backlog.wait_for(timeout=WAIT_MS)
            assert int(await backlog.inner_text()) >= 3
            dead_row = page.locator(f"#dead-letters tr[data-order='{dead_order}']")
            await dead_row.wait_for(timeout=WAIT_MS)
            assert "unknown product" in await dead_row.inner_text()
            await page.locator("#backlog-plot canvas").wait_for(timeout=WAIT_MS)

            # A pickup order placed now appears in the store view, without a reload.
            await page.locator("#store-connection.live").wait_for(timeout=WAIT_MS)
            pickup = system.place("PICKUP_AT_STORE", STORE, sku)
            await page.locator(f"#store-orders tr[data-number='{pickup['number']}']").wait_for(
                timeout=WAIT_MS
            )
            await page.locator(f"#store-stock tr[data-sku='{sku}']").wait_for(timeout=WAIT_MS)

            # The connection drops; an order placed meanwhile arrives once it is back.
            await page.evaluate("window.retailgraphConsole.socket.drop()")
            during = system.place("PICKUP_AT_STORE", STORE, sku)
            await page.locator(f"#store-orders tr[data-number='{during['number']}']").wait_for(
                timeout=WAIT_MS
            )
            await page.locator("#store-connection.live").wait_for(timeout=WAIT_MS)
            assert (
                await page.locator(f"#store-orders tr[data-number='{during['number']}']").count()
                == 1
            )
            assert await page.evaluate("window.retailgraphConsole.socket.reconnects") >= 1
            await page.locator("#lag-plot canvas").wait_for(timeout=WAIT_MS)

            screenshot = os.environ.get("CONSOLE_SCREENSHOT") or tmp_path / "console.png"
            await page.screenshot(path=str(screenshot), full_page=True)

            # Replay: the dead letter goes back to the queue and off the list.
            async with page.expect_response(
                lambda response: "ConsoleReplay" in (response.request.post_data or "")
            ) as replayed:
                await dead_row.locator("button").click()
            answer = await (await replayed.value).json()
            await dead_row.wait_for(state="detached", timeout=WAIT_MS)
            navigations = await page.evaluate("performance.getEntriesByType('navigation').length")
        finally:
            await browser.close()
            system.app.state.erp.outage = False

    assert answer["data"]["replayErpSync"]["replayed"] == 1
    assert await _status_of(orders_database, dead_order) in ("pending", "in_progress", "posted")
    assert navigations == 1
    origin = system.url.split("://", 1)[1]
    assert requested
    assert all(url.split("://", 1)[1].startswith(origin + "/") for url in requested), requested


def test_the_console_page_holds_no_data_and_its_kpis_need_the_operator(system: System) -> None:
    page = httpx.get(f"{system.url}/console", timeout=10)
    operators_page = httpx.get(f"{system.url}/console", headers=AS_OPERATOR, timeout=10)
    anonymous = httpx.get(f"{system.url}/console/kpis", timeout=10)
    storefront = httpx.get(f"{system.url}/console/kpis", headers=AS_STOREFRONT, timeout=10)
    operator = httpx.get(f"{system.url}/console/kpis", headers=AS_OPERATOR, timeout=10)

    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.text == operators_page.text
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert storefront.status_code == 403
    assert storefront.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"
    assert operator.status_code == 200
    latest = operator.json()["latest"]
    assert set(latest["erpBacklog"]) == {"sale", "cancellation", "return"}
    assert latest["eventLag"]
    assert "orders" in latest["outboxDepth"]
