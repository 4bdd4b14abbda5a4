from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.http.params import Limits
from tests.unit.gateway.http.fake_engine import FakeEngine


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def gateway(fake_engine: FakeEngine) -> Starlette:
    return create_app(fake_engine, limits=Limits(max_body_bytes=20_000, max_document_bytes=5_000))


@pytest.fixture
async def client(gateway: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client
