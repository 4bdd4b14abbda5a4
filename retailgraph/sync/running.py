"""The domains a sync command or worker needs, started on the configured databases."""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from adapters.bus import Bus, Handler, bus_from_env
from adapters.runtime import Runtime
from kernel.events import Event

log = logging.getLogger(__name__)


class PublishOnlyBus:
    """A bus the sync commands and workers publish to and consume nothing from.

    Consuming domain events is the subgraph services' job: a one-shot command must not
    join their consumer groups, and a handler called from inside another domain's relay
    transaction would wait on it when two domains share one SQLite file.
    """

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def publish(self, events: Sequence[Event]) -> None:
        await self._bus.publish(events)

    def subscribe(
        self,
        handler: Handler,
        *,
        types: Sequence[str] | None = None,
        group: str | None = None,
        fanout: bool = False,
    ) -> None:
        return None

    async def close(self) -> None:
        await self._bus.close()


def sync_runtime() -> Runtime:
    """The configured databases and bus, publishing only."""
    return Runtime(bus=PublishOnlyBus(bus_from_env()))


@contextlib.asynccontextmanager
async def running_domains(runtime: Runtime, *names: str) -> AsyncIterator[dict[str, Any]]:
    """Start ``names`` (their outbox relays publish to the runtime's bus); on the way out,
    publish what is still in their outboxes, then stop them."""
    started: dict[str, Any] = {}
    try:
        for name in names:
            bootstrap = importlib.import_module(f"domains.{name}.bootstrap")
            started[name] = await bootstrap.start(runtime)
        yield started
    finally:
        for name, domain in reversed(started.items()):
            try:
                await domain.relay.drain()
            except Exception:  # the rows stay in the outbox for the next relay
                log.exception("could not publish the %s outbox before stopping", name)
            await domain.close()
        await runtime.close()
