"""A domain's reactions to events, declared by the domain and subscribed by the process
that serves it: one-shot commands start domains without subscribing any."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from adapters.bus.dedupe import idempotent
from adapters.bus.inprocess import Handler
from adapters.cache.store import Store


@dataclass(frozen=True, slots=True)
class Consumer:
    handler: Handler
    types: Sequence[str]
    # Set for a reaction that must take effect once per event id across replicas (it
    # changes data): the name it is deduplicated and grouped under. Unset for one that
    # may run twice (dropping a cache entry).
    once_as: str | None = None

    def subscribed(self, store: Store) -> Handler:
        """The handler as the bus gets it."""
        if self.once_as is None:
            return self.handler
        return idempotent(self.handler, store, name=self.once_as)
