"""The in-memory unit of work the service tests run use cases against."""

from __future__ import annotations

from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from kernel.clock import SettableClock
from kernel.events import Event


class Copyable(Protocol):
    def copy(self) -> Self: ...


StoreT = TypeVar("StoreT", bound=Copyable)


class StagedUnitOfWork(Generic[StoreT]):
    """Stages writes and events, and keeps them only on commit, like the real one.

    ``committed`` is the store as the last commit left it; a use case sees a copy of it
    (``staged``), which becomes the committed store only when it commits.
    """

    def __init__(self, committed: StoreT, clock: SettableClock) -> None:
        self.clock = clock
        self.committed = committed
        self.events: list[Event] = []
        self.commits = 0
        self._staged = committed.copy()
        self._pending: list[Event] = []

    @property
    def staged(self) -> StoreT:
        return self._staged

    async def __aenter__(self) -> Self:
        self._staged = self.committed.copy()
        self._pending = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._pending = []

    def record(self, *events: Event) -> None:
        self._pending.extend(events)

    async def commit(self) -> None:
        self.committed = self._staged.copy()
        self.events.extend(self._pending)
        self._pending = []
        self.commits += 1

    async def rollback(self) -> None:
        self._staged = self.committed.copy()
        self._pending = []
