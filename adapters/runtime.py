"""What the process gives every domain app: where its data lives, the bus and the cache."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from adapters.bus import Bus, bus_from_env
from adapters.bus.hub import SubscriptionHub
from adapters.cache.store import Store, store_from_env
from adapters.db import migrations
from adapters.db.engine import create_engine, database_url, session_factory
from adapters.db.outbox import OutboxRelay
from kernel.clock import Clock, SystemClock
from kernel.events import Event

SUBGRAPH_URL_SUFFIX = "_SUBGRAPH_URL"


def subgraph_urls() -> dict[str, str | ASGIApp]:
    """Peer subgraph URLs from the environment: ``PRICING_SUBGRAPH_URL`` names pricing."""
    return {
        name[: -len(SUBGRAPH_URL_SUFFIX)].lower(): url
        for name, url in os.environ.items()
        if name.endswith(SUBGRAPH_URL_SUFFIX) and url
    }


@dataclass
class Runtime:
    # Redis Streams when REDIS_URL is set (production), else the in-process bus.
    bus: Bus = field(default_factory=bus_from_env)
    cache: Store = field(default_factory=store_from_env)
    database_urls: dict[str, str] = field(default_factory=dict)
    # Embedded and test runs create tables on start-up; production runs
    # ``retailgraph db upgrade`` as a release step instead.
    migrate_on_start: bool = field(
        default_factory=lambda: os.environ.get("RETAILGRAPH_MIGRATE_ON_START", "1") == "1"
    )
    # The other subgraphs a domain calls (checkout calls pricing and inventory), by name:
    # an ASGI app in this process (embedded, tests) or a URL (``<NAME>_SUBGRAPH_URL``).
    subgraphs: dict[str, str | ASGIApp] = field(default_factory=subgraph_urls)
    # Every domain and worker of the process takes "now" from here (tests fix or move it).
    clock: Clock = field(default_factory=SystemClock)

    # The process's one reader of the bus for GraphQL subscriptions, made with the runtime.
    hub: SubscriptionHub = field(init=False)

    def __post_init__(self) -> None:
        self.hub = SubscriptionHub(self.bus)

    def database_url(self, domain: str) -> str:
        return self.database_urls.get(domain) or database_url(domain)

    async def close(self) -> None:
        """End the subscriptions, then stop the bus's consumers (the Redis Streams bus
        hands its shards back)."""
        await self.hub.close()
        await self.bus.close()


async def open_database(
    runtime: Runtime, domain: str, metadata: MetaData, engine: AsyncEngine | None = None
) -> tuple[AsyncEngine, bool]:
    """The domain's engine, migrated when the runtime asks, and whether the caller owns it.

    ``engine`` lets tests hand in a private database, which stays theirs to dispose of.
    """
    owns_engine = engine is None
    engine = engine or create_engine(runtime.database_url(domain))
    if runtime.migrate_on_start:
        await migrations.upgrade(engine, domain, metadata)
    return engine, owns_engine


class DomainBase:
    """What every running domain has: its engine and sessions, and an outbox relay that
    publishes to the runtime's bus (woken by ``wake_relay`` after each commit)."""

    def __init__(
        self, engine: AsyncEngine, runtime: Runtime, outbox: Table, *, owns_engine: bool
    ) -> None:
        self.engine = engine
        self.runtime = runtime
        self.clock = runtime.clock
        self._owns_engine = owns_engine
        self._sessions = session_factory(engine)
        self.relay = OutboxRelay(engine, outbox, runtime.bus.publish, clock=runtime.clock)

    def wake_relay(self, _events: Sequence[Event]) -> None:
        self.relay.wake()

    async def close(self) -> None:
        await self.relay.stop()
        if self._owns_engine:
            await self.engine.dispose()
