"""Key-value stores for read models: Redis in production, a dict in the embedded mode."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Protocol, cast

import redis.asyncio as redis


class Store(Protocol):
    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...
    async def set_many(self, items: dict[str, bytes], ttl: float) -> None: ...
    async def delete(self, keys: Iterable[str]) -> None: ...
    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        """Set ``key`` only if it is absent; True when this call set it."""
        ...


class MemoryStore:
    def __init__(self) -> None:
        self._items: dict[str, tuple[float, bytes]] = {}

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        values: list[bytes | None] = []
        for key in keys:
            item = self._items.get(key)
            if item is not None and item[0] <= now:
                del self._items[key]
                item = None
            values.append(None if item is None else item[1])
        return values

    async def set_many(self, items: dict[str, bytes], ttl: float) -> None:
        expires = time.monotonic() + ttl
        for key, value in items.items():
            self._items[key] = (expires, value)

    async def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._items.pop(key, None)

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        if (await self.get_many([key]))[0] is not None:
            return False
        await self.set_many({key: value}, ttl)
        return True


class RedisStore:
    """``prefix`` keeps installations (or tests) that share one Redis apart."""

    def __init__(self, client: redis.Redis, *, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        # The client is built without decode_responses, so values come back as bytes.
        found = await self.client.mget([self.prefix + key for key in keys])
        return cast(list[bytes | None], found)

    async def set_many(self, items: dict[str, bytes], ttl: float) -> None:
        if not items:
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for key, value in items.items():
                pipe.set(self.prefix + key, value, px=int(ttl * 1000))
            await pipe.execute()

    async def delete(self, keys: Iterable[str]) -> None:
        keys = [self.prefix + key for key in keys]
        if keys:
            await self.client.delete(*keys)

    async def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(await self.client.set(self.prefix + key, value, px=int(ttl * 1000), nx=True))
