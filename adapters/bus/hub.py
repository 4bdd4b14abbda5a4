"""The per-process subscription hub: one bus feed, many GraphQL subscribers.

Each subscriber names the event types it wants and a filter on them, and gets its own
bounded queue, so a slow one never holds up the feed or the others: when its queue is
full it is dropped with ``SubscriberTooSlow``, which carries the cursor of the last
event it was given. Every event comes with a cursor; subscribing ``after`` one replays
exactly what came after it (docs/adr/0010-subscription-hub-and-cursors.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import dataclass

from adapters.bus.feeds import Feed, Point, Position, merge
from adapters.bus.inprocess import Bus
from kernel.errors import DomainError
from kernel.events import Event

log = logging.getLogger(__name__)

Predicate = Callable[[Event], bool]


class SubscriberTooSlow(DomainError):
    """The subscriber's queue overflowed; resubscribe with ``after: cursor``."""

    code = "SUBSCRIBER_TOO_SLOW"


@dataclass(frozen=True, slots=True)
class Delivery:
    event: Event
    cursor: str


class Subscription:
    """One subscriber's view of the hub: iterate it for deliveries, ``close`` to leave."""

    def __init__(
        self,
        hub: SubscriptionHub,
        types: frozenset[str],
        wants: Predicate,
        queue_size: int,
        floor: Position | None,
    ) -> None:
        self.hub = hub
        self.types = types
        self.wants = wants
        self.floor = floor  # skip live events at or before it (a cursor ahead of this feed)
        self.cursor: str | None = None  # of the last delivery handed out (or the start)
        self.replayed: frozenset[str] = frozenset()  # ids replayed: a late live copy is a repeat
        self._backlog: deque[Delivery] = deque()
        self.queue_size = queue_size
        # Unbounded as a structure, bounded by ``offer``; None ends the iteration. One
        # queue and no helper tasks: waking 5,000 subscribers per event must stay cheap.
        self._queue: asyncio.Queue[Delivery | None] = asyncio.Queue()
        self._too_slow = False
        self._ended = False

    def offer(self, delivery: Delivery) -> None:
        if self._ended:
            return
        if self._queue.qsize() >= self.queue_size:
            self._too_slow = True
            self._end()
            return
        self._queue.put_nowait(delivery)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.hub.remove(self)
            self._queue.put_nowait(None)

    def close(self) -> None:
        self._end()

    def __aiter__(self) -> AsyncIterator[Delivery]:
        return self

    async def __anext__(self) -> Delivery:
        if self._too_slow:
            raise self._fell_behind()
        if self._backlog:
            delivery = self._backlog.popleft()
        else:
            item = await self._queue.get()
            if item is None or self._too_slow:
                raise self._fell_behind() if self._too_slow else StopAsyncIteration
            delivery = item
        self.cursor = delivery.cursor
        return delivery

    def _fell_behind(self) -> SubscriberTooSlow:
        # The queued events are dropped: the cursor of the last one handed out says where
        # to resume, so nothing is lost.
        return SubscriberTooSlow(
            "this subscription fell too far behind; resubscribe after its last cursor",
            cursor=self.cursor,
        )


class SubscriptionHub:
    """Reads the process's bus once and hands each event to the subscribers that want it.

    Starts with the first subscriber (it needs the running loop). On the in-process bus it
    keeps the last ``replay`` events to resume from. Duplicates of an event
    (the outbox relay republishing after a crash) are dropped by event id within a
    window of ``remember`` ids.
    """

    def __init__(
        self,
        bus: Bus,
        *,
        queue_size: int = 1_000,
        remember: int = 10_000,
        replay: int = 10_000,
    ) -> None:
        self.bus = bus
        self.queue_size = queue_size
        self.replay = replay
        self.remember = remember
        self.feed: Feed | None = None
        self._by_type: dict[str, set[Subscription]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._head: list[Point] = []
        self._start_lock = asyncio.Lock()

    @property
    def subscriber_count(self) -> int:
        return len({s for subscribers in self._by_type.values() for s in subscribers})

    async def start(self) -> Feed:
        async with self._start_lock:
            if self.feed is None:
                feed = self.bus.feed(keep=self.replay)
                self._head = []
                await feed.start(self._dispatch)
                self._head = list(feed.head())
                self.feed = feed
        return self.feed

    async def close(self) -> None:
        feed, self.feed = self.feed, None
        for subscription in {s for subs in self._by_type.values() for s in subs}:
            subscription.close()
        if feed is not None:
            await feed.stop()

    def remove(self, subscription: Subscription) -> None:
        for event_type in subscription.types:
            subscribers = self._by_type.get(event_type)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._by_type[event_type]

    @contextlib.asynccontextmanager
    async def subscribe(
        self, types: Collection[str], wants: Predicate, *, after: str | None = None
    ) -> AsyncIterator[Subscription]:
        """A subscription to the events of ``types`` that ``wants``; with ``after``, the
        ones after that cursor come first. It ends (unsubscribes) with the block."""
        feed = await self.start()
        floor = None if after is None else feed.parse(after)
        subscription = Subscription(self, frozenset(types), wants, self.queue_size, floor)
        head = tuple(self._head)  # registering and taking the head with no await between
        # Until its first delivery, a subscriber's place is where it started.
        subscription.cursor = feed.format(merge(head, floor))
        for event_type in subscription.types:
            self._by_type.setdefault(event_type, set()).add(subscription)
        try:
            if floor is not None:
                subscription._backlog = await self._replay(feed, subscription, floor, head)
                subscription.replayed = frozenset(d.event.id for d in subscription._backlog)
            yield subscription
        finally:
            subscription.close()

    async def _replay(
        self, feed: Feed, subscription: Subscription, after: Position, head: Position
    ) -> deque[Delivery]:
        position = list(after)
        seen: set[str] = set()
        backlog: deque[Delivery] = deque()
        for event, shard, point in await feed.replay(after, head):
            position[shard] = point
            if event.id in seen:
                continue
            seen.add(event.id)
            if event.type in subscription.types and subscription.wants(event):
                backlog.append(Delivery(event, feed.format(tuple(position))))
        return backlog

    def _dispatch(self, event: Event, shard: int, point: Point) -> None:
        """Called by the feed for each event, in order: never awaits, never raises."""
        if self._head:
            self._head[shard] = point
        if event.id in self._seen:
            return
        self._seen[event.id] = None
        if len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        subscribers = self._by_type.get(event.type)
        if not subscribers or self.feed is None:
            return
        head = tuple(self._head)
        cursor: str | None = None
        for subscription in list(subscribers):
            try:
                if event.id in subscription.replayed:
                    continue
                if subscription.floor is not None:
                    if point <= subscription.floor[shard]:
                        continue
                    if not subscription.wants(event):
                        continue
                    text = self.feed.format(merge(head, subscription.floor))
                    subscription.offer(Delivery(event, text))
                    if all(h >= f for h, f in zip(head, subscription.floor, strict=True)):
                        subscription.floor = None  # caught up: plain cursors from here
                    continue
                if not subscription.wants(event):
                    continue
                cursor = cursor or self.feed.format(head)
                subscription.offer(Delivery(event, cursor))
            except Exception:  # one subscriber's filter must not cost the others
                log.exception("subscription filter failed on event %s", event.id)
