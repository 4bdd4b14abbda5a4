"""`retailgraph demo` seeds the configured databases once, with progress shown."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from retailgraph.demo.catalog import demo_catalog


def _run_demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RETAILGRAPH_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "retailgraph.cli", "demo"],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_demo_command_loads_the_demo_retailer_once(tmp_path: Path) -> None:
    first = _run_demo(tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Loaded orders" in first.stdout
    catalog = demo_catalog()
    assert _count(tmp_path / "products.db", "products_product") == len(catalog.items)
    orders_before = _count(tmp_path / "orders.db", "orders_orders")
    assert orders_before > 0

    again = _run_demo(tmp_path)
    assert again.returncode == 0, again.stderr
    assert _count(tmp_path / "products.db", "products_product") == len(catalog.items)
    assert _count(tmp_path / "orders.db", "orders_orders") == orders_before
