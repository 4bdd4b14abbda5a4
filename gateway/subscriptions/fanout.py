"""Sharing one stream among every subscriber that asks for the same thing.

The first subscriber of a key starts the producer; later ones join it and get the items
produced from then on; the last one leaving stops it (which closes whatever the producer
holds, such as an upstream WebSocket).

A subscriber either reads its own bounded inbox (``subscribe``: a slow reader never holds
the others back; when its inbox overflows it alone is dropped), or hands the producer a
``Sink`` (``follow``) that takes each item at once, in the producer's task. The second
spares a task wake-up per subscriber per item: at 10,000 WebSocket subscribers, the
inboxes and waking each one's task to write one frame took 16% of the gateway's profile
samples (``bench/README.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from typing import Generic, Protocol, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

_log = logging.getLogger(__name__)


class SubscriberTooSlow(Exception):
    """The subscriber fell more than its inbox's limit behind the stream."""


class Sink(Protocol[T_contra]):
    """Takes a shared stream's items in the producer's task: it must neither block nor
    raise, and keeps its own backlog when its consumer cannot take an item at once."""

    def put(self, item: T_contra) -> None: ...


class _End:
    __slots__ = ("error",)

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _Inbox(Generic[T]):
    __slots__ = ("_items", "_last_words", "_limit", "_waiter")

    def __init__(self, limit: int, last_words: Callable[[str], T] | None) -> None:
        self._items: deque[T | _End] = deque()
        self._limit = limit
        self._last_words = last_words
        self._waiter: asyncio.Future[None] | None = None

    def put(self, item: T | _End) -> None:
        if len(self._items) >= self._limit and not isinstance(item, _End):
            self._items.clear()
            reason = f"more than {self._limit} events behind"
            if self._last_words is None:
                item = _End(SubscriberTooSlow(reason))
            else:
                self._items.append(self._last_words(reason))
                item = _End()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T | _End:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()


class _Following(Generic[T]):
    """A ``Sink`` as a member of a shared stream: ``ended`` resolves with the stream's end."""

    __slots__ = ("ended", "put")

    def __init__(self, sink: Sink[T]) -> None:
        self.put = sink.put
        self.ended: asyncio.Future[_End] = asyncio.get_running_loop().create_future()

    def end(self, end: _End) -> None:
        if not self.ended.done():
            self.ended.set_result(end)


class _Shared(Generic[K, T]):
    __slots__ = ("ended", "followers", "inboxes", "key", "task")

    def __init__(self, key: K) -> None:
        self.key = key
        self.inboxes: set[_Inbox[T]] = set()
        self.followers: set[_Following[T]] = set()
        self.task: asyncio.Task[None] | None = None
        self.ended = False


class Fanout(Generic[K, T]):
    """Keyed shared streams; ``subscribe(key, produce)`` is one subscriber's view.

    A subscriber that falls ``inbox_limit`` items behind gets ``SubscriberTooSlow``, or,
    with ``last_words``, that item (made from the reason) and the end of its stream.
    """

    def __init__(
        self, inbox_limit: int = 1000, last_words: Callable[[str], T] | None = None
    ) -> None:
        self._inbox_limit = inbox_limit
        self._last_words = last_words
        self._shared: dict[K, _Shared[K, T]] = {}

    def __len__(self) -> int:
        """How many producers are running (for tests and metrics)."""
        return len(self._shared)

    @property
    def subscribers(self) -> int:
        """How many subscribers all the producers have together."""
        return sum(len(s.inboxes) + len(s.followers) for s in self._shared.values())

    async def subscribe(self, key: K, produce: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        shared = self._join(key, produce)
        inbox: _Inbox[T] = _Inbox(self._inbox_limit, self._last_words)
        shared.inboxes.add(inbox)
        try:
            while True:
                item = await inbox.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            shared.inboxes.discard(inbox)
            await self._leave(shared)

    async def follow(self, key: K, produce: Callable[[], AsyncIterator[T]], sink: Sink[T]) -> None:
        """``sink`` takes the items produced from now on; returns when the stream ends
        (raising the producer's error), or leaves the stream when cancelled."""
        shared = self._join(key, produce)
        following = _Following(sink)
        shared.followers.add(following)
        try:
            end = await following.ended
        finally:
            shared.followers.discard(following)
            await self._leave(shared)
        if end.error is not None:
            raise end.error

    def _join(self, key: K, produce: Callable[[], AsyncIterator[T]]) -> _Shared[K, T]:
        shared = self._shared.get(key)
        if shared is None:
            shared = self._shared[key] = _Shared(key)
            shared.task = asyncio.create_task(self._produce(shared, produce))
        return shared

    async def _leave(self, shared: _Shared[K, T]) -> None:
        if not shared.inboxes and not shared.followers:
            await self._stop(shared)

    async def _produce(
        self, shared: _Shared[K, T], produce: Callable[[], AsyncIterator[T]]
    ) -> None:
        end = _End()
        try:
            stream = produce()
            async with contextlib.aclosing(stream):  # type: ignore[type-var]
                async for item in stream:
                    for inbox in shared.inboxes:
                        inbox.put(item)
                    for following in shared.followers:
                        following.put(item)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            end = _End(error)
        finally:
            shared.ended = True
            if self._shared.get(shared.key) is shared:
                del self._shared[shared.key]
        for inbox in shared.inboxes:
            inbox.put(end)
        for following in shared.followers:
            following.end(end)

    async def _stop(self, shared: _Shared[K, T]) -> None:
        if self._shared.get(shared.key) is shared:
            del self._shared[shared.key]
        task = shared.task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def aclose(self) -> None:
        """Stop every producer; their subscribers' streams end."""
        for shared in list(self._shared.values()):
            await self._stop(shared)
            for inbox in shared.inboxes:
                inbox.put(_End())
            for following in shared.followers:
                following.end(_End())
