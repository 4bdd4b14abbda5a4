"""Concurrent orders' reservations, taken together in one transaction.

While a batch's transaction runs, the orders that arrive wait; the next batch takes them
all, up to ``MOST_ORDERS``, in one transaction (``service.reserve_together``): one lock
statement, one read of the stock and one insert for them all, where each order alone
took those three and a transaction of its own. An order that arrives when nothing runs
is a batch of one at once, so a quiet checkout waits for nobody. A batch never waits for
another transaction's locks: an order it leaves undecided (a stock row that another
transaction holds, a repeat) is reserved alone (``service.reserve_stock_lines``), apart
from the batches, which go on.

Orders of one process wait for each other's batch instead of for each other's stock
row locks: at 32 concurrent checkouts, 15% of the reservations waited for a lock that
another order of the same process held (docs/adr/0016, with the figures).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from domains.inventory import service
from domains.inventory.model import Reservation
from domains.inventory.ports import UnitOfWork
from domains.inventory.service import ReservationRequest

# The orders one batch decides at most. Its statements' parameters grow with it: 32 orders
# of up to 200 lines lock 6,400 stock rows with 12,800 parameters, within the 32,767 a
# PostgreSQL statement takes and the 32,766 of SQLite's.
MOST_ORDERS = 32

_Waiting = tuple[Sequence[ReservationRequest], "asyncio.Future[list[Reservation]]"]


class ReservationBatches:
    """Reserves each order's lines, every line or none, as ``reserve_stock_lines`` does,
    deciding the orders that wait together in one transaction."""

    def __init__(self, uow: Callable[[], UnitOfWork], *, most: int = MOST_ORDERS) -> None:
        self._uow = uow
        self._most = most
        self._waiting: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None
        self._alone_tasks: set[asyncio.Task[None]] = set()

    async def reserve(self, requests: Sequence[ReservationRequest]) -> list[Reservation]:
        service.check_requests(requests)
        future: asyncio.Future[list[Reservation]] = asyncio.get_running_loop().create_future()
        self._waiting.append((requests, future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._work(), name="inventory-reservations")
        return await future

    async def _work(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                await self._decide(batch)
        except BaseException:
            # Cancelled (the process stops): nobody is left waiting for an answer.
            for _, future in batch + self._waiting:
                future.cancel()
            raise
        finally:
            self._worker = None

    async def _decide(self, batch: list[_Waiting]) -> None:
        try:
            decisions = await service.reserve_together(self._uow(), [r for r, _ in batch])
        except Exception as failure:
            for _, future in batch:
                _answer(future, failure)
            return
        for (requests, future), decision in zip(batch, decisions, strict=True):
            if decision is None:
                # Apart from the batches: it may wait for another transaction's locks,
                # and the orders behind it must not.
                alone = asyncio.create_task(self._alone(requests, future))
                self._alone_tasks.add(alone)
                alone.add_done_callback(self._alone_tasks.discard)
            else:
                _answer(future, decision)

    async def _alone(
        self, requests: Sequence[ReservationRequest], future: asyncio.Future[list[Reservation]]
    ) -> None:
        try:
            reservations = await service.reserve_stock_lines(self._uow(), requests)
        except Exception as failure:
            _answer(future, failure)
        else:
            _answer(future, reservations)


def _answer(
    future: asyncio.Future[list[Reservation]], outcome: list[Reservation] | Exception
) -> None:
    if future.done():  # its caller went away
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
