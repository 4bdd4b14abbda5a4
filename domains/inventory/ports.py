"""What inventory's use cases need of their unit of work and its stock: ``StockStore``
is ``StockRepository`` in production (an in-memory stand-in in unit tests),
``ReconciliationStore`` is ``ReconciliationRepository``, and ``UnitOfWork`` is
``InventoryUnitOfWork``."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from domains.inventory.model import (
    Divergence,
    ErpMove,
    Location,
    Movement,
    Reconciliation,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from domains.inventory.picture import StockPicture
from kernel.transaction import Transaction

Pair = tuple[str, str]


class StockStore(Protocol):
    """The stock one transaction reads and writes. Reads of levels count the reservations
    live at ``now``; ``lock_stock`` holds the rows until the transaction ends, so a read
    made after it sees quantities of those rows that no one else can change meanwhile."""

    async def save_location(self, location: Location) -> None: ...
    async def save_channel_policy(self, channel: str, *, counts_incoming: bool) -> None: ...
    async def existing_location_ids(self, ids: Iterable[str]) -> set[str]: ...

    async def lock_stock(self, pairs: Collection[Pair]) -> None: ...
    async def lock_free_stock(self, pairs: Collection[Pair]) -> set[Pair]: ...
    async def load_picture(self, skus: Collection[str], now: datetime) -> StockPicture: ...
    async def ensure_stock_rows(self, pairs: Collection[Pair], now: datetime) -> None: ...
    async def save_levels(self, levels: Iterable[StockLevel], now: datetime) -> None: ...
    async def sku_is_stocked(self, sku: str) -> bool: ...

    async def load_reservations(
        self,
        *,
        ids: Collection[str] | None = None,
        idempotency_keys: Collection[str] | None = None,
        for_update: bool = False,
    ) -> list[Reservation]: ...
    async def insert_reservations(
        self, reservations: Sequence[Reservation], now: datetime
    ) -> None: ...
    async def set_reservation_status(
        self, ids: Collection[str], status: ReservationStatus, now: datetime
    ) -> None: ...
    async def due_reservations(self, now: datetime, limit: int) -> list[Reservation]: ...

    async def applied_lines(
        self, lines: Collection[tuple[str, int]]
    ) -> dict[tuple[str, int], Movement]: ...
    async def record_movements(self, applied: Sequence[Movement], now: datetime) -> None: ...
    async def owe_erp(
        self,
        owed: Sequence[tuple[Movement, Sequence[ErpMove]]],
        now: datetime,
        *,
        correlation_id: str | None,
        traceparent: str | None,
    ) -> None: ...

    async def mark_event_handled(self, consumer: str, event_id: str, now: datetime) -> bool: ...


class ReconciliationStore(Protocol):
    async def add(
        self, id: str, ran_at: datetime, compared: int, divergences: Sequence[Divergence]
    ) -> Reconciliation: ...
    async def keep_newest(self, count: int) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction over the stock; its events are kept only if it commits.

    ``insert_reservations`` stores new reservations with the events recorded so far."""

    @property
    def stock(self) -> StockStore: ...
    @property
    def reconciliations(self) -> ReconciliationStore: ...
    async def rollback(self) -> None: ...
    async def insert_reservations(
        self, reservations: Sequence[Reservation], now: datetime
    ) -> None: ...
