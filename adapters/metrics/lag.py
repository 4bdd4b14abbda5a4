"""Event lag per consumer: how long the oldest event a consumer holds has waited.

Every subscribed reaction is wrapped (``Runtime.consume``): an event is in hand from
the moment the bus gives it to the consumer until the consumer is done with it, retries
included. The gauge is the age of the oldest event in hand, measured from when it
happened (the injected clock), so a consumer that is stuck or falling behind shows a
growing number; an idle one reads 0. Events not yet relayed are the outbox depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from adapters.bus.inprocess import Handler
from adapters.metrics.gauges import Reading
from kernel.clock import Clock
from kernel.events import Event


class EventLag:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # consumer -> event id -> when it happened
        self._in_hand: dict[str, dict[str, datetime]] = {}

    def tracked(self, consumer: str, handler: Handler) -> Handler:
        in_hand = self._in_hand.setdefault(consumer, {})

        async def handle(event: Event) -> None:
            in_hand[event.id] = event.occurred_at
            try:
                await handler(event)
            finally:
                in_hand.pop(event.id, None)

        return handle

    def readings(self) -> Sequence[Reading]:
        now = self._clock.now()
        return [
            Reading(
                "retailgraph_event_lag_seconds",
                max(0.0, (now - min(held.values())).total_seconds()) if held else 0.0,
                (("consumer", consumer),),
            )
            for consumer, held in self._in_hand.items()
        ]
