"""The life of a document owed to the ERP, whichever domain owes it: orders' sales,
cancellations and returns, inventory's stock movements. The posting worker moves each
through it the same way."""

from __future__ import annotations

from enum import StrEnum


class PostingStatus(StrEnum):
    """Pending, claimed by a worker, posted, or given up (dead-lettered, until replayed)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    POSTED = "posted"
    DEAD_LETTERED = "dead_lettered"
