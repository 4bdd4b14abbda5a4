"""How the sync commands show what they did: rich tables for people, JSON for scripts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console
from rich.table import Table


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column)
    for row in rows:
        shown.add_row(*(str(value) for value in row))
    return shown


def print_rejects(
    console: Console, title: str, rows: Sequence[Sequence[object]], *, limit: int = 50
) -> None:
    """The first ``limit`` rejects as a table, and how many more there were."""
    if not rows:
        return
    console.print(table(title, ("Row", "SKU", "Code", "Reason"), rows[:limit]))
    if len(rows) > limit:
        console.print(f"... and {len(rows) - limit} more rejects")
