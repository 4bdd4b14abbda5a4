"""The business KPIs beside the ERP's, through `retailgraph run`'s app: rejected import
rows and movements, promotion activations, price parity across channels, and the
divergence of the newest reconciliation, which GraphQL shows too."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from erp.sync.reconcile import reconcile_inventory
from tests.e2e.operations.support import (
    AS_OPERATOR,
    AS_STOREFRONT,
    Caller,
    samples,
    until,
    value,
)
from tests.support import TEST_NOW

SKU = "ST-0002-01"

IMPORT_PRICES = """
mutation ($rows: [PriceRowInput!]!, $channel: String) {
  importPriceList(currency: "EUR", rows: $rows, channel: $channel) { rejected { code } }
}
"""
MOVE = """
mutation ($doc: String!) {
  applyStockMovements(movements: [{ type: RECEIPT, sku: "ST-0002-01", locationId: "NOWHERE",
                                     quantity: 1, sourceDocumentId: $doc }]) {
    rejected { code }
  }
}
"""
CREATE_PROMOTION = """
mutation ($name: String!, $startsAt: DateTime!, $endsAt: DateTime!) {
  createPromotion(input: {
    name: $name, startsAt: $startsAt, endsAt: $endsAt, skus: ["ST-0002-01"],
    discount: { kind: PERCENT_OFF, percent: "10" }
  }) { id }
}
"""
ACTIVATE = "mutation ($id: ID!) { activatePromotion(id: $id) { status } }"
BASE_PRICE = """
query { product(sku: "ST-0002-01") { price(channel: "web", currency: "EUR") { base { amount } } } }
"""
RECONCILIATIONS = """
query {
  inventoryReconciliations(last: 1) {
    id compared divergentPairs divergentUnits
    divergences(first: 200) { sku locationId difference cause }
  }
}
"""


def rejects(feed: str, reason: str) -> float:
    return value("retailgraph_import_rejects_total", feed=feed, reason=reason)


def activations(result: str) -> float:
    return value("retailgraph_promotion_activations_total", result=result)


async def test_rejected_rows_and_movements_are_counted_by_feed_and_reason(
    embedded: tuple[Caller, Any],
) -> None:
    caller, _ = embedded
    before = {
        ("prices", "NEGATIVE_PRICE"): rejects("prices", "NEGATIVE_PRICE"),
        ("prices", "UNKNOWN_SKU"): rejects("prices", "UNKNOWN_SKU"),
        ("movements", "UNKNOWN_LOCATION"): rejects("movements", "UNKNOWN_LOCATION"),
    }
    rows = [
        {"sku": SKU, "currency": "EUR", "amount": "-1.00"},
        {"sku": "NO-SUCH-SKU", "currency": "EUR", "amount": "1.00"},
    ]
    imported = await caller.post(IMPORT_PRICES, AS_OPERATOR, rows=rows, channel=None)
    moved = await caller.post(MOVE, AS_OPERATOR, doc=f"kpis-{uuid.uuid4()}")

    assert [r["code"] for r in imported["importPriceList"]["rejected"]] == [
        "NEGATIVE_PRICE",
        "UNKNOWN_SKU",
    ]
    assert moved["applyStockMovements"]["rejected"] == [{"code": "UNKNOWN_LOCATION"}]
    assert {key: rejects(*key) - count for key, count in before.items()} == {
        ("prices", "NEGATIVE_PRICE"): 1,
        ("prices", "UNKNOWN_SKU"): 1,
        ("movements", "UNKNOWN_LOCATION"): 1,
    }


async def test_activations_that_take_effect_and_those_refused_are_counted(
    embedded: tuple[Caller, Any],
) -> None:
    caller, _ = embedded
    activated, failed = activations("activated"), activations("failed")

    async def promotion(starts_in: timedelta) -> str:
        window = {
            "startsAt": (TEST_NOW + starts_in).isoformat(),
            "endsAt": (TEST_NOW + starts_in + timedelta(days=1)).isoformat(),
        }
        created = await caller.post(CREATE_PROMOTION, AS_OPERATOR, name="KPI", **window)
        return str(created["createPromotion"]["id"])

    upcoming = await promotion(timedelta(days=2))
    over = await promotion(timedelta(days=-2))
    assert await caller.post(ACTIVATE, AS_OPERATOR, id=upcoming) == {
        "activatePromotion": {"status": "SCHEDULED"}
    }
    refused = await caller.answer(ACTIVATE, AS_OPERATOR, id=over)
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_STATUS_TRANSITION"

    assert (activations("activated") - activated, activations("failed") - failed) == (1, 1)


async def test_a_channel_priced_apart_from_the_others_breaks_parity_until_it_matches(
    embedded: tuple[Caller, Any],
) -> None:
    caller, _ = embedded

    def violations() -> float:
        return value("retailgraph_price_parity_violations", currency="EUR")

    parity = ("retailgraph_price_parity_violations", (("currency", "EUR"),))
    await until(lambda: parity in samples(), "the parity gauge's first reading")
    before = violations()
    price = await caller.post(BASE_PRICE, AS_STOREFRONT)
    base = Decimal(price["product"]["price"]["base"]["amount"])

    async def store_price(amount: Decimal) -> None:
        rows = [{"sku": SKU, "currency": "EUR", "amount": str(amount)}]
        answer = await caller.post(IMPORT_PRICES, AS_OPERATOR, rows=rows, channel="store")
        assert answer == {"importPriceList": {"rejected": []}}

    await store_price(base + 1)
    await until(lambda: violations() == before + 1, "the store's own price to break parity")
    await store_price(base)
    await until(lambda: violations() == before, "the same price to restore parity")


async def test_the_newest_reconciliation_shows_in_graphql_and_in_the_divergence_gauges(
    embedded: tuple[Caller, Any],
) -> None:
    caller, app = embedded
    refused = await caller.answer(RECONCILIATIONS, AS_STOREFRONT)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"

    # The ERP receives units that its stock-move feed has not brought to us yet.
    app.state.erp.adjust_stock("ST-0002-01", "DC-NORTH", Decimal(3))
    app.state.erp.adjust_stock("ST-0002-02", "DC-SOUTH", Decimal(5))
    report = await reconcile_inventory(app.state.erp, app.state.domains["inventory"])
    assert [(d.sku, d.difference, d.cause.value) for d in report.divergences] == [
        ("ST-0002-01", 3, "pending-movement"),
        ("ST-0002-02", 5, "pending-movement"),
    ]
    [shown] = (await caller.post(RECONCILIATIONS, AS_OPERATOR))["inventoryReconciliations"]

    assert report.stored is not None
    assert shown["id"] == report.stored.id
    assert (shown["compared"], shown["divergentPairs"], shown["divergentUnits"]) == (
        report.compared,
        len(report.divergences),
        report.divergent_units,
    )
    largest = max(report.divergences, key=lambda d: abs(d.difference))
    assert abs(shown["divergences"][0]["difference"]) == abs(largest.difference)

    def gauge(name: str) -> float:
        return sum(
            value(name, cause=cause)
            for cause in ("pending-movement", "unposted-order", "unexplained")
        )

    await until(
        lambda: (
            (
                gauge("retailgraph_inventory_divergence_pairs"),
                gauge("retailgraph_inventory_divergence_units"),
            )
            == (shown["divergentPairs"], shown["divergentUnits"])
        ),
        "the gauges to read the newest reconciliation",
    )
