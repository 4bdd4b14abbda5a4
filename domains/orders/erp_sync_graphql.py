"""GraphQL for the ERP posting queue: ``Order.erpSync``, the ``erpQueue`` an operator
watches, and the ``replayErpSync`` mutation.

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
from adapters.graphql.cost import list_size
from domains.orders import erp_postings, erp_queue
from domains.orders.bootstrap import OrdersDomain
from domains.orders.erp_postings import Posting, PostingKind, PostingStatus, erp_sync_status
from domains.orders.errors import InvalidOrderInput, OrderNotFound

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


@strawberry.type(description="One kind of ERP document in the queue.")
class ErpQueueKind:
    kind: ErpDocumentKind  # type: ignore[valid-type]
    pending: int = strawberry.field(description="Queued, or waiting to retry.")
    in_progress: int = strawberry.field(description="Being posted by a worker now.")
    dead_lettered: int = strawberry.field(description="Given up on, waiting for a replay.")


@strawberry.type(
    description="A posting the worker gave up on: the ERP refused it, or it ran "
    "out of attempts. Fix the cause, then replayErpSync(orderId)."
)
class ErpDeadLetter:
    order_id: strawberry.ID
    order_number: str
    kind: ErpDocumentKind  # type: ignore[valid-type]
    reference: str
    attempts: int
    last_error: str | None
    created_at: datetime = strawberry.field(description="Since when the ERP is owed it.")
    last_attempt_at: datetime = strawberry.field(
        description="When its last attempt was due: it was given up then, or a little later."
    )

    @classmethod
    def of(cls, posting: Posting) -> ErpDeadLetter:
        return cls(
            order_id=strawberry.ID(posting.order_id),
            # A cancellation or return is "<order number>/C<n>" or "/R<n>".
            order_number=posting.reference.split("/", 1)[0],
            kind=posting.kind,
            reference=posting.reference,
            attempts=posting.attempts,
            last_error=posting.last_error,
            created_at=posting.created_at,
            last_attempt_at=posting.next_attempt_at,
        )


@strawberry.type
class ErpBacklogPoint:
    at: datetime
    waiting: int = strawberry.field(description="Postings pending or in progress then.")


@strawberry.type(description="The ERP posting queue: what the ERP has still to receive.")
class ErpQueue:
    kinds: list[ErpQueueKind]
    waiting: int = strawberry.field(description="Postings pending or in progress.")
    dead_lettered: int
    oldest_waiting_since: datetime | None = strawberry.field(
        description="When the oldest posting still waiting was made; null with none."
    )
    oldest_waiting_seconds: float = strawberry.field(
        description="Its age (0 with none): retailgraph_erp_backlog_oldest_seconds."
    )

    @strawberry.field(
        description="The postings given up on, oldest first (first: 1-100).",
        directives=[list_size(slicing_arguments=["first"])],
    )
    async def dead_letters(self, info: Info, first: int = 20) -> list[ErpDeadLetter]:
        if not 1 <= first <= erp_queue.MAX_DEAD_LETTERS:
            raise InvalidOrderInput(f"first must be between 1 and {erp_queue.MAX_DEAD_LETTERS}")
        domain: OrdersDomain = info.context["domain"]
        async with domain.engine.connect() as conn:
            found = await erp_queue.dead_letters(conn, first)
        return [ErpDeadLetter.of(posting) for posting in found]

    @strawberry.field(
        description="Postings waiting at each minute of the last `minutes` (1-180), "
        "rebuilt from the postings' times; the last point is now.",
        directives=[list_size(slicing_arguments=["minutes"])],
    )
    async def history(self, info: Info, minutes: int = 60) -> list[ErpBacklogPoint]:
        if not 1 <= minutes <= erp_queue.MAX_HISTORY_MINUTES:
            raise InvalidOrderInput(
                f"minutes must be between 1 and {erp_queue.MAX_HISTORY_MINUTES}"
            )
        domain: OrdersDomain = info.context["domain"]
        async with domain.engine.connect() as conn:
            points = await erp_queue.backlog_history(conn, domain.clock.now(), minutes)
        return [ErpBacklogPoint(at=point.at, waiting=point.waiting) for point in points]


@strawberry.type
class ErpQueueQuery:
    @strawberry.field(
        directives=requires("erp:manage"),
        description="Admin: the ERP posting queue, its dead letters and its last hour.",
    )
    async def erp_queue(self, info: Info) -> ErpQueue:
        domain: OrdersDomain = info.context["domain"]
        async with domain.engine.connect() as conn:
            state = await erp_queue.queue_state(conn)
        oldest = state.oldest_waiting
        age = 0.0 if oldest is None else (domain.clock.now() - oldest).total_seconds()
        return ErpQueue(
            kinds=[
                ErpQueueKind(
                    kind=counts.kind,
                    pending=counts.pending,
                    in_progress=counts.in_progress,
                    dead_lettered=counts.dead_lettered,
                )
                for counts in state.by_kind
            ],
            waiting=state.waiting,
            dead_lettered=sum(counts.dead_lettered for counts in state.by_kind),
            oldest_waiting_since=oldest,
            oldest_waiting_seconds=max(age, 0.0),
        )
