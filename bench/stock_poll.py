"""How fast one stock poll applies a burst of ERP moves, on SQLite and PostgreSQL.

The simulator holds ``--moves`` done receipts spread over the demo retailer's first SKUs
and five locations; one poll applies them all (one movement each, 1,000 per
transaction), then a second poll re-reads them inside the overlap window and applies
nothing. It also checks that on hand grew by exactly what the moves carried.

    uv run python -m bench.stock_poll                    # 5,000 moves, both backends
    uv run python -m bench.stock_poll --moves 20000 --backends postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.db.engine import create_engine
from adapters.runtime import Runtime
from domains.inventory import bootstrap, ledger
from erp.simulator import SimulatedErp
from erp.sync.stock import StockPoller
from retailgraph.demo.catalog import demo_catalog
from retailgraph.demo.inventory import save_locations

POSTGRES = "postgresql://127.0.0.1:5432/test"


async def run(backend: str, moves: int) -> str:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}" if backend == "sqlite" else POSTGRES
        if backend == "postgresql":
            admin = create_engine(url)
            async with admin.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(url, schema=schema if backend == "postgresql" else None)
        runtime = Runtime(bus=InProcessBus(), cache=MemoryStore(), migrate_on_start=True)
        domain = await bootstrap.start(runtime, engine=engine)
        try:
            await domain.stop_background()
            await save_locations(domain, demo_catalog().locations)
            erp = SimulatedErp()
            poller = StockPoller(erp, domain, overlap=datetime.timedelta(minutes=10))
            await poller.poll_once()
            catalog = demo_catalog()
            locations = [location.id for location in catalog.locations]
            for n in range(moves):
                sku = catalog.items[n % 200].sku
                erp.adjust_stock(sku, locations[n % len(locations)], Decimal(1 + n % 3))
            started = time.perf_counter()
            first = await poller.poll_once()
            applying = time.perf_counter() - started
            started = time.perf_counter()
            second = await poller.poll_once()
            rereading = time.perf_counter() - started
            levels = await ledger.stock_at(domain.uow(), locations)
            expected = sum(1 + n % 3 for n in range(moves))
            assert sum(level.on_hand for level in levels) == expected, "on hand is off"
            assert len(first.applied) == moves
            assert second.applied == []
        finally:
            await domain.close()
            await engine.dispose()
            if backend == "postgresql":
                async with admin.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                await admin.dispose()
    return (
        f"{backend:<10} {moves} moves applied in {applying:.2f}s "
        f"({moves / applying:.0f} moves/s); re-read poll {rereading:.2f}s, 0 applied"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moves", type=int, default=5000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        print(asyncio.run(run(backend, args.moves)))


if __name__ == "__main__":
    main()
