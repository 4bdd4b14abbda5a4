"""What the ERP sync reads of inventory: the locations it knows and the stock held there."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domains.inventory import erp_postings
from domains.inventory.model import StockLevel
from domains.inventory.uow import InventoryUnitOfWork


async def known_locations(uow: InventoryUnitOfWork, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that are inventory locations."""
    async with uow:
        return await uow.stock.existing_location_ids(ids)


async def all_location_ids(uow: InventoryUnitOfWork) -> list[str]:
    async with uow:
        return await uow.stock.location_ids()


async def stock_at(
    uow: InventoryUnitOfWork,
    location_ids: Iterable[str],
    *,
    skus: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[StockLevel]:
    """Every stock row at ``location_ids`` (of ``skus``, when given) with its live
    reservations summed in."""
    async with uow:
        now = now or uow.clock.now()
        return await uow.stock.levels_at(location_ids, now, skus=skus)


async def owed_to_erp(uow: InventoryUnitOfWork) -> dict[tuple[str, str], int]:
    """The on hand per (sku, location) that movements the ERP has not seen gave us and
    their postings have not brought to the ERP yet."""
    async with uow:
        return await erp_postings.unposted_changes(uow.session)
