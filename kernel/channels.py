"""The channels a retailer sells through and the currencies it prices in.

They are the retailer's data, not code: the ``[sales]`` settings name them (docs/
configuration.md) and every process of one deployment reads the same file, so every
domain knows the same ones. The defaults are the demo's: the web shop, the apps, the
stores and one marketplace; euros, dollars and pounds.

A pure model checks only that a name is well formed (``well_formed_channel``); whether the
retailer sells through it is the service's question, asked of the ``SalesVocabulary`` the
process was given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# Lower-case letters, digits, '-' and '_', starting with a letter: safe in a URL, a
# Prometheus label and a Redis key alike.
CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
# ISO 4217's alphabetic codes.
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# Bounds a settings file cannot exceed: each channel and currency is a key of cached
# prices and of gauges, so the lists stay small.
MAX_CHANNELS = 32
MAX_CURRENCIES = 16

DEFAULT_CHANNELS = ("web", "app", "store", "amazon")
DEFAULT_CURRENCIES = ("EUR", "USD", "GBP")
# The channels a product, a price and a stock figure were always known in before the
# list was the retailer's: the ones that share a base price unless the settings say
# otherwise (a marketplace keeps its own price list).
OWN_CHANNELS = ("web", "app", "store")


def well_formed_channel(name: object) -> bool:
    return isinstance(name, str) and CHANNEL_NAME.fullmatch(name) is not None


def well_formed_currency(code: object) -> bool:
    return isinstance(code, str) and CURRENCY_CODE.fullmatch(code) is not None


@dataclass(frozen=True, slots=True)
class SalesVocabulary:
    """The channels and currencies one deployment sells in, in the order shown."""

    channels: tuple[str, ...] = DEFAULT_CHANNELS
    currencies: tuple[str, ...] = DEFAULT_CURRENCIES

    def __post_init__(self) -> None:
        _check_list("channel", self.channels, well_formed_channel, MAX_CHANNELS)
        _check_list("currency", self.currencies, well_formed_currency, MAX_CURRENCIES)

    def sells_in(self, channel: str) -> bool:
        return channel in self.channels

    def prices_in(self, currency: str) -> bool:
        return currency in self.currencies


def _check_list(
    kind: str, names: tuple[str, ...], well_formed: Callable[[object], bool], most: int
) -> None:
    if not 1 <= len(names) <= most:
        raise ValueError(f"between 1 and {most} {kind} names are needed, not {len(names)}")
    for name in names:
        if not well_formed(name):
            raise ValueError(f"{kind} {str(name)[:40]!r} is not a well-formed name")
    if len(set(names)) != len(names):
        raise ValueError(f"each {kind} is named once")


# The demo's channels and currencies: what a caller given no others (a test) sells in.
DEFAULT_SALES = SalesVocabulary()
