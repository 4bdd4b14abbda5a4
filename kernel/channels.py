"""The sales channels every domain knows: the web shop, the apps and the stores."""

from __future__ import annotations

CHANNELS = ("web", "app", "store")
