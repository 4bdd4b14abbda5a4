"""What the ERP sync reads of inventory: the locations it knows and the stock held there."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from domains.inventory import repository as repo
from domains.inventory import tables as t
from domains.inventory.model import ReservationStatus, StockLevel
from domains.inventory.uow import InventoryUnitOfWork


async def known_locations(uow: InventoryUnitOfWork, ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that are inventory locations."""
    async with uow:
        return await repo.existing_location_ids(uow.session, ids)


async def all_location_ids(uow: InventoryUnitOfWork) -> list[str]:
    async with uow:
        query = select(t.locations.c.id).order_by(t.locations.c.id)
        return list((await uow.session.execute(query)).scalars())


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
        wanted = sorted(set(location_ids))
        r = t.reservations
        reserved_query = (
            select(r.c.sku, r.c.location_id, func.sum(r.c.quantity))
            .where(
                r.c.location_id.in_(wanted),
                r.c.status == ReservationStatus.ACTIVE.value,
                r.c.expires_at > now,
            )
            .group_by(r.c.sku, r.c.location_id)
        )
        stock_query = (
            select(t.stock)
            .where(t.stock.c.location_id.in_(wanted))
            .order_by(t.stock.c.sku, t.stock.c.location_id)
        )
        if skus is not None:
            only = sorted(set(skus))
            reserved_query = reserved_query.where(r.c.sku.in_(only))
            stock_query = stock_query.where(t.stock.c.sku.in_(only))
        reserved_rows = await uow.session.execute(reserved_query)
        reserved = {(sku, loc): int(total) for sku, loc, total in reserved_rows.all()}
        rows = await uow.session.execute(stock_query)
        levels = [
            StockLevel(
                sku=row.sku,
                location_id=row.location_id,
                on_hand=row.on_hand,
                committed=row.committed,
                reserved=reserved.get((row.sku, row.location_id), 0),
                safety_stock=row.safety_stock,
                quarantined=row.quarantined,
                incoming=row.incoming,
            )
            for row in rows.all()
        ]
        return levels
