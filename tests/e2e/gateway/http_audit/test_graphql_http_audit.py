"""The graphql-http audit (61 audits of the GraphQL-over-HTTP spec) passes without a warning.

The audit is npm's ``graphql-http``, pinned by package-lock.json here (``tests.e2e.npm``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.gateway.live import live_gateway
from tests.e2e.gateway.server import running_server
from tests.e2e.npm import installed

HERE = Path(__file__).parent
FILES = ("package.json", "package-lock.json", "audit.mjs")
EXPECTED_AUDITS = 61


def audit_dir() -> Path:
    return installed(HERE, FILES, "the graphql-http audit")


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
