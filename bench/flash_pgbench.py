"""What PostgreSQL itself does for a flash sale's checkout: ``pgbench`` on one SKU.

``bench/pgbench/flash_sale.sql`` is checkout's work as one transaction, with nothing of
ours in between: the conditional update that holds the units while they last, the
reservation, the order and its line, an outbox row and the ERP posting, on tables laid
out like ours (``flash_sale_tables.sql``). The SKU gets stock for every transaction, so
each one is an accepted order contending for the same row, and the rate pgbench reports
is the database's own accepted-orders rate for that SKU.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "pgbench"
TABLES = SCRIPTS / "flash_sale_tables.sql"
TRANSACTION = SCRIPTS / "flash_sale.sql"
SKU = "FLASH-PGBENCH"
LOCATION = "DC-BENCH"
# Connections pgbench leaves to the server's other users.
SPARE_CONNECTIONS = 10


class PgbenchMissing(Exception):
    """pgbench is not installed (Debian: ``apt-get install postgresql-client``)."""


@dataclass(frozen=True, slots=True)
class PgbenchRun:
    clients: int
    transactions: int
    failed: int
    tps: float
    latency_ms: float
    # Orders the tables hold afterwards, and the units the stock row reserved.
    orders: int
    reserved: int

    @property
    def consistent(self) -> bool:
        return self.orders == self.reserved == self.transactions - self.failed


def parse_output(output: str) -> tuple[int, int, float, float]:
    """Transactions processed, failed, tps (without connecting) and mean latency (ms)."""
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    latency = re.search(r"latency average = ([\d.]+) ms", output)
    if not (processed and tps and latency):
        raise ValueError(f"unexpected pgbench output:\n{output}")
    return (
        int(processed.group(1)),
        int(failed.group(1)) if failed else 0,
        float(tps.group(1)),
        float(latency.group(1)),
    )


def transactions_per_client(total: int, clients: int) -> int:
    return max(1, math.ceil(total / clients))


def _psql(url: str, *arguments: str) -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def free_connections(url: str) -> int:
    """Connections the server would still accept, short of its reserved ones."""
    return int(
        _psql(
            url,
            "-c",
            "SELECT current_setting('max_connections')::int "
            "- current_setting('superuser_reserved_connections')::int "
            "- (SELECT count(*) FROM pg_stat_activity)",
        )
    )


def run_pgbench(url: str, clients: int, total: int, units: int) -> PgbenchRun:
    """``total`` checkouts of ``units`` over ``clients`` connections on fresh tables."""
    if shutil.which("pgbench") is None:
        raise PgbenchMissing("pgbench not found")
    per_client = transactions_per_client(total, clients)
    _psql(url, "-f", str(TABLES))
    stock = clients * per_client * units
    _psql(
        url,
        "-c",
        f"INSERT INTO flash_pgbench.stock (sku, location_id, on_hand) "
        f"VALUES ('{SKU}', '{LOCATION}', {stock})",
    )
    command = [
        "pgbench", "-n", "-M", "prepared", "-f", str(TRANSACTION),
        "-c", str(clients), "-j", "2", "-t", str(per_client),
        "-D", f"sku={SKU}", "-D", f"location={LOCATION}", "-D", f"units={units}",
        url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    processed, failed, tps, latency_ms = parse_output(done.stdout)
    orders = int(_psql(url, "-c", "SELECT count(*) FROM flash_pgbench.orders"))
    reserved = int(_psql(url, "-c", "SELECT reserved FROM flash_pgbench.stock"))
    return PgbenchRun(clients, processed, failed, tps, latency_ms, orders, reserved // units)
