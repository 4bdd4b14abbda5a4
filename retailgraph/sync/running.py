"""The domains a sync command or worker needs, started on the configured databases."""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from adapters.runtime import Runtime

log = logging.getLogger(__name__)


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
