"""A query plan compiled for running: pre-encoded requests and compiled representers.

Compiling happens once per prepared operation, so running a plan never re-encodes an
operation string nor interprets a ``requires`` selection.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

import orjson
from graphql import InlineFragmentNode, OperationDefinitionNode, parse

from gateway.executor.representations import (
    PossibleTypes,
    Representer,
    compile_representer,
    compile_rewrites,
)
from gateway.planner.plan import (
    Condition,
    Defer,
    DeferredNode,
    Fetch,
    Flatten,
    InlineFragmentSelection,
    Parallel,
    PlanNode,
    QueryPlan,
    Rewrite,
    Sequence,
    SubscriptionNode,
    ValueSetter,
)

EntryShaper = Callable[[Any, Any, Any], Any]
"""Shapes one object at a deferred block's path (``ObjectShape.shape``)."""
ShapeDeferred = Callable[[tuple[str, ...], str], EntryShaper]
"""Compiles a block's subselection, given its query path, into its ``EntryShaper``."""


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
    ids: tuple[str, ...] = ()
    """The plan ids of the fetches this step makes (deferred blocks wait for them)."""


@dataclass(frozen=True, slots=True)
class FlattenStep:
    path: tuple[str | int, ...]
    step: Step


@dataclass(frozen=True, slots=True)
class SharedFetchStep:
    """One entity fetch for the objects at several paths: sibling ``Flatten``s of one
    ``Parallel`` that send the same operation to the same subgraph (the same entity
    selected under two aliases) go out as one request, identical representations once."""

    paths: tuple[tuple[str | int, ...], ...]
    step: FetchStep


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


@dataclass(frozen=True, slots=True)
class DeferredStep:
    """One deferred block: ``step`` fetches its fields (Flatten paths from the root),
    ``shape`` shapes each object at ``query_path`` into an incremental entry, and the
    blocks deferred inside it follow once it is done."""

    label: str | None
    query_path: tuple[str, ...]
    depends: tuple[str, ...]
    """The ids of the fetches of the enclosing blocks it needs."""
    step: Step | None
    shape: EntryShaper | None
    deferred: tuple[DeferredStep, ...]
    condition: InlineFragmentNode | None = None
    """The fragment around the subselection when it carries @skip/@include: the block
    is delivered only when they hold."""


@dataclass(frozen=True, slots=True)
class DeferStep:
    primary: Step | None
    deferred: tuple[DeferredStep, ...]


Step: TypeAlias = (
    FetchStep
    | FlattenStep
    | SharedFetchStep
    | SequenceStep
    | ParallelStep
    | ConditionStep
    | DeferStep
)


InterfaceObjects = Mapping[str, frozenset[str]]
"""Subgraph name -> the interfaces it knows only as @interfaceObject types."""


def compile_plan(
    plan: QueryPlan,
    possible_types: PossibleTypes,
    interface_objects: InterfaceObjects,
    shape_deferred: ShapeDeferred | None = None,
) -> Step | None:
    if plan.node is None:
        return None
    return _PlanCompiler(possible_types, interface_objects, shape_deferred).compile(plan.node)


class _PlanCompiler:
    def __init__(
        self,
        possible_types: PossibleTypes,
        interface_objects: InterfaceObjects,
        shape_deferred: ShapeDeferred | None = None,
    ):
        self._possible_types = possible_types
        self._interface_objects = interface_objects
        self._shape_deferred = shape_deferred

    def compile(self, node: PlanNode) -> Step:
        match node:
            case Fetch():
                return self._fetch(node)
            case Flatten():
                return FlattenStep(tuple(node.path), self.compile(node.node))
            case Sequence():
                return SequenceStep(tuple(self.compile(n) for n in node.nodes))
            case Parallel():
                return ParallelStep(self._parallel(node.nodes))
            case Condition():
                return ConditionStep(
                    node.condition,
                    None if node.if_clause is None else self.compile(node.if_clause),
                    None if node.else_clause is None else self.compile(node.else_clause),
                )
            case SubscriptionNode():
                raise NotImplementedError("subscriptions are not supported yet")
            case Defer():
                return DeferStep(
                    None if node.primary.node is None else self.compile(node.primary.node),
                    tuple(self._deferred(d) for d in node.deferred),
                )
        raise TypeError(f"not a plan node: {node!r}")

    def _deferred(self, node: DeferredNode) -> DeferredStep:
        subselection, inner = node.subselection, node.node
        nested: tuple[DeferredStep, ...] = ()
        if isinstance(inner, Defer):
            # a nested defer: its primary is this block's own work
            subselection = inner.primary.subselection
            nested = tuple(self._deferred(d) for d in inner.deferred)
            inner = inner.primary.node
        shape = None
        condition = None
        if subselection is not None:
            condition = _condition(subselection)
            if self._shape_deferred is not None:
                shape = self._shape_deferred(node.query_path, subselection)
        return DeferredStep(
            label=node.label,
            query_path=node.query_path,
            depends=tuple(d.id for d in node.depends),
            step=None if inner is None else self.compile(inner),
            shape=shape,
            deferred=nested,
            condition=condition,
        )

    def _parallel(self, nodes: tuple[PlanNode, ...]) -> tuple[Step, ...]:
        """The steps of a ``Parallel``, sibling entity fetches of one operation shared."""
        paths: dict[Fetch, list[tuple[str | int, ...]]] = {}
        ids: dict[Fetch, list[str]] = {}
        for node in nodes:
            if _entity_flatten(node):
                assert isinstance(node, Flatten)
                assert isinstance(node.node, Fetch)
                paths.setdefault(_sameness(node.node), []).append(tuple(node.path))
                if node.node.id is not None:
                    ids.setdefault(_sameness(node.node), []).append(node.node.id)
        steps: list[Step] = []
        for node in nodes:
            if not _entity_flatten(node):
                steps.append(self.compile(node))
                continue
            assert isinstance(node, Flatten)
            assert isinstance(node.node, Fetch)
            shared = paths.pop(_sameness(node.node), None)
            if shared is None:
                continue  # went out with the first sibling of its kind
            fetch = replace(self._fetch(node.node), ids=tuple(ids.get(_sameness(node.node), ())))
            if len(shared) == 1:
                steps.append(FlattenStep(shared[0], fetch))
            else:
                steps.append(SharedFetchStep(tuple(shared), fetch))
        return tuple(steps)

    def _fetch(self, fetch: Fetch) -> FetchStep:
        prefix = b'{"query":' + orjson.dumps(fetch.operation)
        if fetch.operation_name:
            prefix += b',"operationName":' + orjson.dumps(fetch.operation_name)
        prefix += b',"variables":'
        representer = (
            compile_representer(fetch.requires, self._input_rewrites(fetch), self._possible_types)
            if fetch.requires
            else None
        )
        return FetchStep(
            service=fetch.service_name,
            body_prefix=prefix,
            variable_usages=fetch.variable_usages,
            representer=representer,
            output_rewrite=compile_rewrites(fetch.output_rewrites, self._possible_types),
            mutation=fetch.operation_kind == "mutation",
            ids=() if fetch.id is None else (fetch.id,),
        )

    def _input_rewrites(self, fetch: Fetch) -> tuple[Rewrite, ...]:
        """The plan's rewrites, plus one per interface the target knows as an
        @interfaceObject: such a subgraph must be sent the interface's name as
        ``__typename``, never the concrete type it cannot know. Apollo's planner adds
        these rewrites itself; adding them here as well is harmless and keeps plans that
        omit them working."""
        known = self._interface_objects.get(fetch.service_name)
        if not known:
            return fetch.input_rewrites
        extra = tuple(
            ValueSetter((f"... on {s.type_condition}", "__typename"), s.type_condition)
            for s in fetch.requires
            if isinstance(s, InlineFragmentSelection) and s.type_condition in known
        )
        return fetch.input_rewrites + extra


def fetch_ids(step: Step | None) -> list[str]:
    """The plan ids of every fetch in ``step`` (those a skipped branch will never make)."""
    match step:
        case FetchStep():
            return list(step.ids)
        case SharedFetchStep():
            return list(step.step.ids)
        case FlattenStep():
            return fetch_ids(step.step)
        case SequenceStep() | ParallelStep():
            return [i for inner in step.steps for i in fetch_ids(inner)]
        case ConditionStep():
            return fetch_ids(step.if_step) + fetch_ids(step.else_step)
        case DeferStep():
            return fetch_ids(step.primary)
    return []


def _condition(subselection: str) -> InlineFragmentNode | None:
    definition = parse(subselection, no_location=True).definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    selections = definition.selection_set.selections
    if len(selections) == 1 and isinstance(selections[0], InlineFragmentNode):
        fragment = selections[0]
        if fragment.directives:
            return fragment
    return None


def _sameness(fetch: Fetch) -> Fetch:
    """What makes two fetches one request: all but the plan's own id for each."""
    return replace(fetch, id=None)


def _entity_flatten(node: PlanNode) -> bool:
    return (
        isinstance(node, Flatten)
        and isinstance(node.node, Fetch)
        and bool(node.node.requires)
        and node.node.operation_kind != "mutation"
    )
