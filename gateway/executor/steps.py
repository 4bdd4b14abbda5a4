"""A query plan compiled for running: pre-encoded requests and compiled representers.

Compiling happens once per prepared operation, so running a plan never re-encodes an
operation string nor interprets a ``requires`` selection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import orjson

from gateway.executor.representations import (
    PossibleTypes,
    Representer,
    compile_representer,
    compile_rewrites,
)
from gateway.planner.plan import (
    Condition,
    Fetch,
    Flatten,
    Parallel,
    PlanNode,
    QueryPlan,
    Sequence,
    SubscriptionNode,
)


@dataclass(frozen=True, slots=True)
class FetchStep:
    service: str
    body_prefix: bytes
    """``{"query":...,"operationName":...,"variables":`` : the variables and ``}`` follow."""
    variable_usages: tuple[str, ...]
    representer: Representer | None
    """Set for entity fetches (the fetch has ``requires``)."""
    output_rewrite: Callable[[Any], None] | None
    mutation: bool


@dataclass(frozen=True, slots=True)
class FlattenStep:
    path: tuple[str | int, ...]
    step: Step


@dataclass(frozen=True, slots=True)
class SequenceStep:
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class ParallelStep:
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class ConditionStep:
    variable: str
    if_step: Step | None
    else_step: Step | None


Step: TypeAlias = FetchStep | FlattenStep | SequenceStep | ParallelStep | ConditionStep


def compile_plan(plan: QueryPlan, possible_types: PossibleTypes) -> Step | None:
    return None if plan.node is None else _compile(plan.node, possible_types)


def _compile(node: PlanNode, possible_types: PossibleTypes) -> Step:
    match node:
        case Fetch():
            return _fetch(node, possible_types)
        case Flatten():
            return FlattenStep(tuple(node.path), _compile(node.node, possible_types))
        case Sequence():
            return SequenceStep(tuple(_compile(n, possible_types) for n in node.nodes))
        case Parallel():
            return ParallelStep(tuple(_compile(n, possible_types) for n in node.nodes))
        case Condition():
            return ConditionStep(
                node.condition,
                None if node.if_clause is None else _compile(node.if_clause, possible_types),
                None if node.else_clause is None else _compile(node.else_clause, possible_types),
            )
        case SubscriptionNode():
            raise NotImplementedError("subscriptions are not supported yet")
    raise TypeError(f"not a plan node: {node!r}")


def _fetch(fetch: Fetch, possible_types: PossibleTypes) -> FetchStep:
    prefix = b'{"query":' + orjson.dumps(fetch.operation)
    if fetch.operation_name:
        prefix += b',"operationName":' + orjson.dumps(fetch.operation_name)
    prefix += b',"variables":'
    representer = (
        compile_representer(fetch.requires, fetch.input_rewrites, possible_types)
        if fetch.requires
        else None
    )
    return FetchStep(
        service=fetch.service_name,
        body_prefix=prefix,
        variable_usages=fetch.variable_usages,
        representer=representer,
        output_rewrite=compile_rewrites(fetch.output_rewrites, possible_types),
        mutation=fetch.operation_kind == "mutation",
    )
