"""Latency percentiles as the benchmarks report them."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def p50_p99_ms(seconds: Sequence[float]) -> tuple[float, float]:
    """The median and the 99th percentile (the nearest rank at or below) in milliseconds."""
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return 1000 * statistics.median(ordered), 1000 * p99
