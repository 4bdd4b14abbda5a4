"""The graphql-http audit (61 audits of the GraphQL-over-HTTP spec) passes without a warning.

The audit is npm's ``graphql-http`` (pinned by package-lock.json here), installed once into
a cache directory keyed by the lock file. Without node and npm the test skips, except under
CI=true, where it fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.gateway.live import live_gateway
from tests.e2e.gateway.server import running_server

HERE = Path(__file__).parent
FILES = ("package.json", "package-lock.json", "audit.mjs")
EXPECTED_AUDITS = 61


def audit_dir() -> Path:
    """graphql-http installed in a cache dir, so the repo holds no node_modules."""
    in_ci = os.environ.get("CI") == "true"
    if not (shutil.which("node") and shutil.which("npm")):
        message = "node and npm are needed for the graphql-http audit"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    digest = hashlib.sha256(b"".join((HERE / name).read_bytes() for name in FILES)).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    target = cache / "retailgraph" / f"graphql-http-audit-{digest[:16]}"
    if (target / "node_modules" / "graphql-http").exists():
        return target
    # Install beside the target, then rename: parallel test runs never see half an install.
    staging = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in FILES:
        shutil.copy(HERE / name, staging / name)
    try:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=staging,
            check=True,
            capture_output=True,
            timeout=300,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(staging, ignore_errors=True)
        message = f"npm ci failed for the graphql-http audit: {error}"
        if in_ci:
            pytest.fail(message)
        pytest.skip(message)
    try:
        staging.rename(target)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def run_audit(url: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["node", "audit.mjs", url],
        cwd=audit_dir(),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def failures(results: list[dict[str, Any]]) -> list[str]:
    return [
        f"{r['status']}: {r['id']} {r['name']} ({r['reason']})"
        for r in results
        if r["status"] != "ok"
    ]


@pytest.mark.slow
def test_graphql_http_audit_passes_every_audit_over_the_fake_engine() -> None:
    audit_dir()  # skip or install before starting a server
    with running_server("tests.e2e.gateway.serve_fake") as server:
        results = run_audit(f"{server.url}/graphql")
        exit_code, output = server.terminate()
    assert exit_code == 0, output
    assert len(results) == EXPECTED_AUDITS
    assert failures(results) == []


@pytest.mark.slow
def test_graphql_http_audit_passes_every_audit_through_the_real_gateway(tmp_path: Path) -> None:
    audit_dir()
    # The audit's variables checks ask __type, so the gateway answers introspection here.
    with live_gateway(tmp_path, "--introspection") as server:
        results = run_audit(f"{server.url}/graphql")
        exit_code, output = server.terminate()
    assert exit_code == 0, output
    assert len(results) == EXPECTED_AUDITS
    assert failures(results) == []
