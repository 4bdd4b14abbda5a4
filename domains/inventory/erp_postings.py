"""What a movement the ERP has not seen owes it, written in the movement's transaction.

A WMS's receipt, transfer, adjustment, count or return changes our stock first; the ERP
must then record the same change once, as done stock moves of its own (``erp_moves_for``
says which). One posting per applied movement line holds those moves, each under its own
reference ("<posting reference>/<n>"), so the ERP package's worker can look each one up
before making it, and a retry never moves the goods twice. Movements the ERP told us of
(its stock-move feed, a reconciliation repair) owe nothing.

Until its posting is posted, a movement is a difference the reconciliation explains:
``unposted_changes`` is the on hand each pair holds that the ERP does not know yet.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domains.inventory.model import ErpMove, Movement
from domains.inventory.tables import erp_postings
from kernel.clock import as_utc
from kernel.postings import PostingStatus as PostingStatus

# The kind of every inventory posting: the ERP call it makes.
STOCK_MOVE = "stock_move"
# The references of our postings: "MV-" and 20 hex digits, then "/<n>" per ERP move.
REFERENCE_PREFIX = "MV-"


@dataclass(frozen=True, slots=True)
class MovementPosting:
    seq: int
    reference: str
    sku: str
    source_document_id: str
    line_number: int
    moves: tuple[dict[str, Any], ...]
    status: PostingStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    erp_document_id: str | None
    posted_at: datetime | None
    correlation_id: str | None
    created_at: datetime
    traceparent: str | None = None
    kind: str = STOCK_MOVE


def posting_from_row(row: Any) -> MovementPosting:
    return MovementPosting(
        seq=row.seq,
        reference=row.reference,
        sku=row.sku,
        source_document_id=row.source_document_id,
        line_number=row.line_number,
        moves=tuple(row.payload["moves"]),
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


def posting_reference(movement: Movement) -> str:
    """A movement line's posting reference: short and the same on every retry, since the
    source document id may be 200 characters long."""
    key = f"{movement.source_document_id}\x00{movement.line_number}".encode()
    return REFERENCE_PREFIX + hashlib.sha256(key).hexdigest()[:20]


def move_payload(reference: str, number: int, move: ErpMove) -> dict[str, Any]:
    return {
        "reference": f"{reference}/{number}",
        "sku": move.sku,
        "quantity": move.quantity,
        "from": move.from_location,
        "fromKind": move.from_kind.value,
        "to": move.to_location,
        "toKind": move.to_kind.value,
    }


async def enqueue(
    session: AsyncSession,
    owed: Sequence[tuple[Movement, Sequence[ErpMove]]],
    *,
    now: datetime,
    correlation_id: str | None,
    traceparent: str | None,
) -> None:
    """Adds one posting per movement that owes the ERP moves, in the caller's transaction."""
    rows = []
    for movement, moves in owed:
        if not moves:
            continue
        reference = posting_reference(movement)
        rows.append(
            {
                "reference": reference,
                "sku": movement.sku,
                "source_document_id": movement.source_document_id,
                "line_number": movement.line_number,
                "payload": {
                    "type": movement.type.value,
                    "moves": [
                        move_payload(reference, number, move)
                        for number, move in enumerate(moves, start=1)
                    ],
                },
                "status": PostingStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "correlation_id": correlation_id,
                "traceparent": traceparent,
                "created_at": now,
            }
        )
    if rows:
        await session.execute(insert(erp_postings), rows)


async def unposted_changes(session: AsyncSession) -> dict[tuple[str, str], int]:
    """The on hand per (sku, location) that movements gave us and the ERP has not heard
    of yet: every posting not posted, dead letters included (they wait for an operator).
    Read through the (status, next_attempt_at) index: it costs the size of the backlog."""
    change: dict[tuple[str, str], int] = defaultdict(int)
    rows = await session.execute(
        select(erp_postings.c.payload).where(
            erp_postings.c.status.in_(
                [
                    PostingStatus.PENDING.value,
                    PostingStatus.IN_PROGRESS.value,
                    PostingStatus.DEAD_LETTERED.value,
                ]
            )
        )
    )
    for (payload,) in rows.all():
        for move in payload["moves"]:
            if move["from"] is not None:
                change[(move["sku"], move["from"])] -= int(move["quantity"])
            if move["to"] is not None:
                change[(move["sku"], move["to"])] += int(move["quantity"])
    return {pair: units for pair, units in change.items() if units}


async def replay(engine: AsyncEngine, *, now: datetime) -> int:
    """Dead-lettered postings back to PENDING with fresh attempts; safe to repeat (the
    worker finds each ERP move by its reference before making it)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(erp_postings)
            .where(erp_postings.c.status == PostingStatus.DEAD_LETTERED.value)
            .values(status=PostingStatus.PENDING.value, attempts=0, next_attempt_at=now)
        )
    return int(result.rowcount)


async def postings(engine: AsyncEngine, *, limit: int = 100) -> list[MovementPosting]:
    """The newest postings, newest first (for operators and tests)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(erp_postings).order_by(erp_postings.c.seq.desc()).limit(limit)
        )
        return [posting_from_row(row) for row in rows.all()]
