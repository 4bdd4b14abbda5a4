"""What a process gives every domain it runs: where the data lives, the bus, the cache,
the clock and the peer subgraphs. The wiring (``retailgraph.wiring``) builds it from the
settings; tests build their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from opentelemetry.trace import Tracer
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from adapters.bus import Bus, Consumer, InProcessBus
from adapters.bus.dedupe import handler_name
from adapters.bus.hub import SubscriptionHub
from adapters.cache.store import MemoryStore, Store
from adapters.db import migrations
from adapters.db.engine import DatabaseLocations, session_factory
from adapters.db.outbox import KEEP_PUBLISHED, OutboxRelay
from adapters.db.statements import count_statements
from adapters.db.tracing import trace_statements
from adapters.metrics.lag import EventLag
from kernel.channels import SalesVocabulary
from kernel.clock import Clock, SystemClock
from kernel.events import Event


@dataclass
class Runtime:
    databases: DatabaseLocations = field(default_factory=DatabaseLocations)
    bus: Bus = field(default_factory=InProcessBus)
    cache: Store = field(default_factory=MemoryStore)
    # Create and upgrade each domain's tables when it starts (the embedded mode, tests);
    # production runs ``retailgraph db upgrade`` as a release step instead.
    migrate_on_start: bool = False
    # The other subgraphs a domain calls (checkout calls pricing and inventory), by name:
    # an ASGI app in this process (embedded, tests) or a URL.
    subgraphs: dict[str, str | ASGIApp] = field(default_factory=dict)
    # Every domain and worker of the process takes "now" from here (tests fix or move it).
    clock: Clock = field(default_factory=SystemClock)
    # The secret the gateway signs each request's caller with (``adapters/graphql/identity``);
    # None: no caller identity is believed, every request is anonymous.
    identity_secret: bytes | None = field(default=None, repr=False)
    # Spans of each request a subgraph serves, of its SQL statements and its calls to
    # peers; None: tracing is off, and no span object is made.
    tracer: Tracer | None = None
    # The channels and currencies the retailer sells in (``[sales]``).
    sales: SalesVocabulary = field(default_factory=SalesVocabulary)
    # How long each domain's outbox keeps an event after relaying it (``[database]``).
    keep_published_events: timedelta = KEEP_PUBLISHED
    _hub: SubscriptionHub | None = field(default=None, init=False, repr=False)
    _lag: EventLag | None = field(default=None, init=False, repr=False)

    @property
    def hub(self) -> SubscriptionHub:
        """The process's one reader of the bus for GraphQL subscriptions, made when a
        subgraph first serves one (one-shot commands never do)."""
        if self._hub is None:
            self._hub = SubscriptionHub(self.bus)
        return self._hub

    @property
    def event_lag(self) -> EventLag:
        """The events each subscribed reaction holds, for the event lag KPI."""
        if self._lag is None:
            self._lag = EventLag(self.clock)
        return self._lag

    def database_url(self, domain: str) -> str:
        return self.databases.url(domain)

    def consume(self, consumers: Sequence[Consumer]) -> None:
        """Subscribe a serving domain's reactions to events (``Domain.consumers()``)."""
        for consumer in consumers:
            # The name the bus would give the handler itself: its group stays the same
            # although the lag tracking wraps it.
            name = consumer.once_as or handler_name(consumer.handler)
            handler = self.event_lag.tracked(name, consumer.subscribed(self.cache))
            self.bus.subscribe(handler, types=consumer.types, group=name)

    async def close(self) -> None:
        """End the subscriptions, then stop the bus's consumers (the Redis Streams bus
        hands its shards back)."""
        if self._hub is not None:
            await self._hub.close()
        await self.bus.close()


async def open_database(
    runtime: Runtime, domain: str, metadata: MetaData, engine: AsyncEngine | None = None
) -> tuple[AsyncEngine, bool]:
    """The domain's engine, migrated when the runtime asks, and whether the caller owns it.

    ``engine`` lets tests hand in a private database, which stays theirs to dispose of.
    """
    owns_engine = engine is None
    engine = engine or runtime.databases.engine(domain)
    if runtime.migrate_on_start:
        await migrations.upgrade(engine, domain, metadata)
    count_statements(engine, domain)
    if runtime.tracer is not None:
        trace_statements(engine, runtime.tracer)
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
        self.sales = runtime.sales
        self._owns_engine = owns_engine
        self._sessions = session_factory(engine)
        self.relay = OutboxRelay(
            engine,
            outbox,
            runtime.bus.publish,
            clock=runtime.clock,
            keep_published=runtime.keep_published_events,
        )

    def consumers(self) -> list[Consumer]:
        """The domain's reactions to events, which a process serving it subscribes."""
        return []

    def wake_relay(self, _events: Sequence[Event]) -> None:
        self.relay.wake()

    async def close(self) -> None:
        await self.relay.stop()
        if self._owns_engine:
            await self.engine.dispose()
