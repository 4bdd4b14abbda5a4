"""The inventory and orders domains on the test's private database, inventory with the
demo retailer's locations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from domains.inventory import bootstrap as inventory_bootstrap
from domains.inventory.bootstrap import InventoryDomain
from domains.orders import bootstrap as orders_bootstrap
from domains.orders.bootstrap import OrdersDomain
from tests.integration.sync.support import seed_locations
from tests.support import local_runtime


@pytest.fixture
async def inventory(engine: AsyncEngine) -> AsyncIterator[InventoryDomain]:
    domain = await inventory_bootstrap.start(local_runtime(), engine=engine)
    await domain.stop_background()
    await seed_locations(domain)
    yield domain
    await domain.close()


@pytest.fixture
async def orders(engine: AsyncEngine) -> AsyncIterator[OrdersDomain]:
    domain = await orders_bootstrap.start(local_runtime(), engine=engine)
    yield domain
    await domain.close()
