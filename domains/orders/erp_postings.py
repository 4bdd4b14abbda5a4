"""What an order change owes the ERP, written in the order's own transaction.

A posting is one document the ERP must receive exactly once: the sale when an order is
created, a cancellation, or a return (a sale with negative quantities under its own
reference). Its payload is fixed when the order changes, so a retry posts what the
customer bought, whatever happened to the order since. The ERP package's worker claims
and posts them (``erp.posting``); orders reads their status for ``Order.erpSync`` and
puts dead letters back in the queue when an operator replays them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from adapters.metrics.counters import count_replays
from domains.orders.tables import erp_postings, lines, orders
from kernel.clock import as_utc
from kernel.event_types import LineQuantity, OrderCreated, OrderLinesCancelled, OrderReturnReceived
from kernel.events import Event
from kernel.postings import PostingStatus as PostingStatus

ERP_EVENTS = (OrderCreated.TYPE, OrderLinesCancelled.TYPE, OrderReturnReceived.TYPE)


class PostingKind(StrEnum):
    SALE = "sale"
    CANCELLATION = "cancellation"
    RETURN = "return"


@dataclass(frozen=True, slots=True)
class NewPosting:
    order_id: str
    kind: PostingKind
    reference: str
    payload: dict[str, Any]
    correlation_id: str | None
    traceparent: str | None = None


@dataclass(frozen=True, slots=True)
class Posting:
    seq: int
    order_id: str
    kind: PostingKind
    reference: str
    payload: dict[str, Any]
    status: PostingStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    erp_document_id: str | None
    posted_at: datetime | None
    correlation_id: str | None
    created_at: datetime
    # The trace context of the request that owed it (kernel.tracing), when traced.
    traceparent: str | None = None


def posting_from_row(row: Any) -> Posting:
    return Posting(
        seq=row.seq,
        order_id=row.order_id,
        kind=PostingKind(row.kind),
        reference=row.reference,
        payload=row.payload,
        status=PostingStatus(row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        next_attempt_at=as_utc(row.next_attempt_at),
        erp_document_id=row.erp_document_id,
        posted_at=None if row.posted_at is None else as_utc(row.posted_at),
        correlation_id=row.correlation_id,
        created_at=as_utc(row.created_at),
        traceparent=row.traceparent,
    )


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
    events: Iterable[Event],
    *,
    earlier: Mapping[tuple[str, PostingKind], int],
    paid_prices: Mapping[str, str],
    headers: Mapping[str, Mapping[str, str]],
    remaining: Mapping[tuple[str, str], int] | None = None,
) -> list[NewPosting]:
    """The postings that ``events`` (domain events of orders) call for, in order.

    ``earlier`` counts each order's earlier postings per kind: cancellations and returns
    are numbered "<number>/C<n>" and "<number>/R<n>", so each document has its own
    reference. ``paid_prices`` is the unit price paid per line id, which a return credits;
    ``headers`` gives a returned order's currency and customer reference. ``remaining``
    is, per order and SKU, the units not cancelled once the events' step is made: a
    partial cancellation tells the ERP what its sale keeps, so a retry amends nothing
    twice (a partial cancellation's SKUs must be in it).
    """
    left = remaining or {}
    counts = dict(earlier)

    def numbered(order_id: str, number: str, kind: PostingKind) -> str:
        counts[(order_id, kind)] = counts.get((order_id, kind), 0) + 1
        return f"{number}/{kind.value[0].upper()}{counts[(order_id, kind)]}"

    postings: list[NewPosting] = []
    for event in events:
        if event.type == OrderCreated.TYPE:
            created = event.payload_as(OrderCreated)
            postings.append(
                NewPosting(
                    created.order_id,
                    PostingKind.SALE,
                    created.number,
                    _sale(created),
                    event.correlation_id,
                    event.traceparent,
                )
            )
        elif event.type == OrderLinesCancelled.TYPE:
            cancelled = event.payload_as(OrderLinesCancelled)
            order_id, number = cancelled.order_id, cancelled.number
            skus = [] if cancelled.whole_order else _skus(cancelled.lines)
            units = [] if cancelled.whole_order else _units(order_id, cancelled.lines, left)
            postings.append(
                NewPosting(
                    order_id,
                    PostingKind.CANCELLATION,
                    numbered(order_id, number, PostingKind.CANCELLATION),
                    {"reference": number, "skus": skus, "lines": units},
                    event.correlation_id,
                    event.traceparent,
                )
            )
        elif event.type == OrderReturnReceived.TYPE:
            received = event.payload_as(OrderReturnReceived)
            order_id = received.order_id
            reference = numbered(order_id, received.number, PostingKind.RETURN)
            lines = [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unitPrice": paid_prices[line.line_id],
                }
                for line in received.lines
            ]
            postings.append(
                NewPosting(
                    order_id,
                    PostingKind.RETURN,
                    reference,
                    {
                        "reference": reference,
                        **headers[order_id],
                        "location": received.receiving_location,
                        "lines": lines,
                    },
                    event.correlation_id,
                    event.traceparent,
                )
            )
    return postings


def _sale(created: OrderCreated) -> dict[str, Any]:
    return {
        "reference": created.number,
        "customerReference": created.customer_reference,
        "currency": created.currency,
        "location": created.fulfilment.location_id,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                # The ERP books what the customer pays, promotions applied.
                "unitPrice": str(line.promotional_unit_price),
            }
            for line in created.lines
        ],
    }


def _order_id(event: Event) -> str:
    if event.type == OrderCreated.TYPE:
        return event.payload_as(OrderCreated).order_id
    if event.type == OrderLinesCancelled.TYPE:
        return event.payload_as(OrderLinesCancelled).order_id
    return event.payload_as(OrderReturnReceived).order_id


def _skus(lines: Iterable[LineQuantity]) -> list[str]:
    return list(dict.fromkeys(line.sku for line in lines))


def _units(
    order_id: str, lines: Iterable[LineQuantity], remaining: Mapping[tuple[str, str], int]
) -> list[dict[str, Any]]:
    """Per SKU (the ERP's sale knows SKUs, not our line ids): the units cancelled and
    the units the sale keeps after."""
    cancelled: dict[str, int] = {}
    for line in lines:
        cancelled[line.sku] = cancelled.get(line.sku, 0) + line.quantity
    return [
        {"sku": sku, "quantity": quantity, "remaining": remaining[(order_id, sku)]}
        for sku, quantity in cancelled.items()
    ]


# -- writing, inside the order's transaction ------------------------------------------


# Built once: a fresh ``insert()`` per order had its cache key generated on every call.
_INSERT_POSTINGS = insert(erp_postings)


async def enqueue(session: AsyncSession, events: Sequence[Event], now: datetime) -> None:
    """Adds the postings that ``events`` call for to the caller's transaction."""
    relevant = [event for event in events if event.type in ERP_EVENTS]
    if not relevant:
        return
    order_ids = list({_order_id(event) for event in relevant})
    earlier: dict[tuple[str, PostingKind], int] = {}
    if any(event.type != OrderCreated.TYPE for event in relevant):
        # Only cancellations and returns are numbered after the earlier ones; a sale's
        # reference is the order's number, so a new order costs no read here.
        counted = await session.execute(
            select(erp_postings.c.order_id, erp_postings.c.kind, func.count())
            .where(erp_postings.c.order_id.in_(order_ids))
            .group_by(erp_postings.c.order_id, erp_postings.c.kind)
        )
        earlier = {(row[0], PostingKind(row[1])): row[2] for row in counted.all()}
    paid: dict[str, str] = {}
    headers: dict[str, dict[str, str]] = {}
    if any(event.type == OrderReturnReceived.TYPE for event in relevant):
        prices = await session.execute(
            select(lines.c.id, lines.c.promotional_unit_price).where(
                lines.c.order_id.in_(order_ids)
            )
        )
        paid = {row.id: str(row.promotional_unit_price) for row in prices.all()}
        found = await session.execute(
            select(orders.c.id, orders.c.currency, orders.c.customer_reference).where(
                orders.c.id.in_(order_ids)
            )
        )
        headers = {
            row.id: {"currency": row.currency, "customerReference": row.customer_reference}
            for row in found.all()
        }
    left: dict[tuple[str, str], int] = {}
    if any(event.type == OrderLinesCancelled.TYPE for event in relevant):
        # The order's lines as this step saved them, in this transaction.
        kept = await session.execute(
            select(
                lines.c.order_id,
                lines.c.sku,
                func.sum(lines.c.quantity - lines.c.quantity_cancelled),
            )
            .where(lines.c.order_id.in_(order_ids))
            .group_by(lines.c.order_id, lines.c.sku)
        )
        left = {(row[0], row[1]): int(row[2]) for row in kept.all()}
    postings = postings_for(
        relevant, earlier=earlier, paid_prices=paid, headers=headers, remaining=left
    )
    await session.execute(_INSERT_POSTINGS, rows(postings, now))


def new_order_rows(events: Sequence[Event], now: datetime) -> list[dict[str, Any]]:
    """The posting rows a new order's events call for (its sale), made without a read:
    a sale's reference is the order's number. For a writer that stores the order and
    its postings in one statement."""
    relevant = [event for event in events if event.type in ERP_EVENTS]
    if any(event.type != OrderCreated.TYPE for event in relevant):
        raise ValueError("only a new order's events are posted without reading the order")
    return rows(postings_for(relevant, earlier={}, paid_prices={}, headers={}), now)


def rows(postings: Iterable[NewPosting], now: datetime) -> list[dict[str, Any]]:
    """The queue's rows of ``postings``, by column name, due at ``now``."""
    return [
        {
            "order_id": posting.order_id,
            "kind": posting.kind.value,
            "reference": posting.reference,
            "payload": posting.payload,
            "status": PostingStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "correlation_id": posting.correlation_id,
            "traceparent": posting.traceparent,
            "created_at": now,
        }
        for posting in postings
    ]


# -- operators ------------------------------------------------------------------------------


async def replay(engine: AsyncEngine, *, now: datetime, order_id: str | None = None) -> int:
    """Dead-lettered postings (of one order, or all) back to PENDING with fresh attempts.

    Safe to repeat: a posting that is not dead-lettered is left alone, and the worker
    finds an ERP document by its reference before creating one.
    """
    where = [erp_postings.c.status == PostingStatus.DEAD_LETTERED.value]
    if order_id is not None:
        where.append(erp_postings.c.order_id == order_id)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(erp_postings)
            .where(*where)
            .values(
                status=PostingStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
            )
            .returning(erp_postings.c.kind)
        )
        kinds = [row.kind for row in result.all()]
    count_replays({kind: kinds.count(kind) for kind in set(kinds)})
    return len(kinds)


async def postings_by_order(
    conn: AsyncConnection, order_ids: Iterable[str]
) -> dict[str, list[Posting]]:
    """Every posting of each order, oldest first, in one statement."""
    found: dict[str, list[Posting]] = defaultdict(list)
    ids = list(order_ids)
    if not ids:
        return found
    result = await conn.execute(
        select(erp_postings)
        .where(erp_postings.c.order_id.in_(ids))
        .order_by(erp_postings.c.order_id, erp_postings.c.seq)
    )
    for row in result.all():
        found[row.order_id].append(posting_from_row(row))
    return found
