"""Many rows in one PostgreSQL statement: each column's values as one array parameter,
turned back into rows by ``unnest``.

The statement's text is the same whatever the number of rows, so it is built and compiled
once and prepared once per connection; several such inserts go in one statement as
data-modifying CTEs, which PostgreSQL runs atomically.

The array parameters are of the column's type but of text without a bound length: an
explicit cast to ``varchar(n)`` cuts a longer value silently, where storing it in the
column refuses it, as a one-row insert does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, String, Table, bindparam, func, insert, select, true
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.selectable import CTE
from sqlalchemy.sql.type_api import TypeEngine

ElementType = Callable[[Column[Any]], TypeEngine[Any]]


def unbounded(column: Column[Any]) -> TypeEngine[Any]:
    """The column's type, as text without a bound when it is text."""
    kind: TypeEngine[Any] = column.type
    return String() if isinstance(kind, String) else kind


def parameter(table: Table, column: str) -> str:
    """The name of the array parameter that carries ``column``'s values."""
    return f"{table.name}__{column}"


def insert_rows(
    table: Table,
    columns: Sequence[str],
    *,
    only_with: CTE | None = None,
    element_type: ElementType = unbounded,
) -> Insert:
    """An insert into ``table`` of the rows its array parameters hold, in their order;
    with ``only_with``, only when that CTE returned a row (a join with it)."""
    arrays = func.unnest(
        *(bindparam(parameter(table, c), type_=pg.ARRAY(element_type(table.c[c]))) for c in columns)
    )
    given = arrays.table_valued(*columns, with_ordinality="ordinal").render_derived(
        name=f"{table.name}_given"
    )
    chosen = select(*(given.c[c] for c in columns))
    chosen = (
        chosen.select_from(given)
        if only_with is None
        else chosen.select_from(only_with).join(given, true())
    )
    return insert(table).from_select(list(columns), chosen.order_by(given.c.ordinal))


def parameters(
    table: Table, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """The array parameters of ``insert_rows(table, columns)`` for ``rows``."""
    return {parameter(table, c): [row[c] for row in rows] for c in columns}
