"""The checkout services in their production shape, on a PostgreSQL database made for one run.

The four subgraphs each in its own process (``retailgraph subgraph NAME``, orders calling
pricing and inventory over HTTP) and the gateway (``retailgraph gateway``). Callers reach
checkout as a storefront does: an API key naming a client granted ``orders:place``, and
the gateway signing that identity for the subgraphs with a secret they share. Without
the key, ``placeOrder`` is refused (``@requiresScopes``); without the shared secret, the
subgraphs see every caller as anonymous.

Events stay in each process (no Redis): inventory's commitment of the reserved units
happens after the answer and is not on the measured path.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from adapters.db.engine import DatabaseLocations, create_engine, normalise_url
from adapters.runtime import Runtime
from bench.processes import Started, free_port, start, tree_cpu_seconds
from domains.inventory import service as inventory
from domains.inventory.model import ChannelRule, LocationKind, StockLevel
from domains.pricing import imports
from gateway.security.clients import key_hash
from retailgraph.domains import DOMAINS
from retailgraph.embedded import running_subgraphs

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DC = "DC-BENCH"
CHANNEL = "web"
STOREFRONT = "storefront"


async def create_database(server: str, name: str) -> str:
    """A new database ``name`` on ``server``; its URL."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return normalise_url(database_url(server, name))


def database_url(server: str, name: str) -> str:
    """Database ``name`` on ``server``, as libpq (psql, pgbench) takes it."""
    return server.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(server: str, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def seed(url: str, stock: dict[str, int]) -> None:
    """Each SKU of ``stock`` priced (pricing) and held at one DC serving the web channel
    (inventory) in that many units, through the service layer."""
    skus = list(stock)
    runtime = Runtime(databases=DatabaseLocations(shared=url), migrate_on_start=True)
    apps = {name: DOMAINS[name].create_app(runtime) for name in DOMAINS}
    async with running_subgraphs(apps) as domains:
        pricing, held = domains["pricing"], domains["inventory"]
        facts = [imports.SkuFacts(sku, "bench", Decimal("0.19")) for sku in skus]
        await imports.register_skus(pricing.uow(), facts)
        rows = [imports.PriceRow(sku, "EUR", f"{10 + n % 90}.99") for n, sku in enumerate(skus)]
        await imports.import_price_list(pricing.uow, "EUR", rows)
        await inventory.save_location(
            held.uow(), id=DC, name=DC, kind=LocationKind.DC, region="bench",
            rules=[ChannelRule(CHANNEL)],
        )  # fmt: skip
        await inventory.import_stock_levels(
            held.uow(), [StockLevel(sku, DC, on_hand=units) for sku, units in stock.items()]
        )
    await runtime.close()


@dataclass(frozen=True, slots=True)
class Storefront:
    """The storefront's API key and the secret the gateway signs its identity with."""

    api_key: str
    identity_secret: str

    @classmethod
    def made_up(cls) -> Storefront:
        return cls(api_key=secrets.token_urlsafe(24), identity_secret=secrets.token_hex(32))

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def settings_file(self, folder: Path) -> Path:
        """The settings every process of the run reads (``RETAILGRAPH_CONFIG``)."""
        path = folder / "retailgraph.toml"
        path.write_text(
            f'[gateway]\nidentity_secret = "{self.identity_secret}"\n\n'
            f"[gateway.clients.{STOREFRONT}]\n"
            f'api_key_hashes = ["{key_hash(self.api_key)}"]\n'
            'scopes = ["orders:place"]\n\n'
            f'[subgraphs]\nidentity_secret = "{self.identity_secret}"\n'
        )
        return path


@dataclass(frozen=True, slots=True)
class Services:
    started: list[Started]
    # The subgraphs' GraphQL URLs, then the gateway's.
    urls: list[str]

    @property
    def gateway(self) -> str:
        return self.urls[-1]

    def cpu_seconds(self) -> float:
        """What the five processes have spent (PostgreSQL's CPU is not counted)."""
        return sum(self.cpu_seconds_by_process().values())

    def cpu_seconds_by_process(self) -> dict[str, float]:
        """What each of the five processes has spent, by name (a subgraph's, or gateway)."""
        return {process.name: tree_cpu_seconds(process.pid) for process in self.started}

    def sql_counts(self) -> dict[str, float]:
        """The SQL statements and transactions the four subgraphs have run so far, summed
        from their ``/metrics`` (``retailgraph_db_statements``, ``..._transactions``)."""
        totals = {"statements": 0.0, "transactions": 0.0}
        for url in self.urls[:-1]:
            text = httpx.get(url.replace("/graphql", "/metrics"), timeout=5).text
            for family in text_string_to_metric_families(text):
                kind = family.name.removeprefix("retailgraph_db_")
                if kind in totals:
                    samples = family.samples
                    totals[kind] += sum(s.value for s in samples if s.name.endswith("_total"))
        return totals

    def up(self) -> bool:
        return all(_up(url) for url in self.urls)

    def stop(self) -> None:
        for process in self.started:
            process.stop()


def start_services(url: str, log_dir: Path, storefront: Storefront) -> Services:
    """The four subgraphs and the gateway on database ``url``, logging into ``log_dir``."""
    ports = {name: free_port() for name in DOMAINS}
    peers = {f"{name.upper()}_SUBGRAPH_URL": graphql_url(ports[name]) for name in DOMAINS}
    # An empty REDIS_URL counts as unset, whatever the environment holds.
    shared = {"RETAILGRAPH_CONFIG": str(storefront.settings_file(log_dir)), "REDIS_URL": ""}
    # seed() has made the tables.
    env = {**shared, "DATABASE_URL": url, **peers}
    started = [
        start(
            name,
            f"{sys.executable} -m retailgraph.cli subgraph {name} --port {ports[name]}",
            cpu=None,
            log_dir=log_dir,
            cwd=ROOT,
            env=env,
        )
        for name in DOMAINS
    ]
    gateway_port = free_port()
    urls = " ".join(f"--subgraph-url {name}={graphql_url(ports[name])}" for name in DOMAINS)
    started.append(
        start(
            "gateway",
            f"{sys.executable} -m retailgraph.cli gateway --supergraph schema.graphql "
            f"--port {gateway_port} {urls}",
            cpu=None,
            log_dir=log_dir,
            cwd=ROOT,
            env=shared,
        )
    )
    subgraph_urls = [graphql_url(ports[name]) for name in DOMAINS]
    return Services(started, [*subgraph_urls, graphql_url(gateway_port)])


def graphql_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/graphql"


def _up(url: str) -> bool:
    try:
        return httpx.get(url.replace("/graphql", "/health"), timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
