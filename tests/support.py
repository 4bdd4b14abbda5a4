"""What the domain tests share: a runtime of their own, and a subgraph app served to a client."""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from adapters.bus.inprocess import InProcessBus
from adapters.cache import MemoryStore
from adapters.db.engine import DatabaseLocations
from adapters.graphql.access import OPERATOR
from adapters.runtime import Runtime
from gateway.security.clients import ANONYMOUS, Client, ClientDirectory
from kernel.clock import Clock, SettableClock

# Where the domains' clock starts in tests: a fixed day, never today's date, so dates
# written in tests (promotion windows, expiries) hold on any day the suite runs.
TEST_NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
# When the events a test builds by hand happened.
EVENT_TIME = datetime(2026, 1, 1, 12, tzinfo=UTC)


_SUITE_STARTED = time.monotonic()
# The embedded SQLite files of apps that open their own database: the test run's folder.
_DATA_DIR = Path(tempfile.mkdtemp(prefix="retailgraph-tests-"))


def suite_clock() -> SettableClock:
    """A clock from ``TEST_NOW`` on (at the test process's start), running at the machine's
    pace; every such clock shows the same time, as the processes of one system would."""
    return SettableClock(
        TEST_NOW + timedelta(seconds=time.monotonic() - _SUITE_STARTED), running=True
    )


def local_runtime(
    *, migrate_on_start: bool = True, clock: Clock | None = None, **database_urls: str
) -> Runtime:
    """A runtime of this test alone: an in-process bus and a memory cache.

    ``clock`` is the domains' time: ``suite_clock()`` unless the test brings its own.
    ``database_urls`` (per domain) are for apps that open their own database; tests that
    hand an engine to ``start``/``create_app`` leave them out.
    """
    return Runtime(
        databases=DatabaseLocations(data_dir=_DATA_DIR, per_domain=database_urls),
        bus=InProcessBus(),
        cache=MemoryStore(),
        migrate_on_start=migrate_on_start,
        clock=clock or suite_clock(),
    )


@asynccontextmanager
async def serving(app: Starlette, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan run, and a client talking to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


# A gateway whose every caller is trusted with every back-office scope, as an internal
# deployment would set [gateway.anonymous] scopes = ["operator"]: for the tests of
# business flows through the gateway. What each client may do is tested on its own
# (tests/e2e/gateway/test_authorization.py, tests/e2e/test_run_command.py).
TRUSTED_CALLERS = ClientDirectory([], anonymous=Client(ANONYMOUS, scopes=frozenset({OPERATOR})))
