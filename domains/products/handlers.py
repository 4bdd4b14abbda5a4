"""Products' reactions to events (``consumers`` is the table a serving process subscribes)."""

from __future__ import annotations

from typing import Protocol

from adapters.bus import Consumer
from adapters.cache import ReadModel
from domains.products import model
from kernel.events import Event


class ProductsDomainLike(Protocol):
    cards: ReadModel[str]


class CardInvalidation:
    """Another replica changed a product: drop our cached card of it."""

    def __init__(self, domain: ProductsDomainLike) -> None:
        self._domain = domain

    async def __call__(self, event: Event) -> None:
        await self._domain.cards.invalidate([event.partition_key])


def consumers(domain: ProductsDomainLike) -> list[Consumer]:
    return [Consumer(CardInvalidation(domain), model.EVENT_TYPES)]
