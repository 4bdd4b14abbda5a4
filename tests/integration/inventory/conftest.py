"""An inventory domain on the test's private database, with two locations to stock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.applications import Starlette

from adapters.runtime import Runtime
from domains.inventory import service, tables
from domains.inventory.app import create_app
from domains.inventory.bootstrap import InventoryDomain
from domains.inventory.model import ChannelRule, LocationKind, StockLevel
from tests.support import local_runtime, serving


async def seed_locations(domain: InventoryDomain) -> None:
    """DC serves web fully and app at half (at most 10); the store serves store and web."""
    await service.save_location(
        domain.uow(),
        id="DC",
        name="Distribution centre",
        kind=LocationKind.DC,
        region="north",
        rules=[ChannelRule("web"), ChannelRule("app", 50, cap=10)],
    )
    await service.save_location(
        domain.uow(),
        id="ST",
        name="Store",
        kind=LocationKind.STORE,
        region="south",
        rules=[ChannelRule("store"), ChannelRule("web")],
    )
    await service.set_channel_policy(domain.uow(), "web", counts_incoming=True)


async def stock(
    domain: InventoryDomain, sku: str, location_id: str = "DC", **quantities: int
) -> None:
    await service.import_stock_levels(domain.uow(), [StockLevel(sku, location_id, **quantities)])


def new_sku() -> str:
    return f"SKU-{uuid.uuid4().hex[:10]}"


async def open_domain(engine: AsyncEngine, runtime: Runtime | None = None) -> InventoryDomain:
    # create_all is several times faster than replaying the migrations for every test;
    # test_migrations proves the two build the same tables.
    async with engine.begin() as conn:
        await conn.run_sync(tables.metadata.create_all, checkfirst=True)
    runtime = runtime or local_runtime(migrate_on_start=False)
    return InventoryDomain(engine, runtime, owns_engine=False)


@pytest.fixture
async def domain(engine: AsyncEngine) -> AsyncIterator[InventoryDomain]:
    domain = await open_domain(engine)
    await seed_locations(domain)
    yield domain
    await domain.close()


@pytest.fixture
async def served(engine: AsyncEngine) -> AsyncIterator[tuple[httpx.AsyncClient, InventoryDomain]]:
    """The subgraph over ASGI with its lifespan run, and the domain behind it."""
    async with serve(create_app(local_runtime(), engine=engine)) as (client, domain):
        yield client, domain


@asynccontextmanager
async def serve(
    app: Starlette, *, seed: bool = True
) -> AsyncIterator[tuple[httpx.AsyncClient, InventoryDomain]]:
    async with serving(app, "http://inventory") as client:
        domain: InventoryDomain = app.state.domain
        # No relay or sweep passes in the middle of a test's statement count.
        await domain.stop_background()
        if seed:
            await seed_locations(domain)
        yield client, domain


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@contextmanager
def counted_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block (SQLite's BEGIN not counted)."""
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


@asynccontextmanager
async def holder(domain: InventoryDomain, sku: str) -> AsyncIterator[tuple[AsyncConnection, int]]:
    """A transaction holding the lock of ``sku``'s stock row at DC, and its backend's pid;
    rolled back on leaving unless the test committed it."""
    async with domain.engine.connect() as conn:
        await conn.begin()
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        locked = (
            select(tables.stock.c.sku)
            .where(tables.stock.c.sku == sku, tables.stock.c.location_id == "DC")
            .with_for_update()
        )
        assert (await conn.execute(locked)).first() is not None
        try:
            yield conn, pid
        finally:
            if conn.in_transaction():
                await conn.rollback()


async def someone_waits_for(domain: InventoryDomain, pid: int) -> None:
    """Returns once another backend waits for a lock that backend ``pid`` holds."""
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    async with domain.engine.connect() as conn:
        while not (await conn.execute(waiting, {"pid": pid})).scalar_one():
            await conn.rollback()
            await asyncio.sleep(0.005)
