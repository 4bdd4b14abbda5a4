"""`retailgraph sync ...` and `retailgraph reconcile inventory` end to end, on the ERP
simulator that holds the demo retailer (the default when no ERP is configured)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from domains.pricing import imports
from domains.pricing.repository import fetch_sku_prices
from retailgraph.cli import app
from retailgraph.demo.catalog import demo_catalog
from retailgraph.settings import load_settings
from retailgraph.wiring import running_domains


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'retailgraph.db'}")
    # The simulated ERP lives in the data folder: this test's own.
    monkeypatch.setenv("RETAILGRAPH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("RETAILGRAPH_ERP__KIND", raising=False)
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    return runner


def test_sync_products_imports_the_item_master_and_a_rerun_changes_nothing(
    runner: CliRunner,
) -> None:
    items = len(demo_catalog().items)
    first = runner.invoke(app, ["sync", "products"])
    assert first.exit_code == 0, first.output
    assert f"Items: {items} read, {items} created, 0 updated" in first.output
    again = runner.invoke(app, ["sync", "products"])
    assert again.exit_code == 0, again.output
    assert f"0 created, 0 updated, {items} unchanged, 0 rejected" in again.output


def test_sync_prices_reports_rejected_rows_and_still_succeeds(runner: CliRunner) -> None:
    result = runner.invoke(app, ["sync", "prices"])
    assert result.exit_code == 0, result.output
    # Pricing has not registered any SKU yet: every row is an unknown SKU, not a crash.
    assert "UNKNOWN_SKU" in result.output
    assert "0 changed, 0 unchanged" in result.output


def test_sync_stock_starts_from_the_erps_position(runner: CliRunner) -> None:
    first = runner.invoke(app, ["sync", "stock"])
    assert first.exit_code == 0, first.output
    assert "First poll" in first.output
    again = runner.invoke(app, ["sync", "stock"])
    assert again.exit_code == 0, again.output
    assert "0 moves read, 0 new" in again.output


def test_reconcile_inventory_prints_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["reconcile", "inventory", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["divergentPairs"] == 0
    assert report["divergences"] == []


def test_a_tryton_erp_without_its_address_is_a_clear_failure(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETAILGRAPH_ERP__KIND", "tryton")
    monkeypatch.delenv("TRYTON_URL", raising=False)
    result = runner.invoke(app, ["sync", "stock"])
    assert result.exit_code == 1
    assert "TRYTON_URL" in result.output


def test_sync_prices_schedules_the_erps_prices_for_the_moment_given(runner: CliRunner) -> None:
    item = demo_catalog().items[0]
    later = datetime(2999, 1, 1, tzinfo=UTC)  # in the future whatever today is

    async def register_and_read(at: datetime | None = None) -> Decimal | None:
        async with running_domains(load_settings(), "pricing") as domains:
            pricing = domains["pricing"]
            facts = [imports.SkuFacts(item.sku, item.category, item.tax_rate)]
            await imports.register_skus(pricing.uow(), facts)
            async with pricing.engine.connect() as conn:
                key = (item.sku, "web", "EUR")
                found = await fetch_sku_prices(conn, [key], at or pricing.clock.now())
            return found[key].amount

    assert asyncio.run(register_and_read()) is None
    result = runner.invoke(app, ["sync", "prices", "--effective-from", "2999-01-01"])
    assert result.exit_code == 0, result.output
    assert "1 changed, 0 unchanged" in result.output
    assert asyncio.run(register_and_read()) is None, "not before its moment"
    assert asyncio.run(register_and_read(later)) == item.base_prices["EUR"]
