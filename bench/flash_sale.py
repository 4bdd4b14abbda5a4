"""Flash sale: many clients buying one SKU of limited stock at once, through the gateway.

The production shape on one machine (``bench.checkout_stack``): the four subgraphs each
in its own process and the gateway, on a PostgreSQL database made for the run, callers
presenting a storefront's API key. Each level gets its own SKU with the same stock at one
DC. That many clients connect, then all send one ``placeOrder`` (their own idempotency
key) at the same moment. The report gives the orders accepted and refused (by code),
orders/s over the burst, accepted orders/s while the stock lasted, p50/p99 latency and
the CPU the five service processes spent per order; and it checks that exactly the stock
was sold (``bench.flash_check``). Beside it, pgbench runs the same transaction against
the database alone (``bench.flash_pgbench``), and the report gives our accepted-orders
rate as a fraction of the database's.

    python -m bench.flash_sale                              # 200 and 1,000 clients, 50 units
    python -m bench.flash_sale --clients 200 --stock 20 --units 2 --skip-pgbench

Exits non-zero when a check fails or any answer was a failure (5xx, error without code).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from adapters.db.engine import create_engine
from bench import report
from bench.checkout_stack import (
    SERVER,
    Services,
    Storefront,
    create_database,
    database_url,
    drop_database,
    seed,
    start_services,
)
from bench.flash_burst import Burst, run_burst
from bench.flash_check import read_sold, stock_checks
from bench.flash_pgbench import SPARE_CONNECTIONS, free_connections, run_pgbench
from bench.processes import wait_until, wait_until_idle

RESULTS = Path(__file__).resolve().parent / "results"
WARM_UP_SKU = "FLASH-WARM-UP"


async def _warm_up(services: Services, storefront: Storefront, clients: int, units: int) -> None:
    """A burst of orders of another SKU first, as many as the first level's: the services
    open the database connections a burst needs (up to their pool's 30 each), make their
    plans and fill their caches, as a running shop has. Warmed by 4 orders, the first
    level opened about a hundred connections during its burst: 10.2 CPU ms per order
    and p99 2.1 s at 200 clients, against 6.5 to 7.9 and 1.35 to 1.55 s warmed."""
    burst = await run_burst(services.gateway, storefront.headers, WARM_UP_SKU, clients, units)
    if burst.accepted != clients:
        raise SystemExit(f"the warm-up orders were not accepted: {burst.summary()}")


async def _checked(url: str, sku: str, burst: Burst, stock: int) -> list[tuple[str, bool]]:
    engine = create_engine(url)
    try:
        sold = await read_sold(engine, sku)
    finally:
        await engine.dispose()
    return stock_checks(
        sold, stock=stock, clients=burst.clients, units=burst.units_per_order,
        accepted=burst.accepted,
    )  # fmt: skip


def _settle(services: Services) -> None:
    """Let the work after the answers (outbox relays, ERP postings) finish."""
    for process in services.started:
        wait_until_idle(process.pid, timeout=20)


def run_level(
    services: Services, storefront: Storefront, url: str, sku: str, clients: int, stock: int,
    units: int,
) -> dict[str, Any]:  # fmt: skip
    _settle(services)
    cpu_before = services.cpu_seconds()
    burst = asyncio.run(run_burst(services.gateway, storefront.headers, sku, clients, units))
    # The CPU of the work the orders caused after their answers counts too.
    _settle(services)
    cpu_ms_per_order = 1000 * (services.cpu_seconds() - cpu_before) / max(1, burst.answered)
    checks = asyncio.run(_checked(url, sku, burst, stock))
    result = {
        **burst.summary(),
        "stock": stock,
        "cpu_ms_per_order": cpu_ms_per_order,
        "checks": [{"statement": statement, "holds": holds} for statement, holds in checks],
        "checked": all(holds for _, holds in checks) and not burst.failures,
    }
    refused = ", ".join(f"{code} {count}" for code, count in sorted(burst.refused.items()))
    print(
        f"{clients:>5} clients, {stock} units: accepted {burst.accepted}, "
        f"refused {refused or 0}, failed {len(burst.failures)}\n"
        f"      burst {burst.wall_seconds:.2f} s, sold out after {burst.sold_out_seconds:.2f} s: "
        f"{burst.orders_per_second:.1f} orders/s, {burst.accepted_per_second:.1f} accepted/s, "
        f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
        f"{cpu_ms_per_order:.1f} CPU ms/order (clients connected in "
        f"{burst.connect_seconds:.2f} s)",
        flush=True,
    )
    for statement, holds in checks:
        print(f"      {'ok  ' if holds else 'FAIL'} {statement}", flush=True)
    if burst.failures:
        print(f"      first failure: {burst.failures[0]}", flush=True)
    return result


def beside_pgbench(url: str, result: dict[str, Any], total: int, units: int) -> None:
    clients = max(1, min(result["clients"], free_connections(url) - SPARE_CONNECTIONS))
    run = run_pgbench(url, clients, total, units)
    result["pgbench"] = {
        "clients": run.clients,
        "transactions": run.transactions,
        "failed": run.failed,
        "tps": run.tps,
        "latency_ms": run.latency_ms,
        "consistent": run.consistent,
    }
    result["accepted_rate_over_pgbench"] = result["accepted_per_second"] / run.tps
    print(
        f"pgbench beside {result['clients']} clients: {run.clients} connections, "
        f"{run.transactions} checkouts ({run.failed} failed), {run.tps:.1f} accepted/s, "
        f"mean latency {run.latency_ms:.1f} ms; tables agree: {run.consistent}\n"
        f"      ours / PostgreSQL alone, accepted orders/s: {result['accepted_per_second']:.1f}"
        f" / {run.tps:.1f} = {result['accepted_rate_over_pgbench']:.3f}",
        flush=True,
    )
    result["checked"] = result["checked"] and run.consistent


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "| Clients | Stock | Accepted | Refused | Failed | Orders/s | Accepted/s | p50 ms "
        "| p99 ms | CPU ms per order | Exactly the stock sold | pgbench accepted/s "
        "| Ours / pgbench |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for level in summary["levels"]:
        refused = ", ".join(f"{code} {n}" for code, n in sorted(level["refused"].items()))
        pgbench = level.get("pgbench")
        beside = (
            f"{pgbench['tps']:.1f} ({pgbench['clients']} conn.) "
            f"| {level['accepted_rate_over_pgbench']:.3f}"
            if pgbench
            else "| "
        )
        lines.append(
            f"| {level['clients']} | {level['stock']} | {level['accepted']} | {refused or 0} "
            f"| {level['failed']} | {level['orders_per_second']:.1f} "
            f"| {level['accepted_per_second']:.1f} | {level['p50_ms']:.1f} "
            f"| {level['p99_ms']:.1f} | {level['cpu_ms_per_order']:.1f} "
            f"| {'yes' if level['checked'] else 'NO'} | {beside} |"
        )
    setup = summary["setup"]
    lines.append("")
    lines.append(
        f"{setup['units_per_order']} unit per order, {setup['date']}, load average "
        f"{setup['load_average_before']:.1f} before the run, HEAD {setup['head']}."
    )
    return "\n".join(lines)


def _head() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="200,1000", help="Clients per burst, per level.")
    parser.add_argument("--stock", type=int, default=50, help="Units of the SKU per level.")
    parser.add_argument("--units", type=int, default=1, help="Units per order.")
    parser.add_argument("--skip-pgbench", action="store_true", help="Our figures alone.")
    parser.add_argument(
        "--pgbench-transactions", type=int, default=5000, help="Checkouts per pgbench run."
    )
    options = parser.parse_args()
    levels = [int(level) for level in options.clients.split(",")]
    skus = {clients: f"FLASH-{n}-{clients}" for n, clients in enumerate(levels)}
    setup = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "head": _head(),
        "units_per_order": options.units,
        "load_average_before": os.getloadavg()[0],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    name = f"bench_flash_{uuid.uuid4().hex[:8]}"
    url = asyncio.run(create_database(SERVER, name))
    services: Services | None = None
    try:
        stock = {sku: options.stock for sku in skus.values()}
        asyncio.run(seed(url, {**stock, WARM_UP_SKU: 10_000}))
        log_dir = Path(tempfile.mkdtemp(prefix="bench-flash-sale-"))
        storefront = Storefront.made_up()
        services = start_services(url, log_dir, storefront)
        if not wait_until(services.up, 60):
            raise SystemExit(f"the services did not start; logs in {log_dir}")
        print(f"flash sale through the gateway on PostgreSQL; logs in {log_dir}", flush=True)
        print(f"load average before: {setup['load_average_before']:.1f}", flush=True)
        asyncio.run(_warm_up(services, storefront, levels[0], options.units))
        results = [
            run_level(services, storefront, url, skus[clients], clients, options.stock,
                      options.units)
            for clients in levels
        ]  # fmt: skip
        # The database alone, with our services and their connections gone.
        services.stop()
        if not options.skip_pgbench:
            plain = database_url(SERVER, name)
            for result in results:
                beside_pgbench(plain, result, options.pgbench_transactions, options.units)
    finally:
        if services is not None:
            services.stop()
        asyncio.run(drop_database(SERVER, name))
    summary = {"setup": setup, "levels": results}
    report.write_latest("flash-sale", summary, markdown(summary), {}, RESULTS)
    print(markdown(summary))
    if not all(result["checked"] for result in results):
        print("FAILED: the checks above marked FAIL, or answers that were failures", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
