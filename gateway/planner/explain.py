"""``retailgraph explain``: the plan of one operation, as Apollo prints it or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from graphql import GraphQLError, validate

from gateway.grammar import parse_document
from gateway.planner.build import build_plan
from gateway.planner.plan import to_json
from gateway.planner.printer import print_plan
from gateway.supergraph import load_supergraph


class ExplainError(Exception):
    """The query does not parse or validate against the supergraph's API schema."""


def explain(
    supergraph_sdl: str, query: str, operation_name: str | None, *, as_json: bool = False
) -> str:
    supergraph = load_supergraph(supergraph_sdl)
    try:
        document = parse_document(query)
    except GraphQLError as error:
        raise ExplainError(str(error)) from error
    errors = validate(supergraph.api_schema, document)
    if errors:
        raise ExplainError("\n".join(e.message for e in errors))
    plan = build_plan(supergraph, document, operation_name)
    return json.dumps(to_json(plan), indent=2) if as_json else print_plan(plan)


def read_query(query: str) -> str:
    """A path to a query file, or the query itself."""
    candidate = Path(query)
    if len(query) < 4096 and "{" not in query and candidate.is_file():
        return candidate.read_text()
    return query
