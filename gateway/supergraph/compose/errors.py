"""Composition errors: every issue found, each with a code and the subgraphs involved.

Codes follow Apollo's composition error codes where one exists, so an error can be
looked up in Apollo's documentation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompositionIssue:
    code: str
    message: str
    subgraphs: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class CompositionError(Exception):
    def __init__(self, issues: list[CompositionIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

    def codes(self) -> list[str]:
        return [issue.code for issue in self.issues]


def quoted(names: list[str] | tuple[str, ...] | set[str]) -> str:
    """``"a"``, ``"a" and "b"``, ``"a", "b" and "c"``: subgraph lists in messages."""
    items = [f'"{name}"' for name in sorted(names)]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
