"""Idempotent consumers: at-least-once delivery, exactly-once effects, keyed on the event id."""

from __future__ import annotations

from types import FunctionType, MethodType

from adapters.bus.inprocess import Handler
from adapters.cache.store import Store
from kernel.events import Event

_RUNNING = b"running"
_DONE = b"done"


class EventInFlight(Exception):
    """Another delivery of this event is being handled right now; the bus retries later."""


class Idempotent:
    """Wraps a handler so each event id takes effect once for the consumer ``name``.

    The mark is taken before the handler runs (SET NX, ``running`` for ``lease``
    seconds), so two concurrent deliveries cannot both act; it becomes ``done`` for
    ``remember`` seconds after success, and is dropped on failure so a retry can act.
    A handler that dies without either leaves a ``running`` mark that lapses after the
    lease. Use a RedisStore in production (shared by replicas), a MemoryStore embedded.

    This assumes the handler either completes its effect or raises; an effect that
    half-happens before a crash is the handler's own (transactional) business.
    """

    def __init__(
        self,
        handler: Handler,
        store: Store,
        *,
        name: str,
        lease: float = 60.0,
        remember: float = 7 * 24 * 3600.0,
    ) -> None:
        self.handler = handler
        self.store = store
        self.name = name
        self.lease = lease
        self.remember = remember

    def key(self, event: Event) -> str:
        return f"seen:{self.name}:{event.id}"

    async def __call__(self, event: Event) -> None:
        key = self.key(event)
        if not await self.store.add(key, _RUNNING, self.lease):
            (mark,) = await self.store.get_many([key])
            if mark == _DONE:
                return
            if mark is not None or not await self.store.add(key, _RUNNING, self.lease):
                raise EventInFlight(event.id)
        try:
            await self.handler(event)
        except BaseException:
            await self.store.delete([key])
            raise
        await self.store.set_many({key: _DONE}, self.remember)


def idempotent(
    handler: Handler, store: Store, *, name: str | None = None, lease: float = 60.0
) -> Idempotent:
    """``handler`` deduplicated on the event id; ``name`` defaults to its qualified name,
    which the same handler on every replica shares."""
    return Idempotent(handler, store, name=name or handler_name(handler), lease=lease)


def handler_name(handler: Handler) -> str:
    """A name the same handler has on every replica: a deduplicated handler's own name,
    else the qualified name of the function, the method or the callable's class."""
    if isinstance(handler, Idempotent):
        return handler.name
    named = handler if isinstance(handler, FunctionType | MethodType) else type(handler)
    return f"{named.__module__}.{named.__qualname__}"
