"""The in-process event bus of the embedded mode."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from kernel.events import Event

if TYPE_CHECKING:
    from adapters.bus.feeds import Feed

log = logging.getLogger(__name__)

Handler = Callable[[Event], Awaitable[None]]


class Bus(Protocol):
    async def publish(self, events: Sequence[Event]) -> None: ...
    def subscribe(
        self,
        handler: Handler,
        *,
        types: Sequence[str] | None = None,
        group: str | None = None,
        fanout: bool = False,
    ) -> None:
        """Call ``handler`` for the events of ``types`` (all when None).

        By default the same handler on several replicas shares the work (its ``group``
        defaults to its qualified name); ``fanout`` gives every replica every event.
        """
        ...

    async def close(self) -> None:
        """Stop consuming (a bus with consumers of its own hands their work back)."""
        ...

    def feed(self, *, keep: int = 10_000) -> Feed:
        """A feed of every event on the bus from now on, with replay after a cursor, for
        the subscription hub; ``keep`` sizes an in-process replay buffer."""
        ...


class InProcessBus:
    """Delivers each event to every matching handler, in publication order.

    A failing handler is logged and does not stop the others: each consumer owns its
    own retries, as it would with a real broker.
    """

    def __init__(self) -> None:
        self._handlers: list[tuple[frozenset[str] | None, Handler]] = []

    def feed(self, *, keep: int = 10_000) -> Feed:
        # The feed module builds on this bus, so it is imported where it is used.
        from adapters.bus.feeds import InProcessFeed

        return InProcessFeed(self, keep=keep)

    def subscribe(
        self,
        handler: Handler,
        *,
        types: Sequence[str] | None = None,
        group: str | None = None,
        fanout: bool = False,
    ) -> None:
        # One process is one replica: sharing and fan-out both mean "call it".
        self._handlers.append((frozenset(types) if types is not None else None, handler))

    async def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            for types, handler in self._handlers:
                if types is None or event.type in types:
                    try:
                        await handler(event)
                    except Exception:
                        log.exception("handler %r failed on event %s", handler, event.id)

    async def close(self) -> None:
        """Nothing to stop: handlers run inside ``publish``."""
