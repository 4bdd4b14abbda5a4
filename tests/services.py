"""The real PostgreSQL and Redis the tests run against, and the shared benchmark data.

Locally, a test that needs a missing service (or the data) is skipped with the reason.
With ``CI=true`` it fails instead: CI must never pass by not testing.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bench.subgraphs.data import bench_data_dir

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def require(name: str, url: str, default_port: int) -> None:
    if _reachable(url, default_port):
        return
    _missing(f"{name} is not reachable at {url}", "start it as the machine page says")


def _missing(message: str, remedy: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI needs it ({remedy})")
    pytest.skip(message)


def require_postgres() -> str:
    require("PostgreSQL", POSTGRES_URL, 5432)
    return POSTGRES_URL


def require_redis() -> str:
    require("Redis", REDIS_URL, 6379)
    return REDIS_URL


def require_bench_data() -> Path:
    """The benchmark workload (``../shared/bench-data``, or ``BENCH_DATA_DIR``)."""
    directory = bench_data_dir()
    if not (directory / "supergraph.graphql").is_file():
        _missing(
            f"the benchmark data is not at {directory}",
            "put it there or point BENCH_DATA_DIR at it",
        )
    return directory
