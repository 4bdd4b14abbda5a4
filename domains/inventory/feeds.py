"""How far each inbound feed (the ERP's stock moves) has been read, kept with the stock.

A poller reads "everything changed since the watermark, minus an overlap window", so it
re-reads the latest entries on purpose: clocks and commits are not ordered the way a
reader would like. The entries it already handed out inside that window are remembered
here, keyed by the feed's own id and change time, so re-reading them is a no-op even
after a restart. Older entries are forgotten once the watermark has moved past them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from domains.inventory.errors import InvalidInventoryInput
from domains.inventory.model import is_text
from domains.inventory.uow import InventoryUnitOfWork


@dataclass(frozen=True, slots=True)
class FeedPosition:
    name: str
    # On the feed's clock, not ours; None until the feed has been read once.
    watermark: datetime | None
    seen: frozenset[str]


async def feed_position(uow: InventoryUnitOfWork, name: str) -> FeedPosition:
    """The stored watermark of ``name`` and the entry keys remembered inside its window."""
    async with uow:
        _check_name(name)
        watermark = await uow.feeds.watermark(name)
        seen = await uow.feeds.entry_keys(name)
        await uow.rollback()
        return FeedPosition(name, watermark, seen)


async def advance_feed(
    uow: InventoryUnitOfWork,
    name: str,
    *,
    watermark: datetime | None,
    entries: Mapping[str, datetime],
    forget_before: datetime | None = None,
) -> FeedPosition:
    """Remember ``entries`` (key -> change time) and move the watermark forward.

    The watermark never moves back, so a late or repeated call cannot make a poller
    re-read what it has handled; entries changed before ``forget_before`` are dropped.
    """
    async with uow:
        _check_name(name)
        if any(not is_text(key, 200) for key in entries):
            raise InvalidInventoryInput("a feed entry key is 1 to 200 characters")
        now = uow.clock.now()
        await uow.feeds.ensure(name, now)
        stored = await uow.feeds.watermark(name, for_update=True)
        if watermark is not None and (stored is None or watermark > stored):
            stored = watermark
        await uow.feeds.set_watermark(name, stored, now)
        await uow.feeds.remember(name, entries)
        if forget_before is not None:
            await uow.feeds.forget_changed_before(name, forget_before)
        seen = await uow.feeds.entry_keys(name)
        await uow.commit()
        return FeedPosition(name, stored, seen)


async def claim_moment(uow: InventoryUnitOfWork, name: str, moment: datetime) -> bool:
    """Claim ``moment`` of the schedule ``name`` (its watermark): True for one caller
    alone, however many replicas ask at once, and False for a moment at or before one
    already claimed. The feed's row lock (SQLite's write lock) serialises the askers."""
    async with uow:
        _check_name(name)
        now = uow.clock.now()
        await uow.feeds.ensure(name, now)
        stored = await uow.feeds.watermark(name, for_update=True)
        if stored is not None and stored >= moment:
            await uow.rollback()
            return False
        await uow.feeds.set_watermark(name, moment, now)
        await uow.commit()
        return True


async def forget_entries(uow: InventoryUnitOfWork, name: str, keys: Iterable[str]) -> None:
    """Drop entries of ``name`` that have been dealt with (e.g. parked work that is done)."""
    async with uow:
        _check_name(name)
        wanted = sorted(set(keys))
        if wanted:
            await uow.feeds.forget(name, wanted)
            await uow.commit()


def _check_name(name: str) -> None:
    if not is_text(name, 64):
        raise InvalidInventoryInput("a feed name is 1 to 64 characters")
