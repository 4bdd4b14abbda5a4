"""Fixtures shared by every test tier: private databases on both backends, and Redis."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis.asyncio as redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.stdlib import ProcessorFormatter

from adapters.db.engine import create_engine
from tests.services import require_postgres, require_redis

EngineFactory = Callable[[], Awaitable[AsyncEngine]]

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True, scope="session")
def _private_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The embedded mode's SQLite files go to a folder of this test run, never to the
    user's data folder (commands started by tests inherit it)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("RETAILGRAPH_DATA_DIR", str(tmp_path_factory.mktemp("retailgraph-data")))
    yield
    patch.undo()


@pytest.fixture(autouse=True)
def _logging_as_the_test_found_it() -> Iterator[None]:
    """A command run in this process (through Typer's runner) sets the process's logging
    up as it would in production: a handler on the root logger at INFO. The next test
    starts without it, or its commands' output would carry another's log lines."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if isinstance(handler.formatter, ProcessorFormatter):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_engine(backend: str, tmp_path: Path) -> AsyncIterator[EngineFactory]:
    """Makes engines on a database private to this test: a SQLite file, or a PG schema.

    Every engine the factory returns points at the same private database, so a test
    can play several processes (replicas, workers) against one store.
    """
    engines: list[AsyncEngine] = []
    schema = f"t_{uuid.uuid4().hex[:16]}"
    if backend == "postgresql":
        url = require_postgres()
        admin = create_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"

    async def factory() -> AsyncEngine:
        engine = create_engine(url, schema=schema if backend == "postgresql" else None)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        await engine.dispose()
    if backend == "postgresql":
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def engine(make_engine: EngineFactory) -> AsyncEngine:
    return await make_engine()


@pytest.fixture
async def redis_client() -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(require_redis())
    yield client
    await client.aclose()
