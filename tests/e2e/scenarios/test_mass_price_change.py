"""Scenario 4, a mass price change from the ERP: the ERP reprices thousands of SKUs;
the price sync (what `retailgraph sync prices` runs, here in the shop's own process so
that it shares the shop's clock) imports them with progress, rejects the bad rows with
their reason and carries on (an unknown SKU, a negative price, a row in another
currency, a price moved further than an import may move it alone, held for an
operator); the prices come out the same on every channel, and an operator approves the
held one through the gateway."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from domains.pricing import imports
from domains.products import service as products_service
from erp.port import PriceListEntry
from erp.sync.catalog import sync_prices
from kernel.channels import OWN_CHANNELS as CHANNELS
from tests.e2e.operations.support import until, value
from tests.e2e.scenarios.embedded_shop import AS_OPERATOR, AS_STOREFRONT, Shop, embedded_shop
from tests.support import TEST_NOW

SKUS = [f"MASS-{n:04d}" for n in range(2_000)]
NEGATIVE, IN_DOLLARS, TOO_FAR = "MASS-0007", "MASS-0011", "MASS-0013"
LEFTOVER = "MASS-0000"  # a store price left behind, out of parity before the change
SHOWN = [LEFTOVER, NEGATIVE, IN_DOLLARS, TOO_FAR, "MASS-0001", "MASS-0999", "MASS-1999"]

HELD = """{ heldPriceChanges { id sku oldPrice { amount } newPrice { amount } status } }"""
APPROVE = """mutation ($ids: [ID!]!) { approvePriceChanges(ids: $ids) { sku status } }"""


def old_price(n: int) -> Decimal:
    return Decimal(10 + n % 50) + Decimal("0.99")


def new_price(n: int) -> Decimal:
    return (old_price(n) * Decimal("1.10")).quantize(Decimal("0.01"))


async def _priced_before(shop: Shop) -> None:
    """Pricing knows the 2,000 SKUs, priced for a year; the store kept its own price of
    one; the products subgraph knows the few the test looks at."""
    pricing = shop.app.state.domains["pricing"]
    await imports.register_skus(
        pricing.uow(), [imports.SkuFacts(sku, "home", Decimal("0.19")) for sku in SKUS]
    )
    rows = [imports.PriceRow(sku, "EUR", old_price(n)) for n, sku in enumerate(SKUS)]
    a_year_ago = TEST_NOW.replace(year=TEST_NOW.year - 1)
    await imports.import_price_list(pricing.uow, "EUR", rows, effective_from=a_year_ago)
    await imports.import_price_list(
        pricing.uow, "EUR", [imports.PriceRow(LEFTOVER, "EUR", "11.50")], channel="store"
    )
    await products_service.import_items(
        shop.app.state.domains["products"].uow(),
        [
            {"sku": sku, "name": sku, "description": "", "brand": "Northwind",
             "category": "home", "unit_of_measure": "EA", "style": sku,
             "attributes": {}, "variant": {}}
            for sku in SHOWN
        ],
    )  # fmt: skip


def _erp_mass_change() -> list[PriceListEntry]:
    """The ERP's base list, every SKU 10% up, with its mistakes; and the store's own list
    brought in line with the base."""
    lines = [PriceListEntry("default", sku, new_price(n), "EUR") for n, sku in enumerate(SKUS)]
    index = {sku: n for n, sku in enumerate(SKUS)}
    lines[index[NEGATIVE]] = PriceListEntry("default", NEGATIVE, Decimal("-1.00"), "EUR")
    lines[index[IN_DOLLARS]] = PriceListEntry("default", IN_DOLLARS, Decimal("13.20"), "USD")
    too_far = old_price(index[TOO_FAR]) * 10  # a decimal point slipped
    lines[index[TOO_FAR]] = PriceListEntry("default", TOO_FAR, too_far, "EUR")
    lines.append(PriceListEntry("default", "GHOST-1", Decimal("9.99"), "EUR"))
    lines.append(PriceListEntry("store", LEFTOVER, new_price(0), "EUR"))
    return lines


async def _prices_by_channel(shop: Shop) -> dict[str, dict[str, str]]:
    """The base price of each shown SKU on each channel, through the gateway."""
    fields = " ".join(
        f'{channel}: price(channel: "{channel}", currency: "EUR") {{ base {{ amount }} }}'
        for channel in CHANNELS
    )
    query = (
        "{ "
        + " ".join(f'p{n}: product(sku: "{sku}") {{ sku {fields} }}' for n, sku in enumerate(SHOWN))
        + " }"
    )
    data: dict[str, Any] = await shop.post(query, AS_STOREFRONT)
    return {
        product["sku"]: {channel: product[channel]["base"]["amount"] for channel in CHANNELS}
        for product in data.values()
    }


REASONS = ("UNKNOWN_SKU", "NEGATIVE_PRICE", "CURRENCY_MISMATCH", "HELD_FOR_APPROVAL")


def _rejects(reason: str) -> float:
    return value("retailgraph_import_rejects_total", feed="prices", reason=reason)


def _parity() -> float:
    return value("retailgraph_price_parity_violations", currency="EUR")


async def test_a_mass_price_change_from_the_erp_reaches_every_channel_alike(
    tmp_path: Path,
) -> None:
    async with embedded_shop(tmp_path / "data") as shop:
        await _priced_before(shop)
        await until(lambda: _parity() == 1, "the store's leftover price to break parity")
        shop.erp.set_prices(_erp_mass_change())

        rejected_before = {reason: _rejects(reason) for reason in REASONS}
        progress: list[tuple[int, int]] = []
        started = time.monotonic()
        report = await sync_prices(
            shop.app.state.erp,
            shop.app.state.domains["pricing"],
            batch_size=250,
            on_progress=lambda done, total: progress.append((done, total)),
        )
        took = time.monotonic() - started

        # Two of the ERP's own items (TOP-1 unchanged, TOP-2 repriced) come along.
        assert (report.received, report.changed, report.unchanged) == (2004, 1999, 1)
        assert sorted((row.sku, row.code) for _, row in report.rejected) == [
            ("GHOST-1", "UNKNOWN_SKU"),
            (NEGATIVE, "NEGATIVE_PRICE"),
            (IN_DOLLARS, "CURRENCY_MISMATCH"),
            (TOO_FAR, "HELD_FOR_APPROVAL"),
        ]
        assert {reason: _rejects(reason) - rejected_before[reason] for reason in REASONS} == {
            reason: 1 for reason in REASONS
        }
        assert len(progress) > 8, "progress is reported batch by batch"
        assert [done for done, _ in progress] == sorted(done for done, _ in progress)
        assert progress[-1] == (2004, 2004)
        assert took < 20, f"the import of 2,004 rows took {took:.1f} s"

        prices = await _prices_by_channel(shop)
        for sku, by_channel in prices.items():
            assert len(set(by_channel.values())) == 1, f"{sku} differs by channel: {by_channel}"
        n = SKUS.index
        assert prices[LEFTOVER]["store"] == str(new_price(0))
        assert prices["MASS-1999"]["web"] == str(new_price(1999))
        assert prices[NEGATIVE]["app"] == str(old_price(n(NEGATIVE))), "a bad row changes nothing"
        assert prices[IN_DOLLARS]["app"] == str(old_price(n(IN_DOLLARS)))
        assert prices[TOO_FAR]["app"] == str(old_price(n(TOO_FAR)))
        await until(lambda: _parity() == 0, "parity once the store's list is in line")

        (held,) = (await shop.post(HELD, AS_OPERATOR))["heldPriceChanges"]
        assert (held["sku"], held["status"]) == (TOO_FAR, "HELD")
        assert held["newPrice"]["amount"] == str(old_price(n(TOO_FAR)) * 10)
        refused = await shop.answer(APPROVE, AS_STOREFRONT, ids=[held["id"]])
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
        approved = await shop.post(APPROVE, AS_OPERATOR, ids=[held["id"]])
        assert approved == {"approvePriceChanges": [{"sku": TOO_FAR, "status": "APPROVED"}]}

        after = (await _prices_by_channel(shop))[TOO_FAR]
        assert set(after.values()) == {str(old_price(n(TOO_FAR)) * 10)}
        rerun = await sync_prices(shop.app.state.erp, shop.app.state.domains["pricing"])
        assert (rerun.changed, rerun.held, len(rerun.rejected)) == (0, 0, 3)
