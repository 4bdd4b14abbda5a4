"""The columns every queue of documents owed to the ERP keeps per posting.

Orders (sales, cancellations, returns) and inventory (stock moves) each keep their queue
in their own database, beside the rows that owe it; the ERP package's worker claims,
leases, retries and finishes postings of either the same way (``erp/posting/queue.py``),
reading and writing these columns.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, Integer, String, Text


def posting_state_columns(*, document_id_length: int) -> list[Column[Any]]:
    """Status, attempts and error, when next due, the worker's lease, the ERP's document
    and when it was posted, and the correlation id of the change that owes it."""
    return [
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("last_error", Text),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("lease_owner", String(100)),
        Column("lease_expires_at", DateTime(timezone=True)),
        Column("erp_document_id", String(document_id_length)),
        Column("posted_at", DateTime(timezone=True)),
        Column("correlation_id", String(100)),
    ]
