"""Finding an order by its number (a receipt's, the ERP's), with the same rights and the
same location rule as finding it by id: a store tool sees only its own locations'."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.orders.app import create_app
from gateway.security.identity import CallerIdentity, IdentitySigner
from tests.integration.orders.conftest import Subgraph, make_order
from tests.support import local_runtime, serving, suite_clock

SECRET = b"s" * 32
STORE = CallerIdentity("store-berlin", ("orders:read",), ("STORE-BERLIN",))
BY_NUMBER = "query ($n: String!) { orderByNumber(number: $n) { id number } }"
BY_ID = "query ($id: ID!) { order(id: $id) { id number } }"


@pytest.fixture
async def signed_subgraph(engine: AsyncEngine) -> AsyncIterator[Subgraph]:
    runtime = dataclasses.replace(local_runtime(), identity_secret=SECRET)
    app = create_app(runtime, engine=engine)
    async with serving(app, "http://orders") as client:
        yield Subgraph(app, client)


def signed(identity: CallerIdentity) -> dict[str, str]:
    return dict(IdentitySigner(SECRET, suite_clock()).headers(identity))


async def test_an_order_is_found_by_its_number_as_written_and_by_nothing_else(
    subgraph: Subgraph,
) -> None:
    order = await make_order(subgraph.domain)
    await make_order(subgraph.domain)
    subgraph.count_statements()

    found = await subgraph.post(BY_NUMBER, {"n": order.number})
    unpadded = await subgraph.post(BY_NUMBER, {"n": f"RG-{order.sequence}"})
    others = [await subgraph.post(BY_NUMBER, {"n": n}) for n in ("RG-9999999", "SO-1", "", "RG-x")]

    assert found == {"data": {"orderByNumber": {"id": order.id, "number": order.number}}}
    assert unpadded == {"data": {"orderByNumber": None}}
    assert others == [{"data": {"orderByNumber": None}}] * 4
    # A number of ours: its id, then the order and its lines (when there is an id); a
    # number that cannot be ours costs no statement.
    assert len(subgraph.statements) == 3 + 3 + 1


async def test_a_store_tool_finds_by_number_only_the_orders_of_its_own_locations(
    signed_subgraph: Subgraph,
) -> None:
    pickup = await make_order(
        signed_subgraph.domain, fulfilment_type="PICKUP_AT_STORE", location_id="STORE-BERLIN"
    )
    shipped = await make_order(signed_subgraph.domain)  # from DC-NORTH
    headers = signed(STORE)

    own = await signed_subgraph.post(BY_NUMBER, {"n": pickup.number}, **headers)
    elsewhere = await signed_subgraph.post(BY_NUMBER, {"n": shipped.number}, **headers)
    elsewhere_by_id = await signed_subgraph.post(BY_ID, {"id": shipped.id}, **headers)
    as_operator = await signed_subgraph.post(
        BY_NUMBER, {"n": shipped.number}, **signed(CallerIdentity("ops", ("operator",)))
    )

    assert own == {"data": {"orderByNumber": {"id": pickup.id, "number": pickup.number}}}
    assert elsewhere == {"data": {"orderByNumber": None}}
    assert elsewhere_by_id == {"data": {"order": None}}
    assert as_operator == {"data": {"orderByNumber": {"id": shipped.id, "number": shipped.number}}}
