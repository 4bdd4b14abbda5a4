"""The stock of some SKUs at every location, as one transaction reads it once (pure).

A stock change locks the rows it changes, reads this in one statement, decides from it
(an order's reservation checks each line's channel allocation here) and announces the
stock events from it with its own change applied, instead of reading the levels, the
channels served, the availability and the regions again after writing: reserving an
order's lines went from eleven statements to five, committing them when the order is
created from thirteen to eight (PostgreSQL; one fewer each on SQLite, which has no row
locks to take).
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

    def with_levels(self, levels: Iterable[StockLevel]) -> StockPicture:
        """The picture with ``levels`` in place of what it holds of their rows."""
        replaced = dict(self.levels)
        replaced.update({(level.sku, level.location_id): level for level in levels})
        return replace(self, levels=replaced)

    def holding(self, reservations: Iterable[Reservation]) -> StockPicture:
        """The picture once ``reservations`` (new, live) hold their units too."""
        return self._reserving(reservations, 1)

    def releasing(self, reservations: Iterable[Reservation]) -> StockPicture:
        """The picture once ``reservations`` (live when it was read) hold no units: released,
        consumed or expired."""
        return self._reserving(reservations, -1)

    def _reserving(self, reservations: Iterable[Reservation], sign: int) -> StockPicture:
        levels = dict(self.levels)
        for reservation in reservations:
            pair = (reservation.sku, reservation.location_id)
            if pair in levels:
                level = levels[pair]
                levels[pair] = replace(level, reserved=level.reserved + sign * reservation.quantity)
        return replace(self, levels=levels)
