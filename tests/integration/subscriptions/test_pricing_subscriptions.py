"""Pricing's subscription over a real graphql-transport-ws socket, on the in-process bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.pricing import service
from domains.pricing.app import create_app
from domains.pricing.bootstrap import PricingDomain
from tests.integration.pricing.support import NOW, live_promotion, percent_terms
from tests.integration.subscriptions.conftest import RuntimeFactory
from tests.live_subscriptions import serving_over_tcp, subscribers_reach, ws_client

PROMOTIONS = """subscription ($channel: String) {
  promotionStatusChanged(channel: $channel) {
    change promotionId status sku region promotion { id name }
  }
}"""


@pytest.fixture
async def live(
    engine: AsyncEngine, make_runtime: RuntimeFactory
) -> AsyncIterator[tuple[str, PricingDomain]]:
    app = create_app(make_runtime(), engine=engine)
    async with serving_over_tcp(app) as base_url:
        yield base_url, app.state.domain


async def test_promotion_status_changed_sends_the_changes_of_promotions_in_the_channel(
    live: tuple[str, PricingDomain],
) -> None:
    base_url, domain = live
    async with ws_client(base_url) as client:
        await client.subscribe("store", PROMOTIONS, {"channel": "store"})
        await subscribers_reach(domain.runtime.hub, 1)
        await live_promotion(domain, percent_terms(channels=["web"]), "WEB-ONLY")
        await live_promotion(domain, percent_terms(channels=["store", "web"]), "STORES")
        await service.pause_promotion(domain.uow(), "STORES", at=NOW)
        updates = [(await client.next_data("store"))["promotionStatusChanged"] for _ in range(3)]
    assert [(u["promotionId"], u["change"], u["status"]) for u in updates] == [
        ("STORES", "CREATED", "DRAFT"),
        ("STORES", "ACTIVATED", "ACTIVE"),
        ("STORES", "PAUSED", "PAUSED"),
    ]
    assert updates[2]["promotion"] == {"id": "STORES", "name": "20% off"}
    assert (updates[2]["sku"], updates[2]["region"]) == (None, None)
