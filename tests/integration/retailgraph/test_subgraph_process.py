"""``retailgraph subgraph NAME`` serves one domain as its own process, its gauges kept."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from retailgraph.domains import DOMAINS
from retailgraph.settings import load_settings
from retailgraph.wiring import subgraph_app


@pytest.mark.parametrize("name", sorted(DOMAINS))
async def test_a_domains_subgraph_process_starts_answers_and_serves_its_gauges(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("DATABASE_URL", "REDIS_URL", f"{name.upper()}_DATABASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("RETAILGRAPH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RETAILGRAPH_MIGRATE_ON_START", "1")
    app = subgraph_app(load_settings(), name)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://subgraph") as client:
            answer = await client.post("/graphql", json={"query": "{ _service { sdl } }"})
            metrics = await client.get("/metrics")

    assert answer.status_code == 200
    assert answer.json()["data"]["_service"]["sdl"]
    assert metrics.status_code == 200
