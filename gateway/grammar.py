"""Parsing client documents by the GraphQL grammar.

graphql-core 3.3 accepts an empty selection set (``{ topProduct {} }``) unless told not
to; the spec's grammar does not (``SelectionSet : { Selection+ }``), and Apollo Gateway
and Hive Gateway refuse it as a syntax error. Every client document goes through here.
"""

from __future__ import annotations

from graphql import DocumentNode, Source, parse


def parse_document(
    source: str | Source, *, max_tokens: int | None = None, no_location: bool = False
) -> DocumentNode:
    """The document, or ``GraphQLSyntaxError`` where the spec's grammar refuses it."""
    return parse(
        source,
        no_location=no_location,
        max_tokens=max_tokens,
        allow_empty_selection_sets=False,
    )
