"""A real Tryton server for the ERP adapter tests, started once per test session.

The seeded database template is built on first use (about 30-70 s, the slow part, reported
in the test output) and cached under ~/.cache/retailgraph keyed on the trytond version;
every session then starts trytond from a copy in a few seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from erp.tryton.erp import TrytonErp
from tests.integration.erp.tryton_server import (
    TrytonServer,
    ensure_template,
    running_server,
)

_timings: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _timings:
        terminalreporter.write_line(line)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Builds a missing template before any test runs, outside every test's timeout."""
    if any(item.get_closest_marker("tryton") for item in session.items):
        target, seconds = ensure_template()
        if seconds is not None:
            _timings.append(f"Tryton: built the template {target} in {seconds:.1f}s (once)")


@pytest.fixture(scope="session")
def tryton_template() -> Path:
    """The seeded template database; SLOW the first time on a machine (it is built here)."""
    target, seconds = ensure_template()
    if seconds is not None:
        _timings.append(f"Tryton: built the template {target} in {seconds:.1f}s (once)")
    return target


@pytest.fixture(scope="session")
def tryton_server(
    tryton_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrytonServer]:
    started = time.monotonic()
    try:
        context = running_server(tryton_template, tmp_path_factory.mktemp("tryton"))
        server = context.__enter__()
    except (OSError, RuntimeError) as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Tryton could not start: {error}")
    _timings.append(
        f"Tryton: server started from the template in {time.monotonic() - started:.1f}s"
    )
    try:
        yield server
    finally:
        context.__exit__(None, None, None)


@pytest.fixture
async def tryton(tryton_server: TrytonServer) -> AsyncIterator[TrytonErp]:
    erp = TrytonErp(
        tryton_server.url,
        tryton_server.database,
        tryton_server.login,
        tryton_server.password,
        default_warehouse="WH",
    )
    try:
        yield erp
    finally:
        await erp.close()
