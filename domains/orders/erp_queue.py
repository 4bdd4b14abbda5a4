"""The ERP posting queue as an operator looks at it: what waits, what was given up on,
and how the backlog moved over the last hour.

Every read is bounded. The waiting and dead-lettered postings are found through the
(status, next_attempt_at) index, so they cost the size of the backlog; the history adds
the postings posted within the window, through the index on ``posted_at``, and reads at
most ``MAX_HISTORY_ROWS`` of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domains.orders.erp_postings import Posting, PostingKind, PostingStatus, posting_from_row
from domains.orders.tables import erp_postings
from kernel.clock import as_utc

_OPEN = (PostingStatus.PENDING.value, PostingStatus.IN_PROGRESS.value)
_NOT_POSTED = (*_OPEN, PostingStatus.DEAD_LETTERED.value)
MAX_HISTORY_ROWS = 100_000
MAX_HISTORY_MINUTES = 180
MAX_DEAD_LETTERS = 100


@dataclass(frozen=True, slots=True)
class KindCounts:
    kind: PostingKind
    pending: int = 0
    in_progress: int = 0
    dead_lettered: int = 0


@dataclass(frozen=True, slots=True)
class QueueState:
    by_kind: tuple[KindCounts, ...]
    oldest_waiting: datetime | None

    @property
    def waiting(self) -> int:
        return sum(counts.pending + counts.in_progress for counts in self.by_kind)


@dataclass(frozen=True, slots=True)
class BacklogPoint:
    at: datetime
    waiting: int


async def queue_state(conn: AsyncConnection) -> QueueState:
    """How many postings of each kind wait or were given up on, and the oldest waiting."""
    rows = (
        await conn.execute(
            select(
                erp_postings.c.kind,
                erp_postings.c.status,
                func.count(),
                func.min(erp_postings.c.created_at),
            )
            .where(erp_postings.c.status.in_(_NOT_POSTED))
            .group_by(erp_postings.c.kind, erp_postings.c.status)
        )
    ).all()
    counts = {(kind, status): count for kind, status, count, _ in rows}
    oldest = [as_utc(created) for _, status, _, created in rows if status in _OPEN and created]
    return QueueState(
        by_kind=tuple(
            KindCounts(
                kind,
                pending=counts.get((kind.value, PostingStatus.PENDING.value), 0),
                in_progress=counts.get((kind.value, PostingStatus.IN_PROGRESS.value), 0),
                dead_lettered=counts.get((kind.value, PostingStatus.DEAD_LETTERED.value), 0),
            )
            for kind in PostingKind
        ),
        oldest_waiting=min(oldest, default=None),
    )


async def dead_letters(conn: AsyncConnection, first: int) -> list[Posting]:
    """The postings given up on, oldest first."""
    rows = await conn.execute(
        select(erp_postings)
        .where(erp_postings.c.status == PostingStatus.DEAD_LETTERED.value)
        .order_by(erp_postings.c.next_attempt_at, erp_postings.c.seq)
        .limit(first)
    )
    return [posting_from_row(row) for row in rows.all()]


async def backlog_history(conn: AsyncConnection, now: datetime, minutes: int) -> list[BacklogPoint]:
    """How many postings were waiting at the end of each of the last ``minutes`` minutes,
    the last point being ``now``.

    A posting waits from its creation until it is posted. A dead-lettered one has no
    record of when it was given up: it counts until its last attempt was due, which is
    when that attempt was made, give or take the queue's wait. A replayed posting counts
    as waiting since its creation.
    """
    start = now - timedelta(minutes=minutes)
    rows = (
        await conn.execute(
            select(
                erp_postings.c.created_at,
                erp_postings.c.status,
                erp_postings.c.posted_at,
                erp_postings.c.next_attempt_at,
            )
            .where(
                or_(
                    erp_postings.c.status.in_(_NOT_POSTED),
                    erp_postings.c.posted_at >= start,
                )
            )
            .limit(MAX_HISTORY_ROWS)
        )
    ).all()
    points = [now - timedelta(minutes=minutes - i) for i in range(minutes + 1)]
    # Per point, the postings that began waiting by then, less those that stopped.
    changes = [0] * (len(points) + 1)
    for created_at, status, posted_at, next_attempt_at in rows:
        if status == PostingStatus.POSTED.value:
            left = posted_at
        elif status == PostingStatus.DEAD_LETTERED.value:
            left = next_attempt_at
        else:
            left = None
        changes[_first_point_at_or_after(points, as_utc(created_at))] += 1
        if left is not None:
            changes[_first_point_at_or_after(points, as_utc(left))] -= 1
    waiting, history = 0, []
    for point, change in zip(points, changes, strict=False):
        waiting += change
        history.append(BacklogPoint(point, max(waiting, 0)))
    return history


def _first_point_at_or_after(points: Sequence[datetime], moment: datetime) -> int:
    """The index of the first point not before ``moment`` (len(points) when none is)."""
    start, step = points[0], timedelta(minutes=1)
    if moment <= start:
        return 0
    index = -((start - moment) // step)  # ceiling of (moment - start) / step
    return min(int(index), len(points))
