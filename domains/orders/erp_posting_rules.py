"""The rules of the ERP posting queue, free of I/O: which order events become ERP
documents, how a failed post is retried, and when it is given up (dead-lettered).

A posting is one document the ERP must receive exactly once: the sale when an order is
created, a cancellation, or a return (a sale with negative quantities under its own
reference). Its payload is fixed when the order changes, so a retry posts what the
customer bought, whatever happened to the order since.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any


class PostingKind(StrEnum):
    SALE = "sale"
    CANCELLATION = "cancellation"
    RETURN = "return"


class PostingStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    POSTED = "posted"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True, slots=True)
class NewPosting:
    order_id: str
    kind: PostingKind
    reference: str
    payload: dict[str, Any]
    correlation_id: str | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; dead-letter after ``max_attempts``."""

    base_delay: float = 1.0
    max_delay: float = 300.0
    max_attempts: int = 10

    def ceiling(self, attempts: int) -> float:
        """The upper bound of the wait after the ``attempts``-th failed attempt."""
        exponent = min(max(attempts - 1, 0), 60)  # 2**60 seconds is past any cap
        return float(min(self.max_delay, self.base_delay * 2**exponent))

    def delay(self, attempts: int, draw: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, ceiling), so retrying workers spread out instead of
        hammering a recovering ERP together. ``draw`` gives a number in [0, 1)."""
        return self.ceiling(attempts) * draw()


@dataclass(frozen=True, slots=True)
class Outcome:
    status: PostingStatus
    next_attempt_at: datetime | None
    last_error: str
    # False when the attempt is not held against the posting (see ``after_failure``).
    charged: bool = True


def after_failure(
    policy: RetryPolicy,
    *,
    attempts: int,
    error: str,
    retryable: bool,
    now: datetime,
    retry_after: float | None = None,
    probe: bool = False,
    draw: Callable[[], float] = random.random,
) -> Outcome:
    """What a failed attempt leads to. ``attempts`` counts this one.

    A refusal for good (not retryable) is dead-lettered at once: retrying it only delays
    the operator who must fix it. The ERP's own ``retry_after`` is a floor on the wait.
    A ``probe`` (the one call a half-open breaker lets through during an outage) that
    fails transiently is not held against its posting: otherwise a long outage would
    dead-letter the oldest orders one probe at a time, though nothing is wrong with them.
    """
    if not retryable:
        return Outcome(PostingStatus.DEAD_LETTERED, None, error)
    charged = not probe
    if charged and attempts >= policy.max_attempts:
        return Outcome(PostingStatus.DEAD_LETTERED, None, error)
    wait = policy.delay(attempts if charged else max(attempts - 1, 1), draw)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return Outcome(PostingStatus.PENDING, now + timedelta(seconds=wait), error, charged)


def erp_sync_status(statuses: Iterable[PostingStatus]) -> PostingStatus | None:
    """One status for an order's postings: the worst one still open, else POSTED."""
    seen = set(statuses)
    if not seen:
        return None
    for status in (
        PostingStatus.DEAD_LETTERED,
        PostingStatus.IN_PROGRESS,
        PostingStatus.PENDING,
    ):
        if status in seen:
            return status
    return PostingStatus.POSTED


# -- from order events to postings ------------------------------------------------------


def postings_for(
    events: Iterable[Any],
    *,
    earlier: Mapping[tuple[str, PostingKind], int],
    paid_prices: Mapping[str, str],
    headers: Mapping[str, Mapping[str, str]],
) -> list[NewPosting]:
    """The postings that ``events`` (domain events of orders) call for, in order.

    ``earlier`` counts each order's earlier postings per kind: cancellations and returns
    are numbered "<number>/C<n>" and "<number>/R<n>", so each document has its own
    reference. ``paid_prices`` is the unit price paid per line id, which a return credits;
    ``headers`` gives a returned order's currency and customer reference.
    """
    counts = dict(earlier)

    def numbered(order_id: str, number: str, kind: PostingKind) -> str:
        counts[(order_id, kind)] = counts.get((order_id, kind), 0) + 1
        return f"{number}/{kind.value[0].upper()}{counts[(order_id, kind)]}"

    postings: list[NewPosting] = []
    for event in events:
        payload = event.payload
        order_id = payload["orderId"]
        number = payload["number"]
        if event.type == "OrderCreated":
            postings.append(
                NewPosting(
                    order_id,
                    PostingKind.SALE,
                    number,
                    _sale(number, payload, payload["fulfilment"]["locationId"]),
                    event.correlation_id,
                )
            )
        elif event.type == "OrderLinesCancelled":
            skus = [] if payload.get("wholeOrder") else _skus(payload["lines"])
            postings.append(
                NewPosting(
                    order_id,
                    PostingKind.CANCELLATION,
                    numbered(order_id, number, PostingKind.CANCELLATION),
                    {"reference": number, "skus": skus},
                    event.correlation_id,
                )
            )
        elif event.type == "OrderReturnReceived":
            reference = numbered(order_id, number, PostingKind.RETURN)
            lines = [
                {
                    "sku": line["sku"],
                    "quantity": line["quantity"],
                    "unitPrice": paid_prices[line["lineId"]],
                }
                for line in payload["lines"]
            ]
            postings.append(
                NewPosting(
                    order_id,
                    PostingKind.RETURN,
                    reference,
                    {
                        "reference": reference,
                        **headers[order_id],
                        "location": payload["locationId"],
                        "lines": lines,
                    },
                    event.correlation_id,
                )
            )
    return postings


def _sale(reference: str, payload: Mapping[str, Any], location: str) -> dict[str, Any]:
    return {
        "reference": reference,
        "customerReference": payload["customerReference"],
        "currency": payload["currency"],
        "location": location,
        "lines": [
            {
                "sku": line["sku"],
                "quantity": line["quantity"],
                # The ERP books what the customer pays, promotions applied.
                "unitPrice": line["promotionalUnitPrice"],
            }
            for line in payload["lines"]
        ],
    }


def _skus(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(line["sku"]) for line in lines))
