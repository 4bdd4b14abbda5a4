"""Starting the inventory domain: database, outbox relay, availability cache, expiry sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import Consumer
from adapters.runtime import DomainBase, Runtime, open_database
from domains.inventory import handlers, service, tables
from domains.inventory.read_models import AvailabilityReadModel
from domains.inventory.reservation_batches import ReservationBatches
from domains.inventory.uow import InventoryUnitOfWork
from kernel.events import Event

log = logging.getLogger(__name__)


class InventoryDomain(DomainBase):
    """What the inventory subgraph, the demo loader, checkout and the ERP sync work with."""

    def __init__(self, engine: AsyncEngine, runtime: Runtime, *, owns_engine: bool) -> None:
        super().__init__(engine, runtime, tables.outbox, owns_engine=owns_engine)
        self.availability = AvailabilityReadModel(runtime.cache, engine, clock=runtime.clock)
        self.reservations = ReservationBatches(self.uow)
        self._sweep_task: asyncio.Task[None] | None = None

    def uow(self) -> InventoryUnitOfWork:
        return InventoryUnitOfWork(
            self._sessions,
            clock=self.clock,
            on_commit=self.wake_relay,
            after_commit=self._after_commit,
        )

    async def _after_commit(self, events: list[Event]) -> None:
        try:
            await self.availability.invalidate_for(events)
        except Exception:
            # The change is committed; failing the request now would invite a retry of
            # something that worked. The entry still expires on its own (fresh_for).
            log.exception("could not invalidate cached availability")

    def consumers(self) -> list[Consumer]:
        return handlers.consumers(self)

    def start_background(self, *, sweep_every: float = 5.0) -> None:
        self.relay.start()
        self._sweep_task = asyncio.create_task(
            self._sweep(sweep_every), name="inventory-expiry-sweep"
        )

    async def _sweep(self, every: float) -> None:
        # Expired reservations already stop counting; the sweep makes that durable and
        # announces the freed stock so caches and subscribers follow.
        while True:
            await asyncio.sleep(every)
            try:
                await service.expire_reservations(self.uow())
            except Exception:  # the sweep must outlive a bad pass
                log.exception("reservation expiry sweep failed")

    async def stop_background(self) -> None:
        await self.relay.stop()
        task, self._sweep_task = self._sweep_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        await self.stop_background()
        await super().close()


async def start(runtime: Runtime, *, engine: AsyncEngine | None = None) -> InventoryDomain:
    """The running domain; ``engine`` lets tests hand in a private database."""
    engine, owns_engine = await open_database(runtime, "inventory", tables.metadata, engine)
    domain = InventoryDomain(engine, runtime, owns_engine=owns_engine)
    domain.start_background()
    return domain
