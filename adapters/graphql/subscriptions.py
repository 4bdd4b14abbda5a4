"""Subscription fields on top of the process's hub: arguments checked before the stream
opens (a bad cursor is an ``error`` message, not a broken stream), then one delivery per
event the field wants, until the client completes or disconnects."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from typing import Any

from strawberry.types import Info

from adapters.bus.feeds import InvalidCursor
from adapters.bus.hub import Delivery, Predicate, SubscriptionHub

MAX_CURSOR_LENGTH = 1_000


def hub_of(info: Info) -> SubscriptionHub:
    hub: SubscriptionHub = info.context["hub"]
    return hub


async def deliveries(
    info: Info, types: Collection[str], wants: Predicate, *, after: str | None = None
) -> AsyncIterator[Delivery]:
    """The events of ``types`` that ``wants``, after the cursor ``after`` when given."""
    hub = hub_of(info)
    feed = await hub.start()
    if after is not None:
        if len(after) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("this is not a cursor this server gave out")
        feed.parse(after)  # raises InvalidCursor / CursorExpired now
    return _stream(info.context, hub, types, wants, after)


async def _stream(
    context: dict[str, Any],
    hub: SubscriptionHub,
    types: Collection[str],
    wants: Predicate,
    after: str | None,
) -> AsyncIterator[Delivery]:
    async with hub.subscribe(types, wants, after=after) as subscription:
        async for delivery in subscription:
            # A socket's context lives as long as the socket: each event is resolved
            # with loaders of its own, or it would see what the first event cached.
            make_loaders = context.get("make_loaders")
            if make_loaders is not None:
                context["loaders"] = make_loaders()
            yield delivery
