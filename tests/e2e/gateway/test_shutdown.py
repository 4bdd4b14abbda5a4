"""The gateway process exits cleanly, and promptly, on SIGTERM."""

from __future__ import annotations

import httpx

from tests.e2e.gateway.server import running_server


def test_gateway_process_serves_then_exits_zero_on_sigterm() -> None:
    with running_server("tests.e2e.gateway.serve_fake") as server:
        response = httpx.post(f"{server.url}/graphql", json={"query": "{ hello }"})
        assert response.json() == {"data": {"hello": "Hello, world!"}}
        assert response.headers["x-correlation-id"]
        exit_code, output = server.terminate(timeout=10.0)
    assert exit_code == 0, output
    assert "Traceback" not in output
