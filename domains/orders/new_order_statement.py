"""A new order stored in one PostgreSQL statement, outside any transaction: the order,
its lines, the ERP posting it owes and its outbox events.

PostgreSQL runs one statement atomically, so all of these rows are stored or none, as
the transaction this replaces did with BEGIN, four inserts and COMMIT: six round trips
where this is one. The order's insert skips a taken idempotency key (``ON CONFLICT DO
NOTHING``) and every other insert selects from what it returned, so an order that loses
a key race stores nothing at all. Each table's rows come from ``unnest`` of one array
parameter per column (``adapters/db/arrays.py``): the SQL text is the same whatever the
number of lines, built and compiled once here and prepared once per connection.

The order's ``seq`` is taken first (``next_sequence``), from the sequence the column's
default draws on, so its number is in the payloads of the posting and the events, and
numbers keep increasing in creation order across replicas. A number whose order loses
its key race is skipped, as the column's default skips one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.selectable import CTE, Select
from sqlalchemy.sql.type_api import TypeEngine

from adapters.db import arrays
from domains.orders.model import Order
from domains.orders.repository import Executor
from domains.orders.tables import (
    ExactDecimal,
    erp_postings,
    line_values,
    lines,
    order_values,
    orders,
    outbox,
)

# The column lists of each insert: what ``order_values``, ``line_values``,
# ``erp_postings.rows`` and ``outbox.rows`` give (the rest is the database's default).
_ORDER_COLUMNS = ("seq", *(c.name for c in orders.c if c.name != "seq"))
_LINE_COLUMNS = tuple(c.name for c in lines.c)
_POSTING_COLUMNS = (
    "order_id",
    "kind",
    "reference",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
    "correlation_id",
    "traceparent",
    "created_at",
)
_EVENT_COLUMNS = tuple(c.name for c in outbox.c if c.name not in ("seq", "published_at"))


def _element_type(column: Column[Any]) -> TypeEngine[Any]:
    # An exact decimal travels as text too: without a bound, like every text column.
    if isinstance(column.type, ExactDecimal):
        return ExactDecimal(length=None)
    return arrays.unbounded(column)


def _rows_for_the_new_order(new_order: CTE, table: Table, columns: Sequence[str]) -> CTE:
    """An insert into ``table`` of the rows its array parameters hold, made only when
    ``new_order`` inserted the order."""
    return arrays.insert_rows(table, columns, only_with=new_order, element_type=_element_type).cte(
        f"{table.name}_new"
    )


def _new_order_statement() -> Select[tuple[int]]:
    new_order = (
        pg.insert(orders)
        .values({c: bindparam(arrays.parameter(orders, c)) for c in _ORDER_COLUMNS})
        .on_conflict_do_nothing()
        .returning(orders.c.seq)
        .cte("orders_new")
    )
    return select(new_order.c.seq).add_cte(
        _rows_for_the_new_order(new_order, lines, _LINE_COLUMNS),
        _rows_for_the_new_order(new_order, erp_postings, _POSTING_COLUMNS),
        _rows_for_the_new_order(new_order, outbox, _EVENT_COLUMNS),
    )


# Built once: its cache key is memoised on it, so each order finds the compiled SQL.
_NEW_ORDER = _new_order_statement()
# The sequence named in the SQL, not bound: a statement's trace says what it draws on.
_NEXT_SEQUENCE = select(
    func.nextval(
        func.pg_get_serial_sequence(
            literal_column(f"'{orders.name}'"), literal_column(f"'{orders.c.seq.name}'")
        )
    )
)


async def next_sequence(executor: Executor) -> int:
    """A new order's ``seq``, taken from the sequence of the column's default."""
    sequence: int = (await executor.execute(_NEXT_SEQUENCE)).scalar_one()
    return sequence


async def store(
    executor: Executor,
    order: Order,
    posting_rows: Sequence[Mapping[str, Any]],
    event_rows: Sequence[Mapping[str, Any]],
) -> bool:
    """Store ``order`` (its ``sequence`` taken already), its lines, postings and outbox
    rows in one statement; False, storing nothing, when another order holds its
    idempotency key (or its id)."""
    values = {
        **{arrays.parameter(orders, c): v for c, v in _with_sequence(order).items()},
        **arrays.parameters(
            lines, _LINE_COLUMNS, [line_values(order.id, line) for line in order.lines]
        ),
        **arrays.parameters(erp_postings, _POSTING_COLUMNS, posting_rows),
        **arrays.parameters(outbox, _EVENT_COLUMNS, event_rows),
    }
    stored = (await executor.execute(_NEW_ORDER, values)).scalar_one_or_none()
    return stored is not None


def _with_sequence(order: Order) -> dict[str, Any]:
    if order.sequence is None:
        raise ValueError("a new order takes its sequence (next_sequence) before it is stored")
    return {"seq": order.sequence, **order_values(order)}
