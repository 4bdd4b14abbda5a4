"""Printing composition errors for people, with rich."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gateway.supergraph.compose.errors import CompositionError


def print_errors(error: CompositionError, console: Console) -> None:
    table = Table(title=f"Composition failed: {len(error.issues)} issue(s)", show_lines=True)
    table.add_column("Code", style="bold red", no_wrap=True)
    table.add_column("Subgraphs", style="cyan")
    table.add_column("Problem")
    for issue in error.issues:
        table.add_row(issue.code, ", ".join(issue.subgraphs) or "-", issue.message)
    console.print(table)
