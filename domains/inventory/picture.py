"""The stock of some SKUs at every location, as one transaction reads it once (pure).

A stock change reads this after locking the rows it changes, then checks its channel
allocations and computes the events it announces from it, instead of reading the levels,
the channels served, the availability and the regions again for each of those: a
reservation of an order went from eleven statements to five.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from domains.inventory.model import (
    ChannelAvailability,
    ChannelRule,
    Reservation,
    StockLevel,
    channel_availability,
)

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class StockPicture:
    """``levels`` holds every stock row of the SKUs (with the reservations live when it
    was read summed in); ``regions`` and ``rules`` describe the locations of those rows
    (a location without rules serves no channel); ``counts_incoming`` is the policy of
    each channel they serve (False when the channel has none)."""

    levels: Mapping[Pair, StockLevel]
    regions: Mapping[str, str]
    rules: Mapping[str, tuple[ChannelRule, ...]]
    counts_incoming: Mapping[str, bool]

    def channels_at(self, location_id: str) -> tuple[str, ...]:
        return tuple(rule.channel for rule in self.rules.get(location_id, ()))

    def availability(self, sku: str, channel: str) -> ChannelAvailability:
        """What ``channel`` may promise of ``sku``, over the locations that serve it."""
        return channel_availability(
            sku,
            channel,
            [level for (stocked, _), level in self.levels.items() if stocked == sku],
            self.rules,
            counts_incoming=self.counts_incoming.get(channel, False),
        )

    def allocated(self, sku: str, location_id: str, channel: str) -> int:
        """The part of ``channel``'s availability of ``sku`` that ``location_id`` holds."""
        return next(
            (
                part.allocated
                for part in self.availability(sku, channel).locations
                if part.location_id == location_id
            ),
            0,
        )

    def regional_available(self, sku: str, region: str) -> int:
        """The sellable units of ``sku`` summed over the locations of ``region``."""
        return sum(
            level.available
            for (stocked, location_id), level in self.levels.items()
            if stocked == sku and self.regions.get(location_id) == region
        )

    def holding(self, reservations: Iterable[Reservation]) -> StockPicture:
        """The picture once ``reservations`` (new, active) hold their units too."""
        levels = dict(self.levels)
        for reservation in reservations:
            pair = (reservation.sku, reservation.location_id)
            level = levels[pair]
            levels[pair] = replace(level, reserved=level.reserved + reservation.quantity)
        return replace(self, levels=levels)
