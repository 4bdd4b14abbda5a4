"""Cached read models, protected against cache stampedes.

Three things keep a hot key from flattening the database:
- concurrent misses for the same key in one process share one load (single flight);
- an entry turns stale before it expires; the first reader to take a short refresh lock
  reloads it while every other reader, on any replica, keeps serving the stale copy;
- expiries carry jitter, so keys loaded together do not expire together.

An invalidation in this process overtakes the loads under way for its keys: a load that
read the database before the change does not put its result in the cache, and a reader
that comes after the invalidation starts a load of its own rather than wait for one
begun before it. Without that, a read that began just before a commit cached the old
value after the commit had invalidated it, for as long as an entry stays fresh (seen as
a promotion activated a moment before a stock drop that never paused it).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

import orjson

from adapters.cache.store import Store
from kernel.clock import Clock

K = TypeVar("K", bound=Hashable)

LoadMany = Callable[[Sequence[K]], Awaitable[dict[K, Any]]]


class ReadModel(Generic[K]):
    """A named family of cached values, each a JSON-serialisable value per key.

    ``load_many`` returns the values it found; keys it leaves out are cached as absent
    too (a miss that is not cached would send every request for it to the database).
    """

    def __init__(
        self,
        store: Store,
        name: str,
        load_many: LoadMany[K],
        *,
        clock: Clock,
        fresh_for: float = 30.0,
        serve_stale_for: float = 30.0,
    ) -> None:
        self.store = store
        self.name = name
        self.load_many = load_many
        self.clock = clock
        self.fresh_for = fresh_for
        self.serve_stale_for = serve_stale_for
        self._in_flight: dict[K, asyncio.Future[Any]] = {}
        # The loads under way that an invalidation overtook: their results are not cached.
        self._overtaken: set[asyncio.Future[Any]] = set()

    def key(self, key: K) -> str:
        return f"rm:{self.name}:{key}"

    async def get_many(self, keys: Sequence[K]) -> list[Any]:
        """The values for ``keys``, in order; ``None`` where there is none."""
        raw = await self.store.get_many([self.key(k) for k in keys])
        now = self.clock.now().timestamp()
        found: dict[K, Any] = {}
        missing: list[K] = []
        stale: list[K] = []
        for key, blob in zip(keys, raw, strict=True):
            if blob is None:
                missing.append(key)
                continue
            fresh_until, value = orjson.loads(blob)
            found[key] = value
            if fresh_until < now:
                stale.append(key)
        if stale:
            refreshers = [k for k in stale if await self._take_refresh_lock(k)]
            if refreshers:
                found.update(await self._load(refreshers))
        if missing:
            found.update(await self._load(missing))
        return [found.get(k) for k in keys]

    async def get(self, key: K) -> Any:
        return (await self.get_many([key]))[0]

    async def invalidate(self, keys: Sequence[K]) -> None:
        for k in keys:
            overtaken = self._in_flight.pop(k, None)
            if overtaken is not None:
                self._overtaken.add(overtaken)
        await self.store.delete([self.key(k) for k in keys])

    async def _take_refresh_lock(self, key: K) -> bool:
        return await self.store.add(f"{self.key(key)}:refresh", b"1", ttl=5.0)

    async def _load(self, keys: Sequence[K]) -> dict[K, Any]:
        waiting = {k: self._in_flight[k] for k in keys if k in self._in_flight}
        own = [k for k in dict.fromkeys(keys) if k not in waiting]
        results: dict[K, Any] = {}
        if own:
            loop = asyncio.get_running_loop()
            futures = {k: loop.create_future() for k in own}
            self._in_flight.update(futures)
            try:
                loaded = await self.load_many(own)
                await self._store([k for k in own if futures[k] not in self._overtaken], loaded)
                for k, future in futures.items():
                    future.set_result(loaded.get(k))
                    results[k] = loaded.get(k)
            except BaseException as error:
                for future in futures.values():
                    if not future.done():
                        future.set_exception(error)
                        future.exception()  # retrieved here; waiters re-raise it themselves
                raise
            finally:
                for k, future in futures.items():
                    if self._in_flight.get(k) is future:
                        del self._in_flight[k]
                    self._overtaken.discard(future)
        for k, future in waiting.items():
            results[k] = await future
        return results

    async def _store(self, keys: Sequence[K], loaded: dict[K, Any]) -> None:
        if not keys:
            return
        now = self.clock.now().timestamp()
        jitter = random.uniform(0.0, 0.1 * self.fresh_for)
        fresh_until = now + self.fresh_for + jitter
        items = {self.key(k): orjson.dumps([fresh_until, loaded.get(k)]) for k in keys}
        await self.store.set_many(items, ttl=self.fresh_for + jitter + self.serve_stale_for)
