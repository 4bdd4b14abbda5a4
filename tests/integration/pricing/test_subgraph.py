"""The pricing subgraph over HTTP: federation SDL, batched entities, coded errors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import graphql
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.pricing import handlers, imports, tables
from domains.pricing.app import create_app
from tests.integration.pricing.support import (
    NOW,
    StatementCounter,
    codes,
    gql,
    live_promotion,
    percent_terms,
    seed_prices,
    settle,
)
from tests.support import local_runtime, serving

PRICES = """query ($r: [_Any!]!, $currency: String!) { _entities(representations: $r) {
  ... on Product { sku price(channel: "web", currency: $currency) {
    base { amount currency } promotional { amount } promotionalExcludingTax { amount }
    tax { amount } taxRate appliedPromotions { promotionId discount { amount } } } } } }"""

PROMOTIONS = """query ($r: [_Any!]!) { _entities(representations: $r) {
  ... on Promotion { id name status currentVersion versions { number } } } }"""


async def _seed_many(domain: Any, count: int) -> list[str]:
    skus = [f"BULK-{n:03d}" for n in range(count)]
    await imports.register_skus(
        domain.uow(), [imports.SkuFacts(s, "apparel/tops", Decimal("0.19")) for s in skus]
    )
    for currency in ("EUR", "USD"):
        rows = [imports.PriceRow(s, currency, f"{10 + n}.00") for n, s in enumerate(skus)]
        await imports.import_price_list(domain.uow, currency, rows)
    return skus


async def test_service_sdl_is_federation_v2_with_entity_keys(engine: AsyncEngine) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        sdl = (await gql(http, "{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.' in sdl
    document = graphql.parse(sdl)
    keys = {
        definition.name.value: [
            graphql.print_ast(d) for d in definition.directives or () if d.name.value == "key"
        ]
        for definition in document.definitions
        if isinstance(definition, graphql.ObjectTypeDefinitionNode)
    }
    assert keys["Product"] == ['@key(fields: "sku")']
    assert keys["Promotion"] == ['@key(fields: "id")']


async def test_product_entities_price_in_a_fixed_number_of_statements(engine: AsyncEngine) -> None:
    """Cold cache: one statement for the base prices, one for the live promotions, for any
    number of representations. Warm cache: none. A new currency: the base prices only."""
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        domain = app.state.domain
        skus = await _seed_many(domain, 100)
        await live_promotion(domain, percent_terms("10"), "tops-10")
        await settle(domain)
        # Only the requests' statements count: the outbox relay and the promotion-window
        # scheduler poll the same database in the background.
        await domain.stop_background()
        representations = [{"__typename": "Product", "sku": s} for s in reversed(skus)]
        counter = StatementCounter()
        with counter.on(engine):
            body = await gql(http, PRICES, r=representations, currency="EUR")
        assert len(counter.statements) == 2, counter.statements
        entities = body["data"]["_entities"]
        assert [e["sku"] for e in entities] == list(reversed(skus))
        first = entities[-1]["price"]
        assert first["base"] == {"amount": "10.00", "currency": "EUR"}
        assert first["promotional"] == {"amount": "9.00"}
        assert first["promotionalExcludingTax"] == {"amount": "7.56"}
        assert first["tax"] == {"amount": "1.44"}
        assert first["appliedPromotions"] == [
            {"promotionId": "tops-10", "discount": {"amount": "1.00"}}
        ]
        with counter.on(engine):
            await gql(http, PRICES, r=representations, currency="EUR")
        assert counter.statements == []
        with counter.on(engine):
            await gql(http, PRICES, r=representations, currency="USD")
        assert len(counter.statements) == 1


async def test_product_entities_with_prices_and_promotions_take_three_statements(
    engine: AsyncEngine,
) -> None:
    query = """query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product {
      price(channel: "store", currency: "EUR") { promotional { amount } }
      promotions(channel: "store") { id currentVersion } } } }"""
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        skus = await _seed_many(app.state.domain, 100)
        await live_promotion(app.state.domain, percent_terms("10"), "tops-10")
        await live_promotion(
            app.state.domain, percent_terms("30", skus=["BULK-007"], categories=[]), "one-30"
        )
        await settle(app.state.domain)
        # Only the requests' statements count: the outbox relay and the promotion-window
        # scheduler poll the same database in the background.
        await app.state.domain.stop_background()
        counter = StatementCounter()
        with counter.on(engine):
            body = await gql(http, query, r=[{"__typename": "Product", "sku": s} for s in skus])
    assert len(counter.statements) == 3, counter.statements
    entities = body["data"]["_entities"]
    assert entities[7]["price"]["promotional"] == {"amount": "11.90"}
    assert [p["id"] for p in entities[7]["promotions"]] == ["one-30", "tops-10"]
    assert [p["id"] for p in entities[8]["promotions"]] == ["tops-10"]


async def test_product_entities_unknown_to_pricing_have_no_price(engine: AsyncEngine) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)
        reps = [{"__typename": "Product", "sku": s} for s in ("TOP-1", "NOPE", "MUG-1")]
        body = await gql(http, PRICES, r=reps, currency="EUR")
    prices = [e["price"] for e in body["data"]["_entities"]]
    assert prices[1] is None
    assert prices[0]["base"]["amount"] == "20.00"
    assert prices[2]["base"]["amount"] == "9.99"


async def test_promotion_entities_resolve_in_one_statement_in_order(engine: AsyncEngine) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        domain = app.state.domain
        ids = [f"promo-{n}" for n in range(10)]
        for promotion_id in ids:
            await live_promotion(domain, percent_terms("15"), promotion_id)
        asked = [*ids[5:], "missing-1", *ids[:5], "missing-2"]
        await settle(domain)
        # Only the requests' statements count: the outbox relay and the promotion-window
        # scheduler poll the same database in the background.
        await domain.stop_background()
        counter = StatementCounter()
        with counter.on(engine):
            body = await gql(
                http, PROMOTIONS, r=[{"__typename": "Promotion", "id": i} for i in asked]
            )
    assert len(counter.statements) == 1, counter.statements
    entities = body["data"]["_entities"]
    assert [e and e["id"] for e in entities] == [
        *ids[5:],
        None,
        *ids[:5],
        None,
    ]
    assert entities[0]["status"] == "ACTIVE"
    assert sorted((e["path"][1], e["extensions"]["code"]) for e in body["errors"]) == [
        (5, "PROMOTION_NOT_FOUND"),
        (11, "PROMOTION_NOT_FOUND"),
    ]


PAUSES = """query ($r: [_Any!]!) { _entities(representations: $r) {
  ... on Promotion { id lowStockPauses(first: 2) { sku region available since } } } }"""


async def test_promotions_list_their_newest_low_stock_pauses_in_one_statement(
    engine: AsyncEngine,
) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        domain = app.state.domain
        await seed_prices(domain)
        for promotion_id in ("tops-low", "tops-other"):
            await live_promotion(domain, percent_terms("10", low_stock_threshold=5), promotion_id)
        for minutes, (sku, region) in enumerate(
            [("TOP-1", "north"), ("TOP-2", "north"), ("TOP-1", "south")]
        ):
            await handlers.apply_regional_availability(
                domain.uow(),
                sku=sku,
                region=region,
                available=minutes,
                at=NOW + timedelta(minutes=minutes),
            )
        await live_promotion(domain, percent_terms("10"), "no-threshold")
        asked = [{"__typename": "Promotion", "id": i} for i in ("tops-low", "no-threshold")]
        # Every recorded event handled first: a handler still writing would hold SQLite's
        # lock while the request reads.
        await settle(domain)
        # Only the requests' statements count: the outbox relay and the promotion-window
        # scheduler poll the same database in the background.
        await domain.stop_background()
        counter = StatementCounter()
        with counter.on(engine):
            body = await gql(http, PAUSES, r=asked)

    low, none = body["data"]["_entities"]
    assert [(p["sku"], p["region"], p["available"]) for p in low["lowStockPauses"]] == [
        ("TOP-1", "south", 2),
        ("TOP-2", "north", 1),
    ]
    assert none["lowStockPauses"] == []
    # The promotions, then their pauses.
    assert len(counter.statements) == 2, counter.statements


RESUME = """mutation ($id: ID!, $sku: String!, $region: String!) {
  resumePromotionForStock(id: $id, sku: $sku, region: $region) {
    id lowStockPauses(first: 5) { sku region } } }"""


async def test_an_operator_lifts_a_low_stock_pause_once_and_repeating_it_changes_nothing(
    engine: AsyncEngine,
) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        domain = app.state.domain
        await seed_prices(domain)
        await live_promotion(domain, percent_terms("10", low_stock_threshold=5), "tops")
        for region in ("north", "south"):
            await handlers.apply_regional_availability(
                domain.uow(), sku="TOP-1", region=region, available=1, at=NOW
            )

        first = await gql(http, RESUME, id="tops", sku="TOP-1", region="north")
        again = await gql(http, RESUME, id="tops", sku="TOP-1", region="north")
        unknown = await gql(http, RESUME, id="nope", sku="TOP-1", region="north")
        too_long = await gql(http, RESUME, id="tops", sku="T" * 65, region="north")
        async with engine.connect() as conn:
            lifted = (
                (
                    await conn.execute(
                        select(tables.outbox.c.payload).where(
                            tables.outbox.c.type == "PromotionStatusChanged"
                        )
                    )
                )
                .scalars()
                .all()
            )

    remaining = [{"sku": "TOP-1", "region": "south"}]
    assert first["data"]["resumePromotionForStock"]["lowStockPauses"] == remaining
    assert again["data"]["resumePromotionForStock"]["lowStockPauses"] == remaining
    assert codes(unknown) == ["PROMOTION_NOT_FOUND"]
    assert codes(too_long) == ["BAD_USER_INPUT"]
    assert [(p["region"], p["reason"]) for p in lifted] == [
        ("north", "LOW_STOCK"),
        ("south", "LOW_STOCK"),
        ("north", "OPERATOR"),
    ]


CREATE = """mutation ($input: PromotionInput!) { createPromotion(input: $input) {
  id status currentVersion } }"""


def promotion_input(**overrides: Any) -> dict[str, Any]:
    now = NOW
    values: dict[str, Any] = {
        "name": "Tops 20",
        "startsAt": (now - timedelta(days=1)).isoformat(),
        "endsAt": (now + timedelta(days=1)).isoformat(),
        "discount": {"kind": "PERCENT_OFF", "percent": "20"},
        "categories": ["apparel/tops"],
    }
    values.update(overrides)
    return values


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        (
            {"startsAt": "2026-11-30T00:00:00+00:00", "endsAt": "2026-11-28T00:00:00+00:00"},
            "INVALID_WINDOW",
        ),
        ({"discount": {"kind": "PERCENT_OFF", "percent": "150"}}, "INVALID_DISCOUNT"),
        ({"discount": {"kind": "PERCENT_OFF", "percent": "lots"}}, "INVALID_DISCOUNT"),
        ({"discount": {"kind": "BUY_X_GET_Y", "buyQuantity": 2}}, "INVALID_DISCOUNT"),
        (
            {"discount": {"kind": "AMOUNT_OFF", "amounts": [{"amount": "5", "currency": "XXX"}]}},
            "UNSUPPORTED_CURRENCY",
        ),
        ({"channels": ["fax"]}, "UNKNOWN_CHANNEL"),
        ({"name": ""}, "INVALID_PROMOTION"),
        ({"lowStockThreshold": -1}, "INVALID_PROMOTION"),
        ({"regions": [""]}, "INVALID_PROMOTION"),
        ({"locations": ["S" * 65]}, "INVALID_PROMOTION"),
    ],
)
async def test_bad_promotion_input_gets_a_coded_error(
    engine: AsyncEngine, overrides: dict[str, Any], code: str
) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        body = await gql(http, CREATE, input=promotion_input(**overrides))
    assert body["data"] is None
    assert codes(body) == [code]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('mutation { activatePromotion(id: "nope") { id } }', "PROMOTION_NOT_FOUND"),
        ('mutation { rollbackPromotion(id: "nope") { id } }', "PROMOTION_NOT_FOUND"),
        (
            '{ quote(lines: [{sku: "TOP-1", quantity: -1}], channel: "web", currency: "EUR")'
            " { total { amount } } }",
            "INVALID_QUANTITY",
        ),
        (
            '{ quote(lines: [{sku: "NOPE", quantity: 1}], channel: "web", currency: "EUR")'
            " { total { amount } } }",
            "UNKNOWN_SKU",
        ),
        (
            '{ quote(lines: [{sku: "TOP-1", quantity: 1}], channel: "web", currency: "JPY")'
            " { total { amount } } }",
            "UNSUPPORTED_CURRENCY",
        ),
        (
            '{ _entities(representations: [{__typename: "Product", sku: "TOP-1"}]) {'
            ' ... on Product { price(channel: "moon", currency: "EUR") { taxRate } } } }',
            "UNKNOWN_CHANNEL",
        ),
    ],
)
async def test_bad_requests_get_coded_errors_not_server_errors(
    engine: AsyncEngine, query: str, code: str
) -> None:
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)
        body = await gql(http, query)
    assert codes(body) == [code]


async def test_promotion_versions_and_rollback_reprice_products(engine: AsyncEngine) -> None:
    price = """{ _entities(representations: [{__typename: "Product", sku: "TOP-1"}]) {
      ... on Product { price(channel: "app", currency: "EUR") { promotional { amount } }
                       promotions(channel: "app") { id status } } } }"""
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)

        async def promotional() -> str:
            body = await gql(http, price)
            return str(body["data"]["_entities"][0]["price"]["promotional"]["amount"])

        created = (await gql(http, CREATE, input=promotion_input()))["data"]["createPromotion"]
        pid = created["id"]
        assert created["status"] == "DRAFT"
        assert await promotional() == "20.00"
        activate = f'mutation {{ activatePromotion(id: "{pid}") {{ status }} }}'
        assert (await gql(http, activate))["data"]["activatePromotion"]["status"] == "ACTIVE"
        assert await promotional() == "16.00"
        twice = await gql(http, activate)
        assert codes(twice) == ["INVALID_STATUS_TRANSITION"]
        publish = """mutation ($id: ID!, $input: PromotionInput!) {
          publishPromotionVersion(id: $id, input: $input) { currentVersion } }"""
        new_terms = promotion_input(
            discount={
                "kind": "FIXED_PRICE",
                "amounts": [
                    {"amount": "12.00", "currency": "EUR"},
                    {"amount": "13.00", "currency": "USD"},
                ],
            }
        )
        body = await gql(http, publish, id=pid, input=new_terms)
        assert body["data"]["publishPromotionVersion"]["currentVersion"] == 2
        assert await promotional() == "12.00"
        rollback = f'mutation {{ rollbackPromotion(id: "{pid}") {{ status currentVersion }} }}'
        body = await gql(http, rollback)
        assert body["data"]["rollbackPromotion"] == {"status": "ROLLED_BACK", "currentVersion": 1}
        assert await promotional() == "16.00"
        listed = await gql(http, price)
        assert listed["data"]["_entities"][0]["promotions"] == [
            {"id": pid, "status": "ROLLED_BACK"}
        ]
        pause = f'mutation {{ pausePromotion(id: "{pid}") {{ status }} }}'
        assert (await gql(http, pause))["data"]["pausePromotion"]["status"] == "PAUSED"
        assert await promotional() == "20.00"


async def test_price_list_import_reports_rejects_and_reprices(engine: AsyncEngine) -> None:
    mutation = """mutation ($rows: [PriceRowInput!]!) {
      importPriceList(currency: "EUR", rows: $rows) {
        received accepted changed unchanged rejected { index sku code } } }"""
    price = """{ _entities(representations: [{__typename: "Product", sku: "TOP-1"}]) {
      ... on Product { price(channel: "web", currency: "EUR") { base { amount } } } } }"""
    app = create_app(local_runtime(), engine=engine)
    async with serving(app, "http://pricing") as http:
        await seed_prices(app.state.domain)
        before = await gql(http, price)
        rows = [
            {"sku": "TOP-1", "currency": "EUR", "amount": "24.90"},
            {"sku": "GHOST", "currency": "EUR", "amount": "1.00"},
            {"sku": "TOP-2", "currency": "EUR", "amount": "-3.00"},
            {"sku": "MUG-1", "currency": "USD", "amount": "9.99"},
            {"sku": "TENT-1", "currency": "EUR", "amount": "199.00"},
        ]
        body = await gql(http, mutation, rows=rows)
        after = await gql(http, price)
    assert body["data"]["importPriceList"] == {
        "received": 5,
        "accepted": 2,
        "changed": 1,
        "unchanged": 1,
        "rejected": [
            {"index": 1, "sku": "GHOST", "code": "UNKNOWN_SKU"},
            {"index": 2, "sku": "TOP-2", "code": "NEGATIVE_PRICE"},
            {"index": 3, "sku": "MUG-1", "code": "CURRENCY_MISMATCH"},
        ],
    }
    assert before["data"]["_entities"][0]["price"]["base"]["amount"] == "20.00"
    assert after["data"]["_entities"][0]["price"]["base"]["amount"] == "24.90"
