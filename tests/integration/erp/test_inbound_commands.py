"""`retailgraph sync ...` and `retailgraph reconcile inventory` end to end against Tryton."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
from typer.testing import CliRunner

from adapters.db.engine import create_engine
from domains.inventory import bootstrap as inventory_bootstrap
from domains.orders import bootstrap as orders_bootstrap
from domains.orders.model import Order
from erp.port import OrderLine, SalesOrder
from erp.tryton.erp import TrytonErp
from retailgraph.cli import app
from retailgraph.demo.catalog import demo_catalog
from tests.integration.erp.tryton_ops import receive, ship
from tests.integration.erp.tryton_server import TrytonServer
from tests.integration.sync.support import released_order, seed_locations, set_on_hand
from tests.support import local_runtime

pytestmark = pytest.mark.tryton

T = TypeVar("T")
SKU = demo_catalog().items[140].sku


@pytest.fixture
def runner(
    tryton_server: TrytonServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'retailgraph.db'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("RETAILGRAPH_ERP__KIND", "tryton")
    monkeypatch.setenv("TRYTON_URL", tryton_server.url)
    monkeypatch.setenv("TRYTON_DATABASE", tryton_server.database)
    monkeypatch.setenv("TRYTON_USER", tryton_server.login)
    monkeypatch.setenv("TRYTON_PASSWORD", tryton_server.password)
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    return runner


def on_tryton(server: TrytonServer, work: Callable[[TrytonErp], Awaitable[T]]) -> T:
    async def main() -> T:
        erp = TrytonErp(server.url, server.database, server.login, server.password)
        try:
            return await work(erp)
        finally:
            await erp.close()

    return asyncio.run(main())


def set_our_stock(tmp_path: Path, levels: dict[tuple[str, str], int]) -> None:
    async def main() -> None:
        engine = create_engine(f"sqlite:///{tmp_path / 'retailgraph.db'}")
        domain = await inventory_bootstrap.start(local_runtime(), engine=engine)
        try:
            await seed_locations(domain)
            await set_on_hand(domain, levels)
        finally:
            await domain.close()
            await engine.dispose()

    asyncio.run(main())


def test_stock_sync_and_reconcile_commands_against_tryton(
    runner: CliRunner, tryton_server: TrytonServer, tmp_path: Path
) -> None:
    async def levels(erp: TrytonErp) -> dict[tuple[str, str], int]:
        found = await erp.stock_levels(
            skus=[SKU], locations=[loc.id for loc in demo_catalog().locations]
        )
        return {(level.sku, level.location): int(level.quantity) for level in found}

    tryton_levels = on_tryton(tryton_server, levels)
    set_our_stock(tmp_path, tryton_levels)
    assert "First poll" in runner.invoke(app, ["sync", "stock"]).output

    on_tryton(tryton_server, lambda erp: receive(erp, SKU, "DC-NORTH", 4))
    polled = runner.invoke(app, ["sync", "stock"])
    assert polled.exit_code == 0, polled.output
    assert "1 movements applied" in polled.output
    clean = runner.invoke(app, ["reconcile", "inventory", "--json", "--sku", SKU])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.output)["divergentPairs"] == 0

    set_our_stock(tmp_path, {(SKU, "DC-SOUTH"): tryton_levels[(SKU, "DC-SOUTH")] + 3})
    found = runner.invoke(app, ["reconcile", "inventory", "--sku", SKU])
    assert found.exit_code == 0, found.output
    assert "unexplained" in found.output
    assert "1 diverge by 3 units" in found.output
    repaired = runner.invoke(app, ["reconcile", "inventory", "--sku", SKU, "--repair"])
    assert f"Repaired {SKU} at DC-SOUTH: adjusted by -3" in repaired.output
    after = json.loads(
        runner.invoke(app, ["reconcile", "inventory", "--json", "--sku", SKU]).output
    )
    assert after["divergences"] == []


def test_import_commands_against_tryton_report_rejects_and_succeed(runner: CliRunner) -> None:
    products = runner.invoke(app, ["sync", "products"])
    assert products.exit_code == 0, products.output
    assert "INVALID_PRODUCT" in products.output  # Tryton items we have never seen: no brand
    assert "Items:" in products.output

    prices = runner.invoke(app, ["sync", "prices", "--currency", "USD"])
    assert prices.exit_code == 0, prices.output
    assert "CURRENCY_MISMATCH" in prices.output  # Tryton's prices are in EUR
    assert "0 changed, 0 unchanged" in prices.output


def test_an_unreachable_tryton_fails_the_command(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRYTON_URL", "http://127.0.0.1:9/")
    result = runner.invoke(app, ["sync", "stock"])
    assert result.exit_code == 1
    assert "error: Tryton unreachable" in result.output


def our_on_hand(tmp_path: Path, sku: str, location: str) -> int | None:
    with sqlite3.connect(tmp_path / "retailgraph.db") as db:
        row = db.execute(
            "SELECT on_hand FROM inventory_stock WHERE sku = ? AND location_id = ?",
            (sku, location),
        ).fetchone()
    return None if row is None else int(row[0])


def test_stock_worker_applies_tryton_moves_until_sigterm(
    runner: CliRunner, tryton_server: TrytonServer, tmp_path: Path
) -> None:
    item = demo_catalog().items[141].sku
    set_our_stock(tmp_path, {(item, "DC-NORTH"): 0})
    assert "First poll" in runner.invoke(app, ["sync", "stock"]).output
    worker = subprocess.Popen(
        [sys.executable, "-m", "retailgraph.cli", "worker", "stock", "--every", "0.2"],
        env=dict(os.environ),  # the runner fixture set the databases and Tryton
        cwd=Path(__file__).parents[3],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        on_tryton(tryton_server, lambda erp: receive(erp, item, "DC-NORTH", 6))
        deadline = time.monotonic() + 60
        while our_on_hand(tmp_path, item, "DC-NORTH") != 6 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert our_on_hand(tmp_path, item, "DC-NORTH") == 6
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "stock poll" in output


def test_sync_stock_confirms_a_tryton_shipment_of_our_order(
    runner: CliRunner, tryton_server: TrytonServer, tmp_path: Path
) -> None:
    item = demo_catalog().items[142].sku
    set_our_stock(tmp_path, {(item, "DC-NORTH"): 50})

    async def released() -> Order:
        engine = create_engine(f"sqlite:///{tmp_path / 'retailgraph.db'}")
        domain = await orders_bootstrap.start(local_runtime(), engine=engine)
        try:
            return await released_order(domain, [(item, 2)])
        finally:
            await domain.close()
            await engine.dispose()

    order = asyncio.run(released())
    assert "First poll" in runner.invoke(app, ["sync", "stock"]).output

    async def post_and_ship(erp: TrytonErp) -> None:
        lines = (OrderLine(item, Decimal(2), Decimal("19.99")),)
        await erp.post_sales_order(
            SalesOrder(order.number, "RetailGraph Web Shop", "EUR", lines, location="DC-NORTH")
        )
        await ship(erp, order.number)

    on_tryton(tryton_server, post_and_ship)
    result = runner.invoke(app, ["sync", "stock"])
    assert result.exit_code == 0, result.output
    assert "Shipments" in result.output
    assert order.number in result.output
    assert "SHIPPED" in result.output
    assert our_on_hand(tmp_path, item, "DC-NORTH") == 48
