"""A span per SQL statement, from SQLAlchemy's cursor events.

The span is a child of whatever span is current when the statement runs (a subgraph's
request, the ERP worker's post): SQLAlchemy runs an async engine's statements in a
greenlet that shares the calling task's context. A statement run outside any span (the
outbox relay's polls, a background sweep) makes none: a trace of one SELECT every half
second would bury the requests. Nothing is listened to unless a tracer is given, so an
engine without one pays nothing.
"""

from __future__ import annotations

import weakref
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, get_current_span
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

# Long statements (a batch insert's) are cut: the span says which statement, not its data.
MAX_STATEMENT = 2000
_SPAN = "_retailgraph_span"
# One engine shared by several domains (tests' PostgreSQL) is instrumented once.
_traced: weakref.WeakSet[Engine] = weakref.WeakSet()


def trace_statements(engine: AsyncEngine, tracer: Tracer) -> None:
    """Record each statement ``engine`` runs as a client span of ``tracer``."""
    sync_engine = engine.sync_engine
    if sync_engine in _traced:
        return
    _traced.add(sync_engine)
    system = engine.dialect.name
    database = engine.url.database or ""

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if context is None or not get_current_span().get_span_context().is_valid:
            return
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(
            verb,
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": system,
                "db.name": database,
                "db.statement": statement[:MAX_STATEMENT],
            },
        )
        setattr(context, _SPAN, span)

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        span = getattr(context, _SPAN, None)
        if span is not None:
            setattr(context, _SPAN, None)
            span.end()

    @event.listens_for(sync_engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, _SPAN, None) if context is not None else None
        if span is not None:
            setattr(context, _SPAN, None)
            error = exception_context.original_exception
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            span.end()
