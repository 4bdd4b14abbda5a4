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

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domains.inventory import tables as t
from domains.inventory.errors import InvalidInventoryInput
from domains.inventory.model import is_text
from domains.inventory.uow import InventoryUnitOfWork
from kernel.clock import as_utc


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
        row = (
            await uow.session.execute(select(t.feeds.c.watermark).where(t.feeds.c.name == name))
        ).first()
        keys = await uow.session.execute(
            select(t.feed_entries.c.entry_key).where(t.feed_entries.c.feed == name)
        )
        await uow.rollback()
        watermark = None if row is None or row.watermark is None else as_utc(row.watermark)
        return FeedPosition(name, watermark, frozenset(keys.scalars()))


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
        session = uow.session
        connection = await session.connection()
        upsert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        await session.execute(
            upsert(t.feeds)
            .values(name=name, watermark=None, updated_at=now)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        current = (
            await session.execute(
                select(t.feeds.c.watermark).where(t.feeds.c.name == name).with_for_update()
            )
        ).scalar_one()
        stored = None if current is None else as_utc(current)
        if watermark is not None and (stored is None or watermark > stored):
            stored = watermark
        await session.execute(
            update(t.feeds).where(t.feeds.c.name == name).values(watermark=stored, updated_at=now)
        )
        if entries:
            await session.execute(
                upsert(t.feed_entries).on_conflict_do_nothing(index_elements=["feed", "entry_key"]),
                [
                    {"feed": name, "entry_key": key, "changed_at": changed_at}
                    for key, changed_at in sorted(entries.items())
                ],
            )
        if forget_before is not None:
            await session.execute(
                delete(t.feed_entries).where(
                    t.feed_entries.c.feed == name, t.feed_entries.c.changed_at < forget_before
                )
            )
        keys = await session.execute(
            select(t.feed_entries.c.entry_key).where(t.feed_entries.c.feed == name)
        )
        seen = frozenset(keys.scalars())
        await uow.commit()
        return FeedPosition(name, stored, seen)


async def forget_entries(uow: InventoryUnitOfWork, name: str, keys: Iterable[str]) -> None:
    """Drop entries of ``name`` that have been dealt with (e.g. parked work that is done)."""
    async with uow:
        _check_name(name)
        wanted = sorted(set(keys))
        if wanted:
            await uow.session.execute(
                delete(t.feed_entries).where(
                    t.feed_entries.c.feed == name, t.feed_entries.c.entry_key.in_(wanted)
                )
            )
            await uow.commit()


def _check_name(name: str) -> None:
    if not is_text(name, 64):
        raise InvalidInventoryInput("a feed name is 1 to 64 characters")
