"""Checkout's use case against its ports (fakes for pricing and inventory), on a real
orders database: what it asks for, and what it gives back when the order fails; and the
ports over the peers' internal endpoints, when a peer refuses or is broken."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import orjson
import pytest
from asyncpg.exceptions import TooManyConnectionsError
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.engine import Connection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.db.engine import is_one_statement
from domains.orders import checkout
from domains.orders.bootstrap import OrdersDomain
from domains.orders.checkout import (
    CheckoutRefused,
    CheckoutUnavailable,
    OrderRequest,
    Place,
    QuotedLine,
    RequestedLine,
    Reserved,
    StockLine,
)
from domains.orders.errors import InvalidOrderInput
from domains.orders.give_back import Backoff, GiveBacks
from domains.orders.peers import SubgraphCheckout
from domains.orders.uow import OrdersUnitOfWork


@dataclass
class FakePricing:
    tax_rate: Decimal = Decimal("0.19")
    asked: list[list[RequestedLine]] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)

    async def quote(
        self,
        lines: Sequence[RequestedLine],
        *,
        channel: str,
        currency: str,
        region: str,
        location: str,
    ) -> list[QuotedLine]:
        self.asked.append(list(lines))
        self.regions.append(region)
        self.locations.append(location)
        return [
            QuotedLine(
                line.sku,
                line.quantity,
                Decimal("10.00"),
                Decimal("10.00") * line.quantity,
                self.tax_rate,
            )
            for line in lines
        ]


@dataclass
class FakeStock:
    status: str = "ACTIVE"
    reserved: list[tuple[str, list[StockLine], str]] = field(default_factory=list)
    released: list[tuple[str, int]] = field(default_factory=list)

    async def location(self, location_id: str) -> Place | None:
        return {
            "STORE-1": Place("north", "STORE", ("store", "web")),
            "DC-1": Place("north", "DC", ("web",)),
            "STORE-2": Place("north", "STORE", ("store",)),
        }.get(location_id)

    async def reserve(
        self, key: str, lines: Sequence[StockLine], *, order_reference: str, channel: str
    ) -> list[Reserved]:
        self.reserved.append((key, list(lines), order_reference))
        return [Reserved(f"{key}:{n}", self.status) for n in range(1, len(lines) + 1)]

    async def release(self, key: str, count: int) -> None:
        self.released.append((key, count))


def request(key: str, *lines: tuple[str, int]) -> OrderRequest:
    return OrderRequest(
        idempotency_key=key,
        channel="web",
        currency="EUR",
        fulfilment_type="PICKUP_AT_STORE",
        location_id="STORE-1",
        customer_reference="c-1",
        lines=tuple(RequestedLine(sku, quantity) for sku, quantity in lines),
    )


async def test_checkout_reserves_at_the_fulfilment_location_for_the_keys_order(
    domain: OrdersDomain,
) -> None:
    pricing, stock = FakePricing(), FakeStock()
    key = f"k-{uuid.uuid4()}"

    placed = await checkout.place_order(
        domain.uow, pricing, stock, request(key, ("A", 2), ("B", 1)), give_backs=domain.give_backs
    )

    assert placed.created
    assert stock.reserved == [
        (key, [StockLine("A", "STORE-1", 2), StockLine("B", "STORE-1", 1)], placed.order.id)
    ]
    assert placed.order.id == checkout.order_id_for(key)
    assert placed.order.totals.total == Decimal("30.00")
    assert pricing.regions == ["north"]  # low-stock pauses there apply to the quote
    assert pricing.locations == ["STORE-1"]  # and promotions for chosen stores
    assert stock.released == []


async def test_a_placed_key_asks_neither_pricing_nor_inventory_again(domain: OrdersDomain) -> None:
    pricing, stock = FakePricing(), FakeStock()
    key = f"k-{uuid.uuid4()}"
    first = await checkout.place_order(
        domain.uow, pricing, stock, request(key, ("A", 1)), give_backs=domain.give_backs
    )

    again = await checkout.place_order(
        domain.uow, pricing, stock, request(key, ("A", 1)), give_backs=domain.give_backs
    )

    assert (again.order.id, again.created) == (first.order.id, False)
    assert len(pricing.asked) == len(stock.reserved) == 1


async def test_an_order_that_fails_after_reserving_gives_the_stock_back(
    domain: OrdersDomain,
) -> None:
    # A tax rate the order refuses: found only once the lines are priced and reserved.
    pricing, stock = FakePricing(tax_rate=Decimal("1.5")), FakeStock()
    key = f"k-{uuid.uuid4()}"

    with pytest.raises(InvalidOrderInput):
        await checkout.place_order(
            domain.uow,
            pricing,
            stock,
            request(key, ("A", 1), ("B", 2)),
            give_backs=domain.give_backs,
        )

    assert stock.released == [(key, 2)]


async def test_a_request_the_order_refuses_reserves_nothing(domain: OrdersDomain) -> None:
    pricing, stock = FakePricing(), FakeStock()

    with pytest.raises(InvalidOrderInput):
        await checkout.place_order(
            domain.uow, pricing, stock, request("k", ("A", 0)), give_backs=domain.give_backs
        )

    assert pricing.asked == []
    assert stock.reserved == []


async def test_an_unknown_location_is_refused_before_pricing(domain: OrdersDomain) -> None:
    pricing, stock = FakePricing(), FakeStock()
    nowhere = replace(request("k-nowhere", ("A", 1)), location_id="NOWHERE")

    with pytest.raises(CheckoutRefused) as refused:
        await checkout.place_order(
            domain.uow, pricing, stock, nowhere, give_backs=domain.give_backs
        )

    assert refused.value.code == "UNKNOWN_LOCATION"
    assert pricing.asked == []
    assert stock.reserved == []


async def test_a_pickup_is_at_a_store(domain: OrdersDomain) -> None:
    pricing, stock = FakePricing(), FakeStock()
    at_a_dc = replace(request("k-dc", ("A", 1)), location_id="DC-1")

    with pytest.raises(InvalidOrderInput, match="store"):
        await checkout.place_order(
            domain.uow, pricing, stock, at_a_dc, give_backs=domain.give_backs
        )

    assert stock.reserved == []


async def test_a_location_that_does_not_sell_to_the_channel_is_refused(
    domain: OrdersDomain,
) -> None:
    pricing, stock = FakePricing(), FakeStock()
    store_only = replace(request("k-store-only", ("A", 1)), location_id="STORE-2")

    with pytest.raises(CheckoutRefused) as refused:
        await checkout.place_order(
            domain.uow, pricing, stock, store_only, give_backs=domain.give_backs
        )

    assert refused.value.code == "CHANNEL_NOT_SERVED"
    assert stock.reserved == []


async def test_a_key_whose_stock_was_given_back_is_spent(domain: OrdersDomain) -> None:
    pricing, stock = FakePricing(), FakeStock(status="RELEASED")

    with pytest.raises(CheckoutRefused) as refused:
        await checkout.place_order(
            domain.uow, pricing, stock, request("spent", ("A", 1)), give_backs=domain.give_backs
        )

    assert refused.value.code == "IDEMPOTENCY_KEY_SPENT"
    async with domain.uow() as uow:
        assert await uow.orders.get_by_idempotency_key("spent") is None


@pytest.mark.parametrize(
    "peers",
    [
        {"pricing": "http://127.0.0.1:9/graphql", "inventory": "http://127.0.0.1:9/graphql"},
        {},  # not configured at all
    ],
)
async def test_an_unreachable_inventory_is_service_unavailable_and_places_nothing(
    domain: OrdersDomain, peers: dict[str, str]
) -> None:
    ports = SubgraphCheckout(peers)
    try:
        with pytest.raises(CheckoutUnavailable):
            await checkout.place_order(
                domain.uow,
                ports.pricing,
                ports.stock,
                request("k-down", ("A", 1)),
                give_backs=domain.give_backs,
            )
    finally:
        await ports.aclose()

    async with domain.uow() as uow:
        assert await uow.orders.get_by_idempotency_key("k-down") is None


# What placing a three-line order asks of the orders database, on each backend, and the
# relay's pass after it. Each statement is a round trip, most of what a checkout costs
# the orders process.
STATEMENTS_OF_AN_ORDER = {
    "postgresql": [
        "SELECT orders_orders",  # is the key an order already? (no transaction)
        "SELECT nextval",  # its sequence, and so its number (no transaction)
        # the order, its three lines, the sale the ERP is owed and OrderCreated, in one
        # statement (no transaction)
        "WITH orders_orders orders_lines orders_erp_postings orders_outbox",
        "UPDATE orders_outbox",  # the relay marks it published and reads it, one pass
    ],
    "sqlite": [
        "SELECT orders_orders",  # is the key an order already? (no transaction)
        "INSERT orders_orders",  # the order, answering its number
        "INSERT orders_lines",  # its three lines, one batch
        "INSERT orders_erp_postings",  # the sale the ERP is owed
        "INSERT orders_outbox",  # OrderCreated
        "UPDATE orders_outbox",  # the relay marks it published and reads it, one pass
    ],
}


def _statement_label(statement: str) -> str:
    """The verb and what a statement touches: the tables a WITH inserts into, else the
    first table it names (or the sequence function)."""
    verb = statement.split(maxsplit=1)[0].upper()
    if verb == "WITH":
        return " ".join([verb, *re.findall(r"INSERT INTO (orders_[a-z_]+)", statement)])
    return f"{verb} {re.findall(r'nextval|orders_[a-z_]+', statement)[0]}"


async def test_placing_a_three_line_order_costs_three_statements_on_postgresql_five_on_sqlite(
    domain: OrdersDomain,
) -> None:
    await domain.relay.stop()  # its background passes would race the count
    statements: list[str] = []

    def counted(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.upper().startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            statements.append(_statement_label(statement))

    event.listen(domain.engine.sync_engine, "before_cursor_execute", counted)
    try:
        key = f"k-{uuid.uuid4()}"
        placed = await checkout.place_order(
            domain.uow,
            FakePricing(),
            FakeStock(),
            request(key, ("A", 1), ("B", 2), ("C", 3)),
            give_backs=domain.give_backs,
        )
        published = await domain.relay.drain()
    finally:
        event.remove(domain.engine.sync_engine, "before_cursor_execute", counted)

    assert placed.created
    assert published == 1
    assert statements == STATEMENTS_OF_AN_ORDER[domain.engine.dialect.name]


async def test_placing_an_order_opens_no_transaction_on_postgresql_and_one_on_sqlite(
    domain: OrdersDomain,
) -> None:
    # The key's lookup is one statement outside any transaction (a BEGIN and a ROLLBACK
    # fewer per checkout on PostgreSQL). PostgreSQL writes the order in one statement,
    # outside any transaction too; SQLite in the only transaction.
    await domain.relay.stop()  # its passes are transactions of their own
    begun: list[bool] = []
    ended = _transactions_counted()

    def began(connection: Connection) -> None:
        if not is_one_statement(connection):
            begun.append(True)

    event.listen(domain.engine.sync_engine, "begin", began)
    try:
        placed = await checkout.place_order(
            domain.uow,
            FakePricing(),
            FakeStock(),
            request(f"k-{uuid.uuid4()}", ("A", 1), ("B", 2)),
            give_backs=domain.give_backs,
        )
    finally:
        event.remove(domain.engine.sync_engine, "begin", began)

    assert placed.created
    expected = {"postgresql": 0, "sqlite": 1}[domain.engine.dialect.name]
    assert len(begun) == expected
    # /metrics counts what ran: committed transactions, none rolled back.
    assert _transactions_counted() - ended == expected


def _transactions_counted() -> float:
    return sum(
        REGISTRY.get_sample_value(
            "retailgraph_db_transactions_total", {"domain": "orders", "outcome": outcome}
        )
        or 0.0
        for outcome in ("committed", "rolled_back")
    )


class RefusingDatabase:
    """The orders database as checkout reaches it: it answers the first transaction (the
    key's read), then refuses connections, as PostgreSQL does past max_connections, until
    it ``recovers``."""

    def __init__(self, domain: OrdersDomain) -> None:
        self.domain = domain
        self.answered = 0
        self.recovered = False

    def __call__(self) -> OrdersUnitOfWork:
        if self.answered and not self.recovered:
            raise TooManyConnectionsError("sorry, too many clients already")
        self.answered += 1
        return self.domain.uow()

    def recover(self) -> None:
        self.recovered = True


@dataclass
class FlakyStock(FakeStock):
    """Inventory that refuses the first ``refusals`` releases."""

    refusals: int = 2
    release_calls: int = 0

    async def release(self, key: str, count: int) -> None:
        self.release_calls += 1
        if self.release_calls <= self.refusals:
            raise CheckoutUnavailable("inventory is unavailable")
        await super().release(key, count)


async def test_stock_reserved_for_an_order_the_database_refused_is_given_back_once_it_can_be(
    domain: OrdersDomain,
) -> None:
    database, stock = RefusingDatabase(domain), FlakyStock()
    give_backs = GiveBacks(domain.clock, backoff=Backoff(first=0.001, longest=0.01))
    key = f"k-{uuid.uuid4()}"

    with pytest.raises(TooManyConnectionsError):
        await checkout.place_order(
            database,
            FakePricing(),
            stock,
            request(key, ("A", 1), ("B", 2), ("C", 3)),
            give_backs=give_backs,
        )
    assert stock.released == []  # neither the check nor the release could be made
    assert give_backs.pending == 1

    database.recover()  # inventory still refuses twice more
    await give_backs.settled()

    assert stock.released == [(key, 3)]
    assert stock.release_calls == 3
    async with domain.uow() as uow:
        assert await uow.orders.get_by_idempotency_key(key) is None


async def test_a_repeat_while_the_stock_is_owed_back_places_the_order_and_keeps_the_stock(
    domain: OrdersDomain,
) -> None:
    database, stock = RefusingDatabase(domain), FakeStock()
    retry = asyncio.Event()

    async def until_told(_seconds: float) -> None:
        await retry.wait()

    give_backs = GiveBacks(domain.clock, sleep=until_told)
    key = f"k-{uuid.uuid4()}"
    with pytest.raises(TooManyConnectionsError):
        await checkout.place_order(
            database, FakePricing(), stock, request(key, ("A", 1)), give_backs=give_backs
        )
    database.recover()

    # The client sends its key again: the reservations still held become its order.
    again = await checkout.place_order(
        database, FakePricing(), stock, request(key, ("A", 1)), give_backs=give_backs
    )
    retry.set()
    await give_backs.settled()

    assert again.created
    assert stock.released == []  # the order holds them


@dataclass
class RefusingStock(FakeStock):
    """Inventory that answers every release with a refusal of its rules."""

    release_calls: int = 0

    async def release(self, key: str, count: int) -> None:
        self.release_calls += 1
        raise CheckoutRefused("the reservation is consumed", code="INVALID_TRANSITION")


async def test_a_release_inventory_refuses_is_not_asked_again(domain: OrdersDomain) -> None:
    stock = RefusingStock()
    give_backs = GiveBacks(domain.clock, backoff=Backoff(first=0.001, longest=0.01))
    failing = FakePricing(tax_rate=Decimal("1.5"))  # an order the model refuses, once priced

    with pytest.raises(InvalidOrderInput):
        await checkout.place_order(
            domain.uow,
            failing,
            stock,
            request(f"k-{uuid.uuid4()}", ("A", 1)),
            give_backs=give_backs,
        )

    assert stock.release_calls == 1
    assert give_backs.pending == 0


def answering(status: int, body: bytes) -> Starlette:
    """A peer that answers every internal call with ``status`` and ``body``."""

    async def answer(_: Request) -> Response:
        return Response(body, status, media_type="application/json")

    return Starlette(routes=[Route("/internal/{endpoint}", answer, methods=["POST"])])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"error": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"}}'),
        (502, b"<html>bad gateway</html>"),
        (400, b'{"error": {"code": "MALFORMED_REQUEST", "message": "lines must be a list"}}'),
        (200, b'{"location": {"region": "north"}}'),
    ],
    ids=["peer-failed", "not-the-peer", "contract-broken", "unreadable-answer"],
)
async def test_a_broken_peer_is_service_unavailable_and_places_nothing(
    domain: OrdersDomain, status: int, body: bytes
) -> None:
    peer = answering(status, body)
    ports = SubgraphCheckout({"pricing": peer, "inventory": peer})
    key = f"k-{uuid.uuid4()}"
    try:
        with pytest.raises(CheckoutUnavailable):
            await checkout.place_order(
                domain.uow,
                ports.pricing,
                ports.stock,
                request(key, ("A", 1)),
                give_backs=domain.give_backs,
            )
    finally:
        await ports.aclose()

    async with domain.uow() as uow:
        assert await uow.orders.get_by_idempotency_key(key) is None


async def test_a_peers_refusal_keeps_its_code_and_details(domain: OrdersDomain) -> None:
    refused = b'{"error": {"code": "PRICE_NOT_FOUND", "message": "no EUR price", "sku": "A"}}'
    ports = SubgraphCheckout({"pricing": answering(400, refused), "inventory": selling_store()})
    try:
        with pytest.raises(CheckoutRefused) as error:
            await checkout.place_order(
                domain.uow,
                ports.pricing,
                ports.stock,
                request("k-priceless", ("A", 1)),
                give_backs=domain.give_backs,
            )
    finally:
        await ports.aclose()

    assert (error.value.code, error.value.message, error.value.details) == (
        "PRICE_NOT_FOUND",
        "no EUR price",
        {"sku": "A"},
    )


def selling_store() -> Starlette:
    """An inventory whose one location, STORE-1, sells to the web."""

    async def location(_: Request) -> Response:
        place = {"region": "north", "kind": "STORE", "channels": ["web"]}
        return Response(orjson.dumps({"location": place}), media_type="application/json")

    return Starlette(routes=[Route("/internal/location", location, methods=["POST"])])
