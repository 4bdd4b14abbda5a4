"""What every use case needs of its unit of work, whatever it stores.

Each domain's unit of work adds its repositories to this (``domains/<name>/ports.py``);
the SQL unit of work and the service tests' fakes both satisfy it.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from kernel.clock import Clock
from kernel.events import Event


class Transaction(Protocol):
    """One transaction with its clock: what it stores and the events it records are kept
    together on ``commit``, and dropped when the block is left without one."""

    @property
    def clock(self) -> Clock: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def record(self, *events: Event) -> None: ...
    async def commit(self) -> None: ...
