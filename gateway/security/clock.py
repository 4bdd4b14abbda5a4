"""Where the gateway's security checks take "now" from: token expiry, rate limits.

The same contract as ``kernel.clock.Clock``, which the gateway may not import (it stands
apart from the product's other packages): the wiring hands the gateway the process's
clock, and tests hand it a clock they set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...
