"""Starting the pricing domain: its database, outbox relay, read models, consumers, and
the announcements of promotion windows opening and closing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.bus import Consumer
from adapters.runtime import DomainBase, Runtime, open_database
from domains.pricing import handlers, imports, tables, windows
from domains.pricing.model import DEFAULT_MAX_PRICE_CHANGE_PERCENT
from domains.pricing.read_models import PricingReadModels
from domains.pricing.uow import PricingUnitOfWork

log = logging.getLogger(__name__)

# How often each process looks for promotion windows that opened or closed, and for
# scheduled prices that took effect: an announcement comes at most this late, and the
# look is three indexed reads.
WINDOW_POLL_SECONDS = 2.0


class PricingDomain(DomainBase):
    """What the pricing subgraph, the demo loader and the ERP import work with."""

    def __init__(
        self,
        engine: AsyncEngine,
        runtime: Runtime,
        *,
        owns_engine: bool,
        max_price_change_percent: Decimal = DEFAULT_MAX_PRICE_CHANGE_PERCENT,
    ) -> None:
        super().__init__(engine, runtime, tables.outbox, owns_engine=owns_engine)
        self.read_models = PricingReadModels(
            runtime.cache, engine, clock=runtime.clock, sales=runtime.sales
        )
        # A price list row moving a price by more than this is held for approval.
        self.max_price_change_percent = max_price_change_percent
        self._windows_task: asyncio.Task[None] | None = None

    def uow(self) -> PricingUnitOfWork:
        return PricingUnitOfWork(
            self._sessions,
            engine=self.engine,
            clock=self.clock,
            on_commit=self.wake_relay,
            after_commit=self.read_models.invalidate_for,
        )

    def consumers(self) -> list[Consumer]:
        return handlers.consumers(self)

    def start_background(self, *, poll_every: float = WINDOW_POLL_SECONDS) -> None:
        self.relay.start()
        self._windows_task = asyncio.create_task(
            self._announce_windows(poll_every), name="pricing-promotion-windows"
        )

    async def announce_windows(self) -> list[windows.DueTransition]:
        """One pass: announce the windows that opened or closed by the clock's now."""
        return await windows.announce_due_transitions(self.uow)

    async def announce_prices(self) -> int:
        """One pass: announce the scheduled prices that took effect by the clock's now."""
        return await imports.announce_due_prices(self.uow)

    async def _announce_windows(self, every: float) -> None:
        while True:
            for name, announce in (
                ("promotion window", self.announce_windows),
                ("scheduled price", self.announce_prices),
            ):
                try:
                    await announce()
                except Exception:  # the scheduler must outlive a bad pass (the database away)
                    log.exception("%s pass failed", name)
            await asyncio.sleep(every)

    async def stop_background(self) -> None:
        task, self._windows_task = self._windows_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.relay.stop()

    async def close(self) -> None:
        await self.stop_background()
        await super().close()


async def start(
    runtime: Runtime,
    *,
    engine: AsyncEngine | None = None,
    max_price_change_percent: Decimal = DEFAULT_MAX_PRICE_CHANGE_PERCENT,
) -> PricingDomain:
    """The running domain; ``engine`` lets tests hand in a private database;
    ``max_price_change_percent`` is the import guard's (``[pricing]``)."""
    engine, owns_engine = await open_database(runtime, "pricing", tables.metadata, engine)
    domain = PricingDomain(
        engine, runtime, owns_engine=owns_engine, max_price_change_percent=max_price_change_percent
    )
    domain.start_background()
    return domain
