"""The KPI counters and the ERP latency histogram, counted where the thing happens.

They live in the process's default registry, made once at import: every app a process
builds (tests build many) counts into the same series, as Prometheus expects of a process.
The names and labels are part of the product's interface (docs/operations.md).
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

DUPLICATE_REQUESTS = Counter(
    "retailgraph_duplicate_requests",
    "Idempotent repeats answered with what the first request did: an order placed again "
    "with a known idempotency key, a reservation asked again, a cancellation repeated.",
    ["operation", "channel"],
)
REPLAYS = Counter(
    "retailgraph_replays",
    "Dead-lettered ERP postings sent back to the queue by an operator.",
    ["kind"],
)
IMPORT_REJECTS = Counter(
    "retailgraph_import_rejects",
    "Rows of an import or a movement batch refused, by feed and the reject's code: "
    "item-master records (products), price-list rows (prices), stock movements sent to "
    "the graph (movements), the ERP's stock moves (erp-stock-moves), the adjustments of a "
    "reconciliation's repair (reconciliation-repairs).",
    ["feed", "reason"],
)
PROMOTION_ACTIVATIONS = Counter(
    "retailgraph_promotion_activations",
    "Promotion starts and low-stock pauses: activated (an operator's activation took "
    "effect), started (a scheduled window opened and was announced), failed (refused: the "
    "promotion is live already or its window is over; or a window's opening could not be "
    "announced), paused_low_stock and resumed (for one SKU in one region).",
    ["result"],
)
ERP_REQUEST_SECONDS = Histogram(
    "retailgraph_erp_request_seconds",
    "How long one ERP call of the posting worker took, by outcome.",
    ["operation", "outcome"],
    # The ERP answers in tens of milliseconds when well; the post timeout is 20 s.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0),
)
ERP_ERRORS = Counter(
    "retailgraph_erp_errors",
    "ERP calls of the posting worker that failed, by why.",
    ["operation", "reason"],
)


def count_duplicate(operation: str, channel: str) -> None:
    DUPLICATE_REQUESTS.labels(operation=operation, channel=channel).inc()


def count_replays(kinds: dict[str, int]) -> None:
    """``kinds``: how many postings of each kind were replayed."""
    for kind, count in kinds.items():
        if count:
            REPLAYS.labels(kind=kind).inc(count)


def count_import_rejects(feed: str, reasons: Iterable[str]) -> None:
    """``reasons``: the code of each rejected row (a closed set per feed)."""
    for reason, count in Tally(reasons).items():
        IMPORT_REJECTS.labels(feed=feed, reason=reason).inc(count)


def count_promotion_activations(result: str, count: int = 1) -> None:
    if count:
        PROMOTION_ACTIVATIONS.labels(result=result).inc(count)
