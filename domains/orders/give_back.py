"""Giving a failed checkout's reservations back to inventory, until it is done.

A checkout that reserved stock and then could not create its order owes the units back.
Left alone they stay held until the reservation expires (15 minutes, inventory's TTL):
out of reach of every other customer, which in a flash sale is the whole stock. The
release is tried at once and, when that fails too (an orders database that refuses
connections takes the check below with it; inventory may be down), again in the
background with backoff, each failure logged, until it succeeds or ``Backoff.give_up``
has passed (then the expiry gives them back).

Before releasing, the give-back checks that no order holds the key: a repeat of the
checkout may have created the order with the same reservations meanwhile (a client
retrying its key after the failure is what idempotency keys are for). In this process a
checkout and a give-back of one key never overlap (``one_at_a_time``), so the repeat
either creates the order first (nothing is released) or finds the stock given back
(IDEMPOTENCY_KEY_SPENT: place it again with a new key). Across replicas the unique key
on orders decides, as it does between concurrent repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from domains.orders.ports import OrdersUnit
from kernel.clock import Clock
from kernel.errors import DomainError

log = logging.getLogger(__name__)

# Give-backs waiting for a retry at once; past it a failure is left to the expiry (an
# outage long enough to fill it is one the reservations' TTL covers anyway).
MAX_PENDING = 10_000
# The code of a peer that could not answer (CheckoutUnavailable's, or the peer's own).
UNAVAILABLE = "SERVICE_UNAVAILABLE"


class Releases(Protocol):
    async def release(self, key: str, count: int) -> None:
        """Give back the reservations ``<key>:1`` to ``<key>:<count>``."""
        ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """Seconds between attempts: ``first``, doubling up to ``longest``; no attempt after
    ``give_up`` (10 minutes, inside the 15-minute reservation TTL)."""

    first: float = 0.5
    longest: float = 30.0
    give_up: float = 600.0


class GiveBacks:
    """The give-backs of one process, and the per-key turns checkouts take with them."""

    def __init__(
        self,
        clock: Clock,
        *,
        backoff: Backoff = Backoff(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._backoff = backoff
        self._sleep = sleep
        self._retrying: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, key: str) -> AsyncIterator[None]:
        """Hold checkout key ``key`` for a checkout or a give-back attempt."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def give_back(
        self, uow: Callable[[], OrdersUnit], stock: Releases, key: str, count: int
    ) -> None:
        """Release the reservations of ``key`` now, or keep trying in the background."""
        if await self._attempt(uow, stock, key, count):
            return
        if len(self._retrying) >= MAX_PENDING:
            log.error("reservations of checkout %s are left to expire: too many pending", key)
            return
        task = asyncio.create_task(self._keep_trying(uow, stock, key, count))
        self._retrying.add(task)
        task.add_done_callback(self._retrying.discard)

    @property
    def pending(self) -> int:
        return len(self._retrying)

    async def settled(self) -> None:
        """Wait until every give-back has succeeded or given up."""
        while self._retrying:
            await asyncio.gather(*self._retrying)

    async def close(self) -> None:
        """Stop retrying (the reservations left expire on their own)."""
        tasks = list(self._retrying)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep_trying(
        self, uow: Callable[[], OrdersUnit], stock: Releases, key: str, count: int
    ) -> None:
        give_up_at = self._clock.now() + timedelta(seconds=self._backoff.give_up)
        delay = self._backoff.first
        attempts = 1
        while self._clock.now() < give_up_at:
            await self._sleep(delay)
            attempts += 1
            if await self._attempt(uow, stock, key, count):
                log.info("gave back the reservations of checkout %s (attempt %d)", key, attempts)
                return
            delay = min(delay * 2, self._backoff.longest)
        log.error(
            "could not give back the reservations of checkout %s in %d attempts; "
            "they expire on their own",
            key,
            attempts,
        )

    async def _attempt(
        self, uow: Callable[[], OrdersUnit], stock: Releases, key: str, count: int
    ) -> bool:
        """One try: True once nothing is owed (released, or an order holds them)."""
        try:
            async with self.one_at_a_time(key):
                async with uow() as unit:
                    if await unit.orders.get_by_idempotency_key(key) is not None:
                        return True
                await stock.release(key, count)
                return True
        except DomainError as refused:
            if refused.code == UNAVAILABLE:
                log.warning("could not give back the reservations of checkout %s: %s", key, refused)
                return False
            # Inventory answered and refused (a reservation consumed by an order another
            # replica created meanwhile, say): asking again would get the same answer.
            log.error("inventory refused to give back checkout %s: %s", key, refused.code)
            return True
        except Exception as error:  # the database or the network: the units are still owed
            log.warning("could not give back the reservations of checkout %s: %r", key, error)
            return False
