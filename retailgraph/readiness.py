"""What the embedded system needs before it can serve: each domain's database, and Redis
when the bus and the cache live there. ``/ready`` runs these beside the gateway's own
check of the subgraphs (``gateway.http.health``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.http.health import ReadinessCheck


def databases_check(started: Mapping[str, Any]) -> ReadinessCheck:
    """Each started domain's database answers ``SELECT 1``; ``started`` (name -> domain,
    each with its ``engine``) fills in when the domains have started."""

    async def probe() -> list[str]:
        if not started:
            return ["the domains are starting"]
        reasons = []
        engines: dict[int, tuple[str, AsyncEngine]] = {}
        for name, domain in started.items():
            engines.setdefault(id(domain.engine), (name, domain.engine))
        for name, engine in engines.values():
            try:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
            except Exception as error:  # any failure to answer is the reason
                reasons.append(f"database of {name}: {type(error).__name__}")
        return reasons

    return ReadinessCheck("databases", probe)


def redis_check(client: redis.Redis) -> ReadinessCheck:
    """Redis answers ``PING`` (the bus and the cache are there)."""

    async def probe() -> list[str]:
        try:
            await client.ping()
        except (redis.RedisError, OSError) as error:
            return [f"redis: {type(error).__name__}: {error}"]
        return []

    return ReadinessCheck("redis", probe)
