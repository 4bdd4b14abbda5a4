"""A gateway process loads only what its settings use: without Redis, an identity provider
or tracing it imports neither redis-py, PyJWT and cryptography, nor the OpenTelemetry SDK,
and never SQLAlchemy or a domain's service or schema (each is megabytes of resident memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]

# What ``retailgraph gateway`` does up to serving, in a fresh interpreter: the command
# line, the settings, the process's logs and tracer, the app; then what it imported.
_SCRIPT = """
import json, sys
from pathlib import Path
from gateway.commands import build_gateway
from kernel.clock import SystemClock
import retailgraph.cli
from retailgraph.observability import Observed
from retailgraph.settings import load_settings

settings = load_settings(None)
tracer = Observed.of(settings, "gateway")()
build_gateway(
    Path(sys.argv[1]),
    settings.gateway,
    clock=SystemClock(),
    redis_url=settings.redis.url,
    tracer=tracer,
)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_of_a_gateway(tmp_path: Path, **environment: str) -> set[str]:
    # The settings of a bare host: no settings file, nothing of the test run's own.
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("RETAILGRAPH_") and not name.endswith("_URL")
    }
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(REPO_ROOT / "schema.graphql")],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO_ROOT), **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


def _loaded(modules: set[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


def test_a_gateway_without_redis_identity_provider_or_tracing_loads_none_of_them(
    tmp_path: Path,
) -> None:
    modules = _modules_of_a_gateway(tmp_path)
    for package in ("redis", "jwt", "cryptography", "opentelemetry.sdk", "sqlalchemy"):
        assert not _loaded(modules, package), package
    services = {"service", "schema", "app", "repository"}
    domain_modules = [name.split(".") for name in modules if name.startswith("domains.")]
    assert not [parts for parts in domain_modules if set(parts[2:3]) & services]


def test_a_gateway_with_redis_and_tracing_loads_them(tmp_path: Path) -> None:
    modules = _modules_of_a_gateway(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6379/0",
        RETAILGRAPH_TRACING__ENDPOINT="http://127.0.0.1:9",
    )
    assert _loaded(modules, "redis")
    assert _loaded(modules, "opentelemetry.sdk")
    assert not _loaded(modules, "sqlalchemy")
