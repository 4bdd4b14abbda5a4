"""`retailgraph worker erp` and `retailgraph erp status|replay` on a real database file."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.db.engine import create_engine
from domains.inventory import bootstrap as inventory_bootstrap
from domains.inventory import erp_postings as inventory_postings
from domains.inventory import service as inventory_service
from domains.inventory.model import Movement, MovementType
from domains.orders import service
from domains.orders.bootstrap import start
from domains.orders.erp_postings import PostingStatus
from domains.orders.model import NewLine
from erp.port import Item
from erp.posting import queue
from erp.simulator import SimulatedErp
from retailgraph.cli import app
from tests.integration.orders.erp_support import drain, fast_worker, postings
from tests.integration.sync.support import seed_locations
from tests.support import local_runtime

ROOT = Path(__file__).parents[2]


def _url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'orders.db'}"


async def _orders(url: str, skus: list[str], *, post_with: SimulatedErp | None = None) -> list[str]:
    engine = create_engine(url)
    domain = await start(local_runtime(), engine=engine)
    try:
        ids = []
        for sku in skus:
            created = await service.create_order(
                domain.uow(),
                idempotency_key=f"cli-{sku}-{time.monotonic_ns()}",
                channel="web",
                fulfilment_type="SHIP_FROM_DC",
                location_id="DC-NORTH",
                customer_reference="cust",
                currency="EUR",
                lines=[NewLine(sku, 1, Decimal("10.00"), None, Decimal("0.19"))],
            )
            ids.append(created.order.id)
        if post_with is not None:
            await drain(engine, fast_worker(engine, post_with))
        return ids
    finally:
        await domain.close()
        await engine.dispose()


async def _status(url: str, order_id: str) -> PostingStatus:
    engine = create_engine(url)
    try:
        [posting] = await postings(engine, order_id)
        return posting.status
    finally:
        await engine.dispose()


async def _dead_lettered_movement(url: str, orders_url: str) -> None:
    """A receipt a WMS sent that the ERP refused (it has no such item): a dead letter."""
    engine, orders_engine = create_engine(url), create_engine(orders_url)
    domain = await inventory_bootstrap.start(local_runtime(), engine=engine)
    orders = await start(local_runtime(), engine=orders_engine)
    try:
        await seed_locations(domain)
        receipt = Movement(MovementType.RECEIPT, "UNKNOWN-1", "DC-NORTH", 3, "ASN-CLI", 1)
        await inventory_service.apply_stock_movements(domain.uow(), [receipt])
        erp = SimulatedErp(items=[Item("KNOWN-1", "Known", Decimal(1))])
        worker = fast_worker(orders_engine, erp, movements=engine)
        for _ in range(3):
            await worker.run_once()
        [posting] = await inventory_postings.postings(engine)
        assert posting.status is inventory_postings.PostingStatus.DEAD_LETTERED
    finally:
        await orders.close()
        await domain.close()
        await orders_engine.dispose()
        await engine.dispose()


def test_erp_replay_requeues_a_dead_lettered_movement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}"
    asyncio.run(_dead_lettered_movement(url, _url(tmp_path)))
    monkeypatch.setenv("INVENTORY_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(app, ["erp", "replay", "--movements", "--order", "x"]).exit_code == 2
    replayed = runner.invoke(app, ["erp", "replay", "--movements"])
    assert replayed.output.strip() == "replayed 1 stock move posting(s)", replayed.output
    again = runner.invoke(app, ["erp", "replay", "--movements"])
    assert again.output.strip() == "replayed 0 stock move posting(s)"


def test_erp_status_lists_dead_letters_and_replay_requeues_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _url(tmp_path)
    erp = SimulatedErp(items=[Item("KNOWN-1", "Known", Decimal(1))])
    poison, _ = asyncio.run(_orders(url, ["UNKNOWN-1", "KNOWN-1"], post_with=erp))
    monkeypatch.setenv("ORDERS_DATABASE_URL", url)
    runner = CliRunner()

    status = runner.invoke(app, ["erp", "status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert (report["pending"], report["deadLettered"]) == (0, 1)
    [dead] = report["deadLetters"]
    assert dead["orderId"] == poison
    assert "UNKNOWN-1" in dead["lastError"]

    assert runner.invoke(app, ["erp", "replay"]).exit_code == 2
    replayed = runner.invoke(app, ["erp", "replay", "--order", poison])
    assert replayed.output.strip() == "replayed 1 posting(s)"
    again = runner.invoke(app, ["erp", "replay", "--all-dead-lettered"])
    assert again.output.strip() == "replayed 0 posting(s)"
    text = runner.invoke(app, ["erp", "status"]).output
    assert "backlog: 1 (1 pending, 0 in progress)" in text
    assert "dead letters: 0" in text


def test_erp_worker_refuses_an_unknown_erp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAILGRAPH_ERP__KIND", "sap")
    result = CliRunner().invoke(app, ["worker", "erp"])
    assert result.exit_code == 1
    assert "erp.kind: Input should be 'simulator' or 'tryton' (got 'sap')" in result.output


def test_erp_worker_process_posts_the_backlog_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = _url(tmp_path)
    # The worker posts to the simulated ERP of its data folder, which holds the demo
    # retailer's item master: the order is for one of its SKUs.
    [order_id] = asyncio.run(_orders(url, ["ST-0002-01"]))
    env = {
        **os.environ,
        "ORDERS_DATABASE_URL": url,
        "RETAILGRAPH_DATA_DIR": str(tmp_path / "data"),
        "RETAILGRAPH_ERP__WORKER__POLL_INTERVAL": "0.05",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "RETAILGRAPH_ERP__KIND"):
        env.pop(name, None)
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "retailgraph.cli", "worker", "erp"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while asyncio.run(_status(url, order_id)) is not PostingStatus.POSTED:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (asyncio.run(_backlog(url))).pending == 0


async def _backlog(url: str) -> queue.Backlog:
    engine = create_engine(url)
    try:
        return await queue.backlog(engine)
    finally:
        await engine.dispose()
