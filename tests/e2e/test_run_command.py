"""`retailgraph run` (the README's first command) serves the whole system with demo data."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from retailgraph.demo.catalog import demo_catalog
from retailgraph.embedded import DEMO_KEYS, DEMO_PARTNER_MANIFEST
from tests.e2e.browser import CHROMIUM, CHROMIUM_FLAGS, require_chromium
from tests.e2e.npm import installed

AS_OPERATOR = {"X-API-Key": DEMO_KEYS["operator"]}

PRODUCT_PAGE = """
query ProductPage($sku: ID!) {
  product(sku: $sku) {
    sku name brand category
    price(channel: "web", currency: "EUR") {
      base { amount currency } promotional { amount } appliedPromotions { promotionId name }
    }
    promotions(channel: "web") { id name }
    availability(channel: "web") { available locations { locationId allocated } }
    stock(locationId: "DC-NORTH") { onHand reserved available }
    recentOrders(first: 3) { number status lines { sku } }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("data")
    env = {**os.environ, "RETAILGRAPH_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    command = [sys.executable, "-m", "retailgraph.cli", "run", "--port", str(port)]
    log = data_dir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=Path(__file__).parents[2],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail(f"retailgraph run was not ready within 120 s:\n{log.read_text()}")
        yield base_url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _query(base_url: str, query: str, **variables: Any) -> dict[str, Any]:
    """The answer to ``query`` as the demo's operator, who may run everything."""
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables},
        headers=AS_OPERATOR,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])


def test_run_command_answers_one_query_across_all_four_domains(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    catalog = demo_catalog()
    item = next(i for i in catalog.items if i.category == "outdoor")
    product = _query(base_url, PRODUCT_PAGE, sku=item.sku)["product"]

    assert (product["name"], product["brand"]) == (item.name, item.brand)
    price = product["price"]
    assert Decimal(price["base"]["amount"]) == item.base_prices["EUR"]
    # The demo's active "20% off outdoor" promotion applies on every channel.
    assert "demo-outdoor-20" in {p["promotionId"] for p in price["appliedPromotions"]}
    assert "demo-outdoor-20" in {p["id"] for p in product["promotions"]}
    assert Decimal(price["promotional"]["amount"]) == (
        item.base_prices["EUR"] * Decimal("0.8")
    ).quantize(Decimal("0.01"))

    availability = product["availability"]
    assert availability["available"] == sum(loc["allocated"] for loc in availability["locations"])
    stock = next(s for s in catalog.stock if s.sku == item.sku and s.location_id == "DC-NORTH")
    assert product["stock"]["onHand"] == stock.on_hand
    assert all(
        item.sku in {line["sku"] for line in order["lines"]} for order in product["recentOrders"]
    )


def test_run_command_serves_graphiql_and_each_subgraph(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    page = httpx.get(f"{base_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    # GraphiQL opens holding the storefront's key, never the operator's.
    assert DEMO_KEYS["storefront"] in page.text
    assert DEMO_KEYS["operator"] not in page.text
    sdl = httpx.post(
        f"{base_url}/subgraphs/inventory/graphql",
        json={"query": "{ _service { sdl } }"},
        headers=AS_OPERATOR,
    ).json()["data"]["_service"]["sdl"]
    assert "type Location" in sdl


def test_run_command_subgraphs_are_for_operators_only(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    """A subgraph trusts its caller to have passed the gateway's checks: on the public
    port, only an operator reaches one, never a client that would skip the gateway's
    authorization (an anonymous reservation, a storefront's stock movement)."""
    base_url, _ = server
    release = {
        "query": 'mutation { releaseReservation(input: {idempotencyKey: "k-1"}) { status } }'
    }
    anonymous = httpx.post(f"{base_url}/subgraphs/inventory/graphql", json=release, timeout=30)
    storefront = httpx.post(
        f"{base_url}/subgraphs/inventory/internal/release",
        json={"idempotencyKey": "k-1"},
        headers={"X-API-Key": DEMO_KEYS["storefront"]},
        timeout=30,
    )

    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "CREDENTIALS_REQUIRED"
    assert storefront.status_code == 403
    assert storefront.json()["errors"][0]["extensions"]["code"] == "INSUFFICIENT_SCOPE"


def _readme_query() -> str:
    """The README's first query (the product page across the four domains)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    return readme.split("```graphql\n", 1)[1].split("```", 1)[0]


async def test_graphiql_renders_offline_and_runs_the_readmes_query_in_chromium(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright

    base_url, _ = server
    readme_query = _readme_query()
    sku = readme_query.split('product(sku: "', 1)[1].split('"', 1)[0]
    name = next(item.name for item in demo_catalog().items if item.sku == sku)
    requested: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS
        )
        try:
            page = await browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            # GraphiQL opens with the storefront's key; the README's query reads orders,
            # so it is run with the operator's, as its reader would put in the header
            # editor (GraphiQL keeps the editor's headers in local storage).
            await page.add_init_script(
                "localStorage.setItem('graphiql:headers', "
                + json.dumps(json.dumps(AS_OPERATOR))
                + ")"
            )
            await page.goto(f"{base_url}/graphql")
            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await editor.wait_for(timeout=30_000)
            await page.evaluate(
                "(query) => document.querySelector("
                "'.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query)",
                readme_query,
            )
            # GraphiQL also posts its own introspection query: wait for the README's.
            async with page.expect_response(
                lambda response: (
                    response.request.method == "POST"
                    and response.url.endswith("/graphql")
                    and "ProductPage" in (response.request.post_data or "")
                )
            ) as answered:
                await page.locator(".graphiql-execute-button").click()
            body = await (await answered.value).json()
            # The answer is on screen, with the product's name from products.
            await page.locator(".result-window").get_by_text(name).first.wait_for()
        finally:
            await browser.close()
    assert "errors" not in body
    assert body["data"]["product"]["name"] == name
    assert body["data"]["product"]["recentOrders"]
    assert requested
    assert all(url.startswith(base_url) for url in requested), requested


@pytest.mark.parametrize(
    "query",
    [
        "{ orders(first: 100) { edges { node { lines { product { "
        "recentOrders(first: 50) { number lines { sku } } } } } } } }",
        '{ product(sku: "ST-0002-01") { ' + "variants { sku " * 8 + "}" * 8 + " } }",
    ],
    ids=["orders-times-recent-orders", "variants-of-variants"],
)
def test_run_command_refuses_a_query_whose_lists_multiply_before_asking_anyone(
    server: tuple[str, subprocess.Popen[bytes]], query: str
) -> None:
    base_url, _ = server
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": query},
        headers={"RetailGraph-Expose-Cost": "true", **AS_OPERATOR},
        timeout=30,
    )
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE"
    assert error["extensions"]["cost"]["estimated"] > error["extensions"]["cost"]["max"]

    page = httpx.post(
        f"{base_url}/graphql",
        json={"query": _readme_query()},
        headers={"RetailGraph-Expose-Cost": "true", **AS_OPERATOR},
        timeout=30,
    ).json()
    assert page["extensions"]["cost"]["estimated"] < page["extensions"]["cost"]["max"]


def test_run_command_posts_the_demo_orders_to_the_erp_simulator(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    query = "{ orders(first: 50) { edges { node { erpSync { status erpDocumentId } } } } }"
    deadline = time.monotonic() + 60
    while True:
        edges = _query(base_url, query)["orders"]["edges"]
        syncs = [edge["node"]["erpSync"] for edge in edges]
        if all(sync["status"] == "POSTED" for sync in syncs) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert syncs
    assert {sync["status"] for sync in syncs} == {"POSTED"}
    assert all(sync["erpDocumentId"] for sync in syncs)


RECONCILIATIONS = """{
  inventoryReconciliations(last: 31) {
    ranAt compared divergentPairs divergences { sku locationId erp ours cause }
  }
}"""


def test_run_commands_reconciliation_at_start_finds_the_fresh_demo_in_step_with_its_erp(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    """The demo's stock is one snapshot on both sides and its orders are history the
    simulated ERP records as such, so the scheduled run at start finds nothing to explain."""
    base_url, _ = server
    deadline = time.monotonic() + 60
    while not (runs := _query(base_url, RECONCILIATIONS)["inventoryReconciliations"]):
        assert time.monotonic() < deadline, "no reconciliation ran at start"
        time.sleep(0.25)
    first = min(runs, key=lambda run: run["ranAt"])
    assert first["compared"] >= len(demo_catalog().stock)
    assert (first["divergentPairs"], first["divergences"]) == (0, [])


STOCK_AT_STORE = """
subscription ($sku: ID!) {
  stockChanged(locationId: "STORE-BERLIN", skus: [$sku]) {
    sku stockLevel { onHand } product { name }
  }
}
"""
RECEIVE = """
mutation ($movement: StockMovementInput!) {
  applyStockMovements(movements: [$movement]) { stockLevels { onHand } }
}
"""


async def test_run_command_streams_stock_changes_with_names_from_products(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    item = demo_catalog().items[0]
    websocket_url = base_url.replace("http://", "ws://") + "/graphql"

    def receive_one(line: int) -> int:
        movement = {
            "type": "RECEIPT",
            "sku": item.sku,
            "locationId": "STORE-BERLIN",
            "quantity": 1,
            "sourceDocumentId": f"ASN-RUN-{os.getpid()}",
            "lineNumber": line,
        }
        levels = _query(base_url, RECEIVE, movement=movement)["applyStockMovements"]
        return int(levels["stockLevels"][0]["onHand"])

    async with connect(websocket_url, subprotocols=["graphql-transport-ws"]) as websocket:  # type: ignore[list-item]
        await websocket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await websocket.recv()) == {"type": "connection_ack"}
        payload = {"query": STOCK_AT_STORE, "variables": {"sku": item.sku}}
        await websocket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        # the subscription reaches inventory a moment after the subscribe frame: receive
        # stock until a change comes through
        first_event = None
        for line in range(1, 20):
            on_hand = receive_one(line)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3):
                    first_event = json.loads(await websocket.recv())
                    break
        assert first_event is not None, "no stock change came through"
        on_hand = receive_one(100)
        async with asyncio.timeout(30):
            while True:
                message = json.loads(await websocket.recv())
                change = message["payload"]["data"]["stockChanged"]
                if change["stockLevel"]["onHand"] == on_hand:
                    break

    assert change == {
        "sku": item.sku,
        "stockLevel": {"onHand": on_hand},
        "product": {"name": item.name},
    }


PLACE_ORDER = """
mutation PlaceOrder($key: String!) {
  placeOrder(input: {
    idempotencyKey: $key
    channel: "web"
    fulfilment: { type: SHIP_FROM_DC, locationId: "DC-NORTH" }
    lines: [{ sku: "ST-0002-01", quantity: 2 }]
    customerReference: "readme"
  }) {
    created
    order { number status totals { total { amount currency } } }
  }
}
"""


def test_run_command_places_the_readmes_order_once(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    key = f"readme-{time.time_ns()}"

    first = _query(base_url, PLACE_ORDER, key=key)["placeOrder"]
    again = _query(base_url, PLACE_ORDER, key=key)["placeOrder"]

    assert (first["created"], again["created"]) == (True, False)
    assert first["order"]["number"] == again["order"]["number"]
    assert first["order"]["status"] == "PENDING"
    assert Decimal(first["order"]["totals"]["total"]["amount"]) > 0


REFUSED_TO_ANONYMOUS = [
    'mutation { cancelOrder(id: "%s", idempotencyKey: "not-mine", reason: "not mine") { status } }',
    'mutation { replayErpSync(orderId: "%s") { replayed } }',
    'mutation { importPriceList(currency: "EUR", rows: [{sku: "X-%s", currency: "EUR", '
    'amount: "0.01"}]) { received } }',
]


@pytest.mark.parametrize("mutation", REFUSED_TO_ANONYMOUS, ids=["cancel", "replay", "prices"])
def test_run_command_refuses_back_office_mutations_to_an_anonymous_caller(
    server: tuple[str, subprocess.Popen[bytes]], mutation: str
) -> None:
    base_url, _ = server
    order = _query(base_url, "{ orders(first: 1) { edges { node { id status } } } }")
    node = order["orders"]["edges"][0]["node"]

    refused = httpx.post(
        f"{base_url}/graphql", json={"query": mutation % node["id"]}, timeout=30
    ).json()
    with_a_storefront_key = httpx.post(
        f"{base_url}/graphql",
        json={"query": mutation % node["id"]},
        headers={"X-API-Key": DEMO_KEYS["storefront"]},
        timeout=30,
    ).json()

    for answer in (refused, with_a_storefront_key):
        assert answer["data"] is None
        assert answer["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    after = _query(base_url, "query ($id: ID!) { order(id: $id) { status } }", id=node["id"])
    assert after["order"]["status"] == node["status"]


AS_PARTNER = {"X-API-Key": DEMO_KEYS["partner"]}
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _partner_operations() -> dict[str, str]:
    """The demo partner's manifest: operation name -> document id."""
    manifest = json.loads(DEMO_PARTNER_MANIFEST.read_text())
    return {operation["name"]: operation["id"] for operation in manifest["operations"]}


def _partner_places_an_order(base_url: str) -> dict[str, Any]:
    ids = _partner_operations()
    order_input = {
        "idempotencyKey": f"partner-{time.time_ns()}",
        "channel": "web",
        "fulfilment": {"type": "SHIP_FROM_DC", "locationId": "DC-NORTH"},
        "lines": [{"sku": "ST-0002-01", "quantity": 1}],
        "customerReference": "partner",
    }
    placed = httpx.post(
        f"{base_url}/graphql",
        json={"documentId": ids["PartnerPlaceOrder"], "variables": {"input": order_input}},
        headers=AS_PARTNER,
        timeout=30,
    ).json()
    assert "errors" not in placed, placed
    order: dict[str, Any] = placed["data"]["placeOrder"]["order"]
    return order


def test_the_demo_partner_runs_the_operations_of_its_manifest_by_id(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    ids = _partner_operations()
    order = _partner_places_an_order(base_url)

    # A persisted query may be a GET, which a CDN can cache.
    read = httpx.get(
        f"{base_url}/graphql",
        params={"documentId": ids["PartnerOrder"], "variables": json.dumps({"id": order["id"]})},
        headers=AS_PARTNER,
        timeout=30,
    ).json()

    assert order["status"] == "PENDING"
    assert read == {
        "data": {
            "order": {
                "number": order["number"],
                "status": "PENDING",
                "lines": [{"sku": "ST-0002-01", "quantity": 1}],
            }
        }
    }


def test_the_readmes_partner_request_gets_its_product_card(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    request = readme.split("## A partner's persisted operations", 1)[1].split("```sh\n", 1)[1]
    body = json.loads(request.split("-d '", 1)[1].split("'", 1)[0])

    answer = httpx.post(f"{base_url}/graphql", json=body, headers=AS_PARTNER, timeout=30).json()

    assert answer["data"]["product"]["sku"] == body["variables"]["sku"]
    assert answer["data"]["product"]["price"]["base"]["currency"] == "EUR"


def test_the_demo_partner_is_refused_any_document_outside_its_manifest(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    manifest = json.loads(DEMO_PARTNER_MANIFEST.read_text())
    trusted = next(op for op in manifest["operations"] if op["name"] == "PartnerProduct")
    headers = {**AS_PARTNER, "accept": GRAPHQL_RESPONSE}

    def ask(body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{base_url}/graphql", json=body, headers=headers, timeout=30)

    crafted = ask({"query": "{ orders(first: 100) { edges { node { customerReference } } } }"})
    unknown_id = ask({"documentId": "sha256:" + "0" * 64})
    # The full text of a trusted document is that document: it runs.
    full_text = ask(
        {"query": trusted["body"], "variables": {"sku": "ST-0002-01", "channel": "web"}}
    )

    assert crafted.status_code == 403
    assert crafted.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert "data" not in crafted.json()
    assert unknown_id.status_code == 404
    assert unknown_id.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert full_text.json()["data"]["product"]["sku"] == "ST-0002-01"


ORDER_STEPS = [
    'mutation { confirmOrder(id: "%s", idempotencyKey: "partner-confirm-%s") { status } }',
    'mutation { authorizePayment(id: "%s", idempotencyKey: "partner-pay-%s", reference: "PAY-1") '
    "{ status } }",
    'mutation { cancelOrder(id: "%s", idempotencyKey: "partner-cancel-%s", reason: "partner test") '
    "{ status } }",
]


async def test_the_demo_partner_follows_its_order_by_document_id_over_websocket_and_sse(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    ids = _partner_operations()
    order = _partner_places_an_order(base_url)
    variables = {"orderId": order["id"]}
    websocket_url = base_url.replace("http://", "ws://") + "/graphql"
    sse_events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def read_sse(client: httpx.AsyncClient) -> None:
        params = {"documentId": ids["PartnerOrderStatus"], "variables": json.dumps(variables)}
        headers = {**AS_PARTNER, "accept": "text/event-stream"}
        async with client.stream("GET", "/graphql", params=params, headers=headers) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: {"):
                    await sse_events.put(json.loads(line[len("data: ") :]))

    async with (
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
        connect(websocket_url, subprotocols=["graphql-transport-ws"]) as websocket,  # type: ignore[list-item]
    ):
        sse = asyncio.create_task(read_sse(client))
        await websocket.send(
            json.dumps({"type": "connection_init", "payload": {"apiKey": DEMO_KEYS["partner"]}})
        )
        assert json.loads(await websocket.recv()) == {"type": "connection_ack"}
        subscribe = {"documentId": ids["PartnerOrderStatus"], "variables": variables}
        await websocket.send(json.dumps({"id": "mine", "type": "subscribe", "payload": subscribe}))
        crafted = {"query": 'subscription { ordersAtLocation(locationId: "DC-NORTH") { number } }'}
        await websocket.send(json.dumps({"id": "crafted", "type": "subscribe", "payload": crafted}))
        refused = json.loads(await websocket.recv())

        # The subscriptions reach orders a moment after they are asked for: move the order
        # on until an update comes through both.
        on_socket = on_stream = None
        for step in ORDER_STEPS:
            await asyncio.to_thread(_query, base_url, step % (order["id"], order["id"]))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    on_socket = on_socket or json.loads(await websocket.recv())
                    on_stream = on_stream or await sse_events.get()
            if on_socket and on_stream:
                break
        sse.cancel()

    assert refused["id"] == "crafted"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert on_socket is not None
    assert on_stream is not None
    assert on_socket["id"] == "mine"
    for update in (on_socket["payload"]["data"], on_stream["data"]):
        assert update["orderStatusChanged"]["number"] == order["number"]


APOLLO_CLIENT = Path(__file__).parent / "apollo_client"


def _apollo_client(base_url: str, key: str, *mode: str) -> dict[str, Any]:
    """What npm's Apollo Client, with its persisted-query link, sent and got back."""
    folder = installed(
        APOLLO_CLIENT, ("package.json", "package-lock.json", "client.mjs"), "Apollo Client"
    )
    done = subprocess.run(
        ["node", "client.mjs", f"{base_url}/graphql", key, *mode],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_apollo_client_registers_a_query_by_apq_once_then_sends_only_its_hash(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    answer = _apollo_client(base_url, DEMO_KEYS["storefront"], "apq")

    name = next(item.name for item in demo_catalog().items if item.sku == "ST-0002-01")
    assert [result["product"]["name"] for result in answer["results"]] == [name, name]
    # Unknown hash, then hash and query (registered), then the hash alone.
    assert [(sent["query"], sent["status"]) for sent in answer["sent"]] == [
        (False, 200),
        (True, 200),
        (False, 200),
    ]
    assert len({sent["hash"] for sent in answer["sent"]}) == 1


def test_apollo_client_runs_the_partners_operations_by_the_ids_of_its_manifest(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    answer = _apollo_client(base_url, DEMO_KEYS["partner"], "manifest", str(DEMO_PARTNER_MANIFEST))

    ids = _partner_operations()
    assert [result["product"]["sku"] for result in answer["results"]] == ["ST-0002-01"] * 2
    assert all(
        result["product"]["price"]["base"]["currency"] == "EUR" for result in answer["results"]
    )
    # The document's text never leaves the partner: only the manifest's id does.
    assert [(sent["query"], sent["hash"]) for sent in answer["sent"]] == [
        (False, ids["PartnerProduct"]),
        (False, ids["PartnerProduct"]),
    ]


def test_apollo_client_shows_a_product_page_first_and_its_deferred_stock_and_orders_after(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    answer = _apollo_client(base_url, DEMO_KEYS["operator"], "defer", "ST-0002-01")

    states = answer["states"]
    first, last = states[0]["data"]["product"], states[-1]["data"]["product"]
    assert states[0]["dataState"] == "streaming"
    assert set(first) == {"__typename", "sku", "name"}
    assert states[-1]["dataState"] == "complete"
    assert {"availability", "stockLevels", "recentOrders"} <= set(last)
    assert last["availability"]["available"] >= 0
    assert {level["locationId"] for level in last["stockLevels"]} >= {"STORE-BERLIN"}
    assert 1 <= len(last["recentOrders"]) <= 3
    # One request, answered in parts: Apollo Client asked for them, the gateway sent them.
    [sent] = answer["sent"]
    assert "deferSpec=20220824" in sent["accept"]
    assert sent["contentType"] == 'multipart/mixed;boundary="graphql";deferSpec=20220824'


def _as(base_url: str, client: str, query: str, **variables: Any) -> dict[str, Any]:
    """The whole answer to ``query`` sent with the demo key of ``client``."""
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables},
        headers={"X-API-Key": DEMO_KEYS[client]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


PLACE_AND_SHOW_HISTORY = """
mutation ($key: String!) {
  placeOrder(input: {
    idempotencyKey: $key, channel: "web", customerReference: "who"
    fulfilment: { type: SHIP_FROM_DC, locationId: "DC-NORTH" }
    lines: [{ sku: "ST-0002-01", quantity: 1 }]
  }) { order { id history { to madeBy { client subject } } } }
}
"""
CONFIRM = """mutation ($id: ID!, $key: String!) {
  confirmOrder(id: $id, idempotencyKey: $key) { history { to madeBy { client subject } } }
}"""


def test_run_command_records_which_client_made_each_step_of_an_order(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    placed = _as(base_url, "storefront", PLACE_AND_SHOW_HISTORY, key=f"who-{time.time_ns()}")
    order = placed["data"]["placeOrder"]["order"]
    confirmed = _as(base_url, "operator", CONFIRM, id=order["id"], key=f"confirm-{order['id']}")

    assert order["history"] == [
        {"to": "PENDING", "madeBy": {"client": "storefront", "subject": None}}
    ]
    assert confirmed["data"]["confirmOrder"]["history"] == [
        {"to": "PENDING", "madeBy": {"client": "storefront", "subject": None}},
        {"to": "CONFIRMED", "madeBy": {"client": "operator", "subject": None}},
    ]


def test_run_command_records_the_client_not_an_identity_header_it_sends(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    response = httpx.post(
        f"{base_url}/graphql",
        json={"query": PLACE_AND_SHOW_HISTORY, "variables": {"key": f"forged-{time.time_ns()}"}},
        headers={
            "X-API-Key": DEMO_KEYS["storefront"],
            "X-RetailGraph-Caller": "v1.eyJjbGllbnQiOiJvcGVyYXRvciJ9.c2lnbmVk",
        },
        timeout=30,
    )

    history = response.json()["data"]["placeOrder"]["order"]["history"]
    assert history == [{"to": "PENDING", "madeBy": {"client": "storefront", "subject": None}}]


def test_run_command_subgraphs_refuse_a_forged_caller_identity(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    claims = base64.urlsafe_b64encode(
        json.dumps({"client": "operator", "scopes": ["operator"], "iat": 0}).encode()
    ).decode()
    forged = httpx.post(
        f"{base_url}/subgraphs/orders/graphql",
        json={"query": "{ orders(first: 1) { edges { node { id } } } }"},
        headers={
            **AS_OPERATOR,
            "X-RetailGraph-Caller": f"v1.{claims.rstrip('=')}.bm90LXNpZ25lZA",
        },
        timeout=30,
    )

    assert forged.status_code == 401
    assert forged.json()["errors"][0]["extensions"]["code"] == "INVALID_CALLER_IDENTITY"


STOCK_AT = """query ($sku: ID!, $at: ID!) {
  product(sku: $sku) { sku stock(locationId: $at) { onHand } }
}"""
ORDERS_AT = """query ($at: ID) {
  orders(locationId: $at, first: 1) { edges { node { fulfilment { locationId } } } }
}"""


def _stocked_in_both_stores() -> str:
    at = {(row.sku, row.location_id) for row in demo_catalog().stock}
    return next(
        sku
        for sku, location in sorted(at)
        if location == "STORE-BERLIN" and (sku, "STORE-HAMBURG") in at
    )


def test_run_command_shows_a_store_tool_the_stock_and_orders_of_its_own_store_only(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    sku = _stocked_in_both_stores()
    literal = '{ product(sku: "%s") { sku stock(locationId: "%s") { onHand } } }'

    berlin = _as(base_url, "store-berlin", STOCK_AT, sku=sku, at="STORE-BERLIN")
    hamburg = _as(base_url, "store-berlin", STOCK_AT, sku=sku, at="STORE-HAMBURG")
    hamburg_literal = _as(base_url, "store-berlin", literal % (sku, "STORE-HAMBURG"))
    berlin_orders = _as(base_url, "store-berlin", ORDERS_AT, at="STORE-BERLIN")
    hamburg_orders = _as(base_url, "store-berlin", ORDERS_AT, at="STORE-HAMBURG")
    every_store_orders = _as(base_url, "store-berlin", ORDERS_AT)
    operator = [
        _as(base_url, "operator", STOCK_AT, sku=sku, at=store)
        for store in ("STORE-BERLIN", "STORE-HAMBURG")
    ]

    assert "errors" not in berlin
    assert berlin["data"]["product"]["stock"]["onHand"] >= 0
    assert "errors" not in berlin_orders
    for node in berlin_orders["data"]["orders"]["edges"]:
        assert node["node"]["fulfilment"]["locationId"] == "STORE-BERLIN"
    for refused, path in (
        (hamburg, ["product", "stock"]),
        (hamburg_literal, ["product", "stock"]),
        (hamburg_orders, ["orders"]),
        (every_store_orders, ["orders"]),
    ):
        assert [(e["extensions"]["code"], e["path"]) for e in refused["errors"]] == [
            ("UNAUTHORIZED_FIELD_OR_TYPE", path)
        ]
    assert hamburg["data"] == {"product": {"sku": sku, "stock": None}}
    assert hamburg_literal["data"] == {"product": {"sku": sku, "stock": None}}
    assert hamburg_orders["data"] is None
    for answer in operator:
        assert "errors" not in answer
        assert answer["data"]["product"]["stock"] is not None


def test_run_command_never_reuses_a_store_tools_preparation_for_another_store(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    sku = _stocked_in_both_stores()

    answers = [
        _as(base_url, "store-berlin", STOCK_AT, sku=sku, at=store)
        for store in ("STORE-BERLIN", "STORE-HAMBURG", "STORE-BERLIN", "STORE-HAMBURG")
    ]

    assert ["errors" in answer for answer in answers] == [False, True, False, True]


def test_run_command_refuses_a_key_it_does_not_know(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    base_url, _ = server
    refused = httpx.post(
        f"{base_url}/graphql",
        json={"query": "{ __typename }"},
        headers={"X-API-Key": "not-a-demo-key"},
        timeout=30,
    )
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_CREDENTIALS"


def test_run_command_exits_cleanly_on_sigterm(
    server: tuple[str, subprocess.Popen[bytes]],
) -> None:
    _, process = server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
