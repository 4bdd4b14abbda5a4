"""``retailgraph subgraph NAME``: one domain served as its own process."""

from __future__ import annotations

from pathlib import Path

import pytest

from retailgraph.domains import DOMAINS
from retailgraph.settings import load_settings
from retailgraph.wiring import subgraph_app
from tests.support import serving


@pytest.mark.parametrize("name", list(DOMAINS))
async def test_a_domain_served_as_its_own_subgraph_starts_and_answers(
    name: str, tmp_path: Path
) -> None:
    settings = load_settings(database={"data_dir": str(tmp_path), "migrate_on_start": True})
    async with serving(subgraph_app(settings, name), "http://subgraph") as client:
        assert (await client.get("/health")).status_code == 200
        answer = await client.post("/graphql", json={"query": "{ _service { sdl } }"})
        assert "type Query" in answer.json()["data"]["_service"]["sdl"]
