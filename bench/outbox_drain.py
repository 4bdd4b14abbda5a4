"""How fast ERP sync workers drain the posting queue to the simulator, on PostgreSQL.

For each worker count, a backlog of orders is made in a private PostgreSQL database, then
that many ``retailgraph worker erp`` processes (each posting to its own in-process
simulator with a fixed latency) drain it. The rate is counted from the database: postings
posted divided by the time between the first and the last ``posted_at``, so process
start-up is not counted. It also checks that every order was posted exactly once.

    uv run python -m bench.outbox_drain                         # 2,000 orders; 1, 2, 4 workers
    uv run python -m bench.outbox_drain --orders 5000 --workers 1,2,4,8 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from adapters.db import migrations
from adapters.db.engine import create_engine, normalise_url, session_factory
from domains.orders import tables
from domains.orders.creation import new_order
from domains.orders.erp_postings import PostingStatus
from domains.orders.model import Fulfilment, FulfilmentType, NewLine
from domains.orders.service import created_event
from domains.orders.uow import OrdersUnitOfWork
from kernel.clock import SystemClock
from retailgraph.demo.catalog import demo_catalog

ROOT = Path(__file__).parents[1]
DEFAULT_URL = "postgresql://127.0.0.1:5432/test"
CLOCK = SystemClock()


@dataclass(frozen=True)
class Drain:
    workers: int
    orders: int
    seconds: float
    attempts: int
    # CPU time of the worker processes (user + system) per posting: steadier than the rate
    # on a shared machine.
    cpu_ms_per_posting: float

    @property
    def rate(self) -> float:
        return self.orders / self.seconds if self.seconds else float("inf")


async def make_backlog(url: str, count: int) -> None:
    engine = create_engine(url)
    try:
        await migrations.upgrade(engine, "orders", tables.metadata)
        sessions = session_factory(engine)
        # A SKU of the demo retailer, whose catalogue the worker's simulator holds: it
        # refuses a sale of a product it does not know.
        sku = demo_catalog().items[0].sku
        lines = [NewLine(sku, 1, Decimal("10.00"), None, Decimal("0.19"))]
        for start in range(0, count, 250):
            uow = OrdersUnitOfWork(sessions, engine=engine, clock=CLOCK)
            async with uow:
                for _ in range(min(250, count - start)):
                    order = new_order(
                        order_id=str(uuid.uuid4()),
                        idempotency_key=f"bench-{uuid.uuid4()}",
                        channel="web",
                        customer_reference="bench",
                        fulfilment=Fulfilment(FulfilmentType.SHIP_FROM_DC, "DC-NORTH"),
                        currency="EUR",
                        lines=lines,
                        at=CLOCK.now(),
                        correlation_id=None,
                        line_ids=[str(uuid.uuid4())],
                    )
                    await uow.orders.add(order)
                    uow.record(created_event(order))
                await uow.commit()
    finally:
        await engine.dispose()


async def reset(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(tables.erp_postings).values(
                    status=PostingStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=CLOCK.now(),
                    erp_document_id=None,
                    posted_at=None,
                    lease_owner=None,
                    lease_expires_at=None,
                )
            )
    finally:
        await engine.dispose()


async def progress(url: str) -> tuple[int, int, float, int]:
    """Posted count, total count, seconds from first to last post, attempts made."""
    postings = tables.erp_postings
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            posted = postings.c.status == PostingStatus.POSTED.value
            row = (
                await conn.execute(
                    select(
                        func.count().filter(posted),
                        func.count(),
                        func.min(postings.c.posted_at),
                        func.max(postings.c.posted_at),
                        func.coalesce(func.sum(postings.c.attempts), 0),
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    span = (row[3] - row[2]).total_seconds() if row[2] and row[3] else 0.0
    return int(row[0]), int(row[1]), span, int(row[4])


def start_workers(url: str, count: int, args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ORDERS_DATABASE_URL": url,
        "RETAILGRAPH_MIGRATE_ON_START": "0",
        # The workers' simulator keeps its documents in the data folder: a folder of the
        # run's own, never the user's, whose demo ERP these sales would otherwise enter.
        "RETAILGRAPH_DATA_DIR": args.data_dir,
    }
    env.pop("REDIS_URL", None)
    command = [
        sys.executable, "-m", "retailgraph.cli", "worker", "erp",
        "--concurrency", str(args.concurrency), "--rate", "100000", "--burst", "100000",
        "--simulator-latency", str(args.latency), "--poll-interval", "0.05",
    ]  # fmt: skip
    return [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]  # fmt: skip


async def measure(url: str, workers: int, args: argparse.Namespace) -> Drain:
    await reset(url)
    processes = start_workers(url, workers, args)
    try:
        deadline = time.monotonic() + args.timeout
        while True:
            posted, total, span, attempts = await progress(url)
            if posted == total or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        cpu = sum(cpu_seconds(process.pid) for process in processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    if posted != total:
        raise SystemExit(f"{workers} worker(s) posted {posted} of {total} in {args.timeout}s")
    # Between the first and the last post, posted - 1 posts happened.
    return Drain(workers, posted - 1, span, attempts, cpu * 1000 / total)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc (start-up included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(args: argparse.Namespace) -> None:
    base = make_url(normalise_url(args.database_url))
    name = f"bench_erp_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    args.data_dir = tempfile.mkdtemp(prefix="bench-erp-drain-")
    try:
        print(f"making a backlog of {args.orders} orders in {name} ...", flush=True)
        await make_backlog(url, args.orders)
        results = []
        for count in args.workers:
            drain = await measure(url, count, args)
            results.append(drain)
            print(
                f"{count} worker(s): {drain.rate:,.0f} orders/s "
                f"({drain.orders} posts in {drain.seconds:.2f}s, {drain.attempts} attempts "
                f"for {drain.orders + 1} postings, {drain.cpu_ms_per_posting:.1f} worker CPU ms "
                "per posting)",
                flush=True,
            )
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
        shutil.rmtree(args.data_dir, ignore_errors=True)
    print()
    print("| workers | orders/s | worker CPU ms per posting | simulator latency | in flight each |")
    print("|---|---|---|---|---|")
    for drain in results:
        print(f"| {drain.workers} | {drain.rate:,.0f} | {drain.cpu_ms_per_posting:.1f} "
              f"| {args.latency * 1000:.0f} ms | {args.concurrency} |")  # fmt: skip


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument(
        "--workers", type=lambda v: [int(n) for n in v.split(",")], default=[1, 2, 4]
    )
    parser.add_argument("--concurrency", type=int, default=4, help="posts in flight per worker")
    parser.add_argument("--latency", type=float, default=0.02, help="simulator seconds per call")
    parser.add_argument("--timeout", type=float, default=600)
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
