"""The correlation id of the request being served, carried implicitly through a task."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)

HEADER = "x-correlation-id"


def current() -> str | None:
    return _current.get()


def bind(correlation_id: str | None) -> str:
    """Make ``correlation_id`` (or a fresh one) the current one and return it."""
    value = correlation_id or str(uuid.uuid4())
    _current.set(value)
    return value
