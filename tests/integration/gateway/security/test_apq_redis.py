"""On real Redis, every gateway replica finds the APQ documents any replica registered."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from gateway.security.documents import RedisApqStore, resolve_document


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
async def document(redis_client: redis.Redis) -> AsyncIterator[str]:
    """A document no other test registers (the comment makes its hash unique)."""
    body = f"# {uuid.uuid4().hex}\nquery AdHoc {{ products(first: 1) {{ totalCount }} }}"
    yield body
    await redis_client.delete(f"rg:apq:{sha256(body)}")


async def test_two_replicas_see_each_others_registrations(
    redis_client: redis.Redis, document: str
) -> None:
    replica_a = RedisApqStore(redis_client, ttl=600)
    replica_b = RedisApqStore(redis_client, ttl=600)
    digest = sha256(document)

    assert await replica_b.get(digest) is None
    assert await replica_a.register(digest, document)

    assert await replica_b.get(digest) == document
    assert await redis_client.get(f"rg:apq:{digest}") == document.encode()
    assert 590_000 <= await redis_client.pttl(f"rg:apq:{digest}") <= 600_000


async def test_a_hash_registered_through_one_replica_resolves_on_another(
    redis_client: redis.Redis, document: str
) -> None:
    options: dict[str, Any] = {"manifest": None, "allow_arbitrary": True}
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}}

    registered = await resolve_document(
        {"query": document, "extensions": extensions},
        apq_store=RedisApqStore(redis_client),
        **options,
    )
    found = await resolve_document(
        {"extensions": extensions}, apq_store=RedisApqStore(redis_client), **options
    )

    assert registered.registered
    assert (found.query, found.source) == (document, "apq")


async def test_a_lookup_keeps_a_used_document_alive(
    redis_client: redis.Redis, document: str
) -> None:
    store = RedisApqStore(redis_client, ttl=600)
    digest = sha256(document)
    await store.register(digest, document)
    await redis_client.pexpire(f"rg:apq:{digest}", 5_000)

    assert await store.get(digest) == document
    assert await redis_client.pttl(f"rg:apq:{digest}") > 5_000


async def test_a_document_over_the_size_bound_is_not_kept(
    redis_client: redis.Redis, document: str
) -> None:
    store = RedisApqStore(redis_client, max_body_bytes=20)
    assert not await store.register(sha256(document), document)
    assert await redis_client.exists(f"rg:apq:{sha256(document)}") == 0


async def test_unreachable_redis_costs_the_optimisation_not_the_request(document: str) -> None:
    unreachable = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    try:
        store = RedisApqStore(unreachable)
        assert await store.get(sha256(document)) is None
        assert not await store.register(sha256(document), document)
    finally:
        await unreachable.aclose()
