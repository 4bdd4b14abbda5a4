"""GraphQL for the ERP posting queue: ``Order.erpSync`` and the ``replayErpSync`` mutation.

An order owes the ERP one document per ERP-relevant change (its sale, then any
cancellations and returns); ``erpSync`` sums them up as the one an operator cares
about: the first not yet posted, else the last one.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from aiodataloader import DataLoader
from strawberry.types import Info

from adapters.graphql.access import requires
from domains.orders import erp_postings
from domains.orders.bootstrap import OrdersDomain
from domains.orders.erp_postings import Posting, PostingKind, PostingStatus, erp_sync_status
from domains.orders.errors import OrderNotFound

ErpSyncStatus = strawberry.enum(
    PostingStatus,
    name="ErpSyncStatus",
    description="PENDING: queued or waiting to retry; IN_PROGRESS: a worker is posting it; "
    "POSTED: the ERP has it; DEAD_LETTERED: given up, waiting for a fix and a replay.",
)
ErpDocumentKind = strawberry.enum(PostingKind, name="ErpDocumentKind")


@strawberry.type(description="How far the order's documents have got into the ERP.")
class ErpSync:
    status: ErpSyncStatus  # type: ignore[valid-type]
    kind: ErpDocumentKind = strawberry.field(  # type: ignore[valid-type]
        description="The document this status is about: the first one not yet posted, "
        "else the last one."
    )
    reference: str = strawberry.field(description="Its reference in the ERP.")
    attempts: int
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed, or why the document waits (the ERP is "
        "unreachable); null once it is posted."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the worker will next try to post the document, while it waits "
        "(PENDING); null otherwise."
    )
    erp_document_id: str | None = strawberry.field(
        description="The ERP's id of the order's sale, once posted."
    )
    posted_at: datetime | None = strawberry.field(
        description="When the last posted document reached the ERP."
    )

    @classmethod
    def of(cls, postings: list[Posting]) -> ErpSync | None:
        if not postings:
            return None
        current = next((p for p in postings if p.status is not PostingStatus.POSTED), None)
        current = current or postings[-1]
        sale = next((p for p in postings if p.kind is PostingKind.SALE), None)
        posted = [p.posted_at for p in postings if p.posted_at is not None]
        status = erp_sync_status(p.status for p in postings)
        return cls(
            status=status,
            kind=current.kind,
            reference=current.reference,
            attempts=current.attempts,
            last_error=current.last_error,
            next_attempt_at=(
                current.next_attempt_at if current.status is PostingStatus.PENDING else None
            ),
            erp_document_id=(sale or current).erp_document_id,
            posted_at=max(posted, default=None),
        )


class ErpSyncByOrderLoader(DataLoader[str, ErpSync | None]):
    """Each order's postings, one statement per batch of orders."""

    def __init__(self, domain: OrdersDomain) -> None:
        super().__init__()
        self.domain = domain

    async def batch_load_fn(self, order_ids: list[str]) -> list[ErpSync | None]:
        async with self.domain.engine.connect() as conn:
            found = await erp_postings.postings_by_order(conn, order_ids)
        return [ErpSync.of(found.get(order_id, [])) for order_id in order_ids]


async def erp_sync_of(info: Info, order_id: str) -> ErpSync | None:
    loader: ErpSyncByOrderLoader = info.context["loaders"].erp_sync_by_order
    return await loader.load(order_id)


@strawberry.type
class ReplayErpSyncResult:
    replayed: int = strawberry.field(description="Dead-lettered postings sent back to the queue.")
    erp_sync: ErpSync | None


@strawberry.type
class ErpSyncMutation:
    @strawberry.mutation(
        directives=requires("erp:manage"),
        description="Admin: send the order's dead-lettered ERP postings back to the queue, "
        "after fixing what the ERP refused. Safe to repeat: the ERP document is looked up "
        "by its reference before one is created.",
    )
    async def replay_erp_sync(self, info: Info, order_id: strawberry.ID) -> ReplayErpSyncResult:
        domain: OrdersDomain = info.context["domain"]
        order_id_text = str(order_id)
        if not 0 < len(order_id_text) <= 36 or "\x00" in order_id_text:
            raise OrderNotFound(order_id_text[:100])
        if await info.context["loaders"].order_by_id.load(order_id_text) is None:
            raise OrderNotFound(order_id_text)
        replayed = await erp_postings.replay(
            domain.engine, order_id=order_id_text, now=domain.clock.now()
        )
        async with domain.engine.connect() as conn:
            postings = await erp_postings.postings_by_order(conn, [order_id_text])
        return ReplayErpSyncResult(
            replayed=replayed, erp_sync=ErpSync.of(postings.get(order_id_text, []))
        )
