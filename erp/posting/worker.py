"""The ERP sync worker: claims due postings and sends each one to the ERP once.

Several workers (tasks or processes) can share one queue: erp.posting.queue's claim hands each
posting to one lease holder, and at most one posting per order at a time. Each post goes
through the adapter's "find by reference, else create (or finish)", so a retry after a
crash, a timeout or a lost lease completes the document instead of duplicating it.
Calls pass a token bucket (the ERP's pace) and a circuit breaker (the ERP's health).

Given inventory's database too (``movements``), the worker also posts the stock moves owed
for movements the ERP has not seen (a WMS's receipts, transfers, adjustments, counts):
the same claims, retries, breaker, dead letters and pace, one SKU's moves in order.

Every line logged while a posting is handled carries its correlation id (the request's
that owed it) and reference. With a tracer, each post is a span of its own trace, linked
to the trace of the request that owed it: the post happens later, elsewhere, maybe after
retries, so it is a consequence of that request rather than a part of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from opentelemetry.trace import Link, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace import get_current_span as current_span
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.contextvars import bound_contextvars

from adapters.metrics.counters import ERP_ERRORS, ERP_REQUEST_SECONDS
from domains.inventory.erp_postings import MovementPosting
from domains.orders.erp_postings import Posting, PostingKind
from erp.breaker import BreakerState, CircuitBreaker
from erp.port import (
    CUSTOMER,
    LOST_FOUND,
    STORAGE,
    SUPPLIER,
    TRANSIT,
    Cancellation,
    CancelledLine,
    ErpError,
    ErpPort,
    ErpRateLimited,
    ErpRejected,
    ErpUnavailable,
    OrderLine,
    SalesOrder,
    StockMovePosting,
)
from erp.posting import queue
from erp.posting.retry import after_failure
from erp.posting.worker_settings import WorkerSettings
from erp.rate_limit import LocalRateLimiter, RateLimiter
from kernel.clock import Clock
from kernel.tracing import span_context

log = logging.getLogger(__name__)

# The ERP call each kind of posting makes: the ``operation`` label of the ERP metrics.
OPERATIONS = {
    PostingKind.SALE: "post_sales_order",
    PostingKind.CANCELLATION: "post_cancellation",
    PostingKind.RETURN: "post_return",
}
STOCK_MOVE_OPERATION = "post_stock_move"
# A move's end outside our locations, as inventory names it, in the port's words.
_PLACES = {
    "storage": STORAGE,
    "supplier": SUPPLIER,
    "customer": CUSTOMER,
    "lost_found": LOST_FOUND,
    "transit": TRANSIT,
}
Claimed = Posting | MovementPosting
# How many waiting postings one pass marks with an open breaker's error (see _defer).
DEFER_BATCH = 1000


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ErpSyncWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        erp: ErpPort,
        *,
        settings: WorkerSettings | None = None,
        limiter: RateLimiter | None = None,
        breaker: CircuitBreaker | None = None,
        owner: str | None = None,
        clock: Clock,
        draw: Callable[[], float] = random.random,
        tracer: Tracer | None = None,
        movements: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        # Inventory's database, where the stock moves owed to the ERP wait; None: orders only.
        self.movements = movements
        self._movements_failing = False
        self.erp = erp
        self.settings = settings or WorkerSettings()
        self.limiter = limiter or LocalRateLimiter(
            rate=self.settings.rate, capacity=self.settings.burst
        )
        self.breaker = breaker or CircuitBreaker(
            failure_threshold=self.settings.breaker_threshold,
            reset_timeout=self.settings.breaker_reset,
        )
        self.owner = owner or worker_id()
        self._clock = clock
        self._draw = draw
        # None: tracing is off, and no span object is made.
        self._tracer = tracer
        self.posted = 0
        # The failure that last counted towards the breaker: what waiting orders are told
        # while it is open.
        self._last_failure: str | None = None

    async def _claim(self, slots: int) -> tuple[list[Claimed], bool]:
        """Up to ``slots`` postings, as many as the breaker allows; and whether they are
        the half-open breaker's probe."""
        probing = self.breaker.state is BreakerState.HALF_OPEN
        allowed = self.breaker.permits(slots)
        if allowed == 0:
            if self.breaker.state is BreakerState.OPEN:
                await self._defer()
            return [], False
        lease, now = timedelta(seconds=self.settings.lease), self._clock.now()
        try:
            claimed: list[Claimed] = list(
                await queue.claim(self.engine, self.owner, limit=allowed, lease=lease, now=now)
            )
            if self.movements is not None and len(claimed) < allowed:
                claimed += await self._claim_movements(allowed - len(claimed), lease, now)
        except BaseException:
            if probing:
                self.breaker.abandon_probe()
            raise
        if not claimed and probing:
            self.breaker.abandon_probe()
        return claimed, probing

    async def _claim_movements(
        self, limit: int, lease: timedelta, now: datetime
    ) -> list[MovementPosting]:
        """Up to ``limit`` stock move postings; none while inventory's database cannot be
        read, which must not hold the orders' postings back (it is logged once a spell)."""
        assert self.movements is not None
        try:
            claimed = await queue.claim(
                self.movements, self.owner, limit=limit, lease=lease, now=now,
                queue=queue.MOVEMENTS,
            )  # fmt: skip
        except Exception:
            if not self._movements_failing:
                log.exception("ERP sync worker %s: claiming stock moves failed", self.owner)
            self._movements_failing = True
            return []
        if self._movements_failing:
            log.info("ERP sync worker %s: claiming stock moves again", self.owner)
        self._movements_failing = False
        return claimed

    async def _defer(self) -> None:
        """While the breaker is open, tell the orders that fell due why they wait:
        without this they would show no error at all, the outage visible only in the
        logs, since nothing is claimed (so nothing fails) until the probe.

        Each pass writes only due postings not yet showing this reason, at most
        DEFER_BATCH of them.
        """
        now = self._clock.now()
        error = queue.HELD_BY_OUTAGE
        if self._last_failure:
            error = f"{error} (last failure: {self._last_failure})"
        try:
            await queue.defer_due(self.engine, error[:2000], now=now, limit=DEFER_BATCH)
            if self.movements is not None and not self._movements_failing:
                await queue.defer_due(
                    self.movements, error[:2000], now=now, limit=DEFER_BATCH, queue=queue.MOVEMENTS
                )
        except Exception:  # only the status shown is late; posting itself is unaffected
            log.exception("ERP sync worker %s: could not mark the waiting postings", self.owner)

    async def run_once(self) -> int:
        """Claims one batch and posts it; returns how many postings were tried."""
        claimed, probing = await self._claim(self.settings.concurrency)
        await asyncio.gather(*(self.process(posting, probe=probing) for posting in claimed))
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Posts until ``stop`` is set, keeping up to ``concurrency`` posts in flight (a
        slot is refilled as soon as it frees); the posts in flight finish first."""
        log.info("ERP sync worker %s started", self.owner)
        in_flight: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            free = self.settings.concurrency - len(in_flight)
            claimed: list[Claimed] = []
            if free > 0:
                try:
                    claimed, probing = await self._claim(free)
                except Exception:  # a database hiccup must not end the worker
                    log.exception("ERP sync worker %s: claiming failed", self.owner)
                for posting in claimed:
                    in_flight.add(asyncio.create_task(self.process(posting, probe=probing)))
                if claimed and len(claimed) == free:
                    continue  # every slot is busy: wait for one below
            pause = max(self.settings.poll_interval, min(self.breaker.retry_in(), 5.0))
            if in_flight:
                done, in_flight = await asyncio.wait(
                    in_flight, timeout=pause, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    if task.exception() is not None:  # recording an outcome failed
                        log.error("ERP sync worker %s", self.owner, exc_info=task.exception())
            elif not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        await asyncio.gather(*in_flight, return_exceptions=True)
        log.info("ERP sync worker %s stopped after %d posts", self.owner, self.posted)

    async def process(self, posting: Claimed, *, probe: bool = False) -> None:
        """Posts one posting this worker has claimed and records the outcome; ``probe``
        says it is the call a half-open breaker let through."""
        context = {"posting": posting.reference}
        if posting.correlation_id is not None:
            context["correlation_id"] = posting.correlation_id
        with bound_contextvars(**context):
            if self._tracer is None:
                await self._process(posting, probe)
                return
            operation = _operation(posting)
            cause = span_context(posting.traceparent)
            with self._tracer.start_as_current_span(
                f"erp {operation}",
                kind=SpanKind.CONSUMER,
                links=[] if cause is None else [Link(cause)],
                attributes={
                    "retailgraph.erp.operation": operation,
                    "retailgraph.erp.reference": posting.reference,
                    "retailgraph.erp.attempt": posting.attempts,
                    "retailgraph.correlation_id": posting.correlation_id or "",
                },
            ):
                await self._process(posting, probe)

    async def _process(self, posting: Claimed, probe: bool) -> None:
        operation = _operation(posting)
        started = time.perf_counter()
        try:
            await self.limiter.acquire()
            started = time.perf_counter()  # the wait for our own pace is not the ERP's
            async with asyncio.timeout(self.settings.post_timeout):
                document_id = await self._post(posting)
        except ErpError as error:
            _measured(operation, started, _reason(error))
            await self._failed(posting, error, probe)
        except TimeoutError:
            _measured(operation, started, "timeout")
            await self._failed(posting, ErpUnavailable("The ERP did not answer in time"), probe)
        except Exception as error:  # a bug or a malformed payload: keep it, visibly
            _measured(operation, started, "unexpected")
            log.exception("ERP sync: posting %s failed unexpectedly", posting.reference)
            failure = ErpUnavailable(f"{type(error).__name__}: {error}")
            await self._failed(posting, failure, probe=False)
        else:
            _measured(operation, started, None)
            self.breaker.record_success()
            self._last_failure = None
            engine, where = self._queue_of(posting)
            if await queue.mark_posted(
                engine, posting, self.owner, document_id, self._clock.now(), where
            ):
                self.posted += 1
            else:
                log.warning("ERP sync: lost the lease on %s before recording it", posting.reference)

    def _queue_of(self, posting: Claimed) -> tuple[AsyncEngine, queue.PostingQueue[Any]]:
        if isinstance(posting, MovementPosting):
            assert self.movements is not None  # only claimed when there is inventory's
            return self.movements, queue.MOVEMENTS
        return self.engine, queue.ORDERS

    async def _failed(self, posting: Claimed, error: ErpError, probe: bool) -> None:
        # A refusal is a healthy ERP answering; a rate limit is the ERP pacing us. Only
        # failures to get an answer count towards opening the breaker.
        if error.retryable and not isinstance(error, ErpRateLimited):
            self.breaker.record_failure()
            self._last_failure = error.message[:500]
        else:
            self.breaker.record_success()
        if self._tracer is not None:  # the post's span
            current_span().set_status(Status(StatusCode.ERROR, error.message[:200]))
        outcome = after_failure(
            self.settings.retry,
            attempts=posting.attempts,
            error=error.message[:2000],
            retryable=error.retryable,
            now=self._clock.now(),
            retry_after=error.retry_after if isinstance(error, ErpRateLimited) else None,
            probe=probe,
            draw=self._draw,
        )
        log.info(
            "ERP sync: %s attempt %d failed (%s): %s",
            posting.reference,
            posting.attempts,
            outcome.status.value,
            error.message,
        )
        engine, where = self._queue_of(posting)
        await queue.mark_failed(engine, posting, self.owner, outcome, where)

    async def _post(self, posting: Claimed) -> str:
        if isinstance(posting, MovementPosting):
            return await self._post_moves(posting)
        payload = posting.payload
        if posting.kind is PostingKind.CANCELLATION:
            return await self.erp.post_cancellation(
                Cancellation(
                    reference=self.settings.reference_prefix + payload["reference"],
                    skus=tuple(payload["skus"]),
                    correlation_id=posting.correlation_id,
                    # Postings made before quantities were carried have none: they
                    # cancel whole lines, as they did when they were made.
                    lines=tuple(
                        CancelledLine(
                            line["sku"], Decimal(line["quantity"]), Decimal(line["remaining"])
                        )
                        for line in payload.get("lines", ())
                    ),
                    amendment=self.settings.reference_prefix + posting.reference,
                )
            )
        document = self._sales_order(payload, posting.correlation_id)
        if posting.kind is PostingKind.RETURN:
            return await self.erp.post_return(document)
        return await self.erp.post_sales_order(document)

    async def _post_moves(self, posting: MovementPosting) -> str:
        """Each ERP move of the movement in turn; each is found by its reference before it
        is made, so a retry after a partial post makes only the ones still missing."""
        documents = []
        for move in posting.moves:
            documents.append(
                await self.erp.post_stock_move(
                    StockMovePosting(
                        reference=self.settings.reference_prefix + move["reference"],
                        sku=move["sku"],
                        quantity=Decimal(int(move["quantity"])),
                        from_location=move["from"],
                        to_location=move["to"],
                        from_kind=_PLACES[move["fromKind"]],
                        to_kind=_PLACES[move["toKind"]],
                        correlation_id=posting.correlation_id,
                    )
                )
            )
        return ",".join(documents)

    def _sales_order(self, payload: dict[str, Any], correlation_id: str | None) -> SalesOrder:
        return SalesOrder(
            reference=self.settings.reference_prefix + payload["reference"],
            customer_ref=self.settings.customer or payload["customerReference"],
            currency=payload["currency"],
            lines=tuple(
                OrderLine(line["sku"], Decimal(str(line["quantity"])), Decimal(line["unitPrice"]))
                for line in payload["lines"]
            ),
            correlation_id=correlation_id,
            location=payload.get("location"),
        )


def _operation(posting: Claimed) -> str:
    """The ERP call a posting makes: the ``operation`` label of the ERP metrics."""
    if isinstance(posting, MovementPosting):
        return STOCK_MOVE_OPERATION
    return OPERATIONS[posting.kind]


def _reason(error: ErpError) -> str:
    """The ``reason`` label of an ERP error: what an operator does differs for each."""
    if isinstance(error, ErpRateLimited):
        return "rate_limited"
    if isinstance(error, ErpRejected) or not error.retryable:
        return "rejected"
    return "unavailable"


def _measured(operation: str, started: float, reason: str | None) -> None:
    """One ERP call's latency and outcome; ``reason`` is None for a success."""
    outcome = "success" if reason is None else "failure"
    ERP_REQUEST_SECONDS.labels(operation=operation, outcome=outcome).observe(
        time.perf_counter() - started
    )
    if reason is not None:
        ERP_ERRORS.labels(operation=operation, reason=reason).inc()
