"""The query plan: plain, immutable data in the shape of Apollo's query plans.

The planner builds it, the printer prints it, the executor runs it; none of them needs
the others. ``to_json`` gives Apollo's JSON shape (``kind``, ``serviceName``, ...), so
plans can be compared with other gateways' and exposed through
``Apollo-Expose-Query-Plan``.

What the executor can rely on in plans built by ``gateway.planner.build_plan``:

- Every subgraph selection set on an abstract type (interface, union) selects
  ``__typename``, and every object an entity fetch starts from has ``__typename`` and its
  key fields, so fragments and representations can be picked by ``__typename``.
  Values returned by an ``@interfaceObject`` subgraph carry the interface's name as
  ``__typename``; the plan then fetches the concrete ``__typename`` from the interface's
  owner in a later entity fetch (when no subgraph owns the interface with a resolvable
  key, the interface's name is all there is).
- An entity fetch's ``requires`` is a list of ``... on T`` fragments; build a
  representation only for objects at the ``Flatten`` path whose ``__typename`` is one of
  those ``T`` (skip the others, and skip nulls); the representation holds exactly the
  fields of that fragment (by field name), then ``input_rewrites`` apply. Flatten paths do
  not carry type conditions (as in Apollo Gateway).
- Entity results merge into their objects field by field, later fetches winning (an
  ``@interfaceObject`` fetch returns the interface's name as ``__typename`` before the
  interface's owner returns the concrete one).
- ``output_rewrites`` hold ``KeyRenamer``s for fields the planner aliased because their
  types conflict in the subgraph (path from the fetch's data, or from each entity, with
  ``... on T`` steps); apply them, deepest first as listed, before merging.
- Subgraph operations may select more than the client asked for (keys, ``@requires``
  inputs, ``__typename``); the response is shaped from the client's operation.
- Root ``__typename``, ``__schema`` and ``__type`` are never fetched: the executor answers
  them from the API schema. A plan with ``node=None`` needs no subgraph at all.
- ``@skip``/``@include`` stay in subgraph operations (their variables are declared and
  listed in ``variable_usages``); a fetch that runs only under a variable is wrapped in a
  ``Condition``.
- ``@defer`` never reaches a subgraph. A plan with deferred fragments is one ``Defer`` node
  at the top (under ``Condition`` nodes when an ``if:`` reads a variable): its ``primary``
  fills the response without the deferred fragments' fields; each ``DeferredNode`` runs
  on the same merged data once the fetches it ``depends`` on are done (Flatten paths stay
  absolute), and its ``subselection`` is what the client receives for each object at its
  ``query_path``. A nested defer is a ``Defer`` node as a ``DeferredNode``'s ``node``,
  whose ``primary`` then carries the parent's subselection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias


@dataclass(frozen=True, slots=True)
class FieldSelection:
    """A field in a fetch's ``requires`` selection (the shape of the representations)."""

    name: str
    selections: tuple[Selection, ...] = ()
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class InlineFragmentSelection:
    type_condition: str | None
    selections: tuple[Selection, ...]


Selection: TypeAlias = FieldSelection | InlineFragmentSelection


@dataclass(frozen=True, slots=True)
class ValueSetter:
    """Sets the value at ``path`` (e.g. ``["... on Book", "__typename"]``) to a constant."""

    path: tuple[str, ...]
    set_value_to: Any


@dataclass(frozen=True, slots=True)
class KeyRenamer:
    """Renames the key at ``path`` to ``rename_key_to`` (used for aliased fields)."""

    path: tuple[str, ...]
    rename_key_to: str


Rewrite: TypeAlias = ValueSetter | KeyRenamer


@dataclass(frozen=True, slots=True)
class Fetch:
    """One request to one subgraph.

    Without ``requires`` it is a root fetch whose result merges at the current path.
    With ``requires`` it is an entity fetch: the executor builds one representation per
    object found at the path (``Flatten``), sends them all in one ``_entities`` call as
    ``$representations``, and merges each result back into its object.
    """

    service_name: str
    operation: str
    operation_kind: Literal["query", "mutation", "subscription"] = "query"
    operation_name: str | None = None
    variable_usages: tuple[str, ...] = ()
    requires: tuple[Selection, ...] = ()
    input_rewrites: tuple[Rewrite, ...] = ()
    output_rewrites: tuple[Rewrite, ...] = ()
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Flatten:
    """Run ``node`` on every object at ``path``; ``"@"`` steps into list items."""

    path: tuple[str | int, ...]
    node: PlanNode


@dataclass(frozen=True, slots=True)
class Sequence:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class Parallel:
    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """Pick a branch on a boolean variable (from ``@skip``/``@include`` at fetch level)."""

    condition: str
    if_clause: PlanNode | None
    else_clause: PlanNode | None


@dataclass(frozen=True, slots=True)
class SubscriptionNode:
    """``primary`` opens the subscription; ``rest`` runs on each event."""

    primary: Fetch
    rest: PlanNode | None = None


@dataclass(frozen=True, slots=True)
class PrimaryDeferBlock:
    """What is sent first: ``subselection`` is the operation (or the enclosing deferred
    fragment) without the fragments deferred below it."""

    subselection: str | None
    node: PlanNode | None


@dataclass(frozen=True, slots=True)
class DeferredDependency:
    """A fetch (by its ``Fetch.id``) that must be done before a deferred block runs."""

    id: str
    defer_label: str | None = None


@dataclass(frozen=True, slots=True)
class DeferredNode:
    """One deferred fragment. ``query_path`` leads to the objects it applies to: response
    keys, ``"@"`` into list items, ``"... on T"`` where the fragment narrows the type."""

    depends: tuple[DeferredDependency, ...]
    label: str | None
    query_path: tuple[str, ...]
    subselection: str | None
    node: PlanNode | None


@dataclass(frozen=True, slots=True)
class Defer:
    primary: PrimaryDeferBlock
    deferred: tuple[DeferredNode, ...]


PlanNode: TypeAlias = Fetch | Flatten | Sequence | Parallel | Condition | SubscriptionNode | Defer


@dataclass(frozen=True, slots=True)
class QueryPlan:
    node: PlanNode | None


def to_json(plan: QueryPlan) -> dict[str, Any]:
    return {"kind": "QueryPlan", "node": None if plan.node is None else _node(plan.node)}


def _node(node: PlanNode) -> dict[str, Any]:
    match node:
        case Fetch():
            data: dict[str, Any] = {
                "kind": "Fetch",
                "serviceName": node.service_name,
                "variableUsages": list(node.variable_usages),
                "operation": node.operation,
                "operationKind": node.operation_kind,
            }
            if node.operation_name:
                data["operationName"] = node.operation_name
            if node.requires:
                data["requires"] = [_selection(s) for s in node.requires]
            if node.input_rewrites:
                data["inputRewrites"] = [_rewrite(r) for r in node.input_rewrites]
            if node.output_rewrites:
                data["outputRewrites"] = [_rewrite(r) for r in node.output_rewrites]
            if node.id is not None:
                data["id"] = node.id
            return data
        case Flatten():
            return {"kind": "Flatten", "path": list(node.path), "node": _node(node.node)}
        case Sequence():
            return {"kind": "Sequence", "nodes": [_node(n) for n in node.nodes]}
        case Parallel():
            return {"kind": "Parallel", "nodes": [_node(n) for n in node.nodes]}
        case Condition():
            return {
                "kind": "Condition",
                "condition": node.condition,
                "ifClause": None if node.if_clause is None else _node(node.if_clause),
                "elseClause": None if node.else_clause is None else _node(node.else_clause),
            }
        case SubscriptionNode():
            return {
                "kind": "Subscription",
                "primary": _node(node.primary),
                "rest": None if node.rest is None else _node(node.rest),
            }
        case Defer():
            primary: dict[str, Any] = {}
            if node.primary.subselection is not None:
                primary["subselection"] = node.primary.subselection
            if node.primary.node is not None:
                primary["node"] = _node(node.primary.node)
            return {
                "kind": "Defer",
                "primary": primary,
                "deferred": [_deferred(d) for d in node.deferred],
            }
    raise TypeError(f"not a plan node: {node!r}")


def _deferred(deferred: DeferredNode) -> dict[str, Any]:
    depends = []
    for dependency in deferred.depends:
        entry: dict[str, Any] = {"id": dependency.id}
        if dependency.defer_label is not None:
            entry["deferLabel"] = dependency.defer_label
        depends.append(entry)
    data: dict[str, Any] = {"depends": depends}
    if deferred.label is not None:
        data["label"] = deferred.label
    data["queryPath"] = list(deferred.query_path)
    if deferred.subselection is not None:
        data["subselection"] = deferred.subselection
    if deferred.node is not None:
        data["node"] = _node(deferred.node)
    return data


def _selection(selection: Selection) -> dict[str, Any]:
    if isinstance(selection, FieldSelection):
        data: dict[str, Any] = {"kind": "Field", "name": selection.name}
        if selection.alias:
            data["alias"] = selection.alias
        if selection.selections:
            data["selections"] = [_selection(s) for s in selection.selections]
        return data
    return {
        "kind": "InlineFragment",
        "typeCondition": selection.type_condition,
        "selections": [_selection(s) for s in selection.selections],
    }


def _rewrite(rewrite: Rewrite) -> dict[str, Any]:
    if isinstance(rewrite, ValueSetter):
        return {
            "kind": "ValueSetter",
            "path": list(rewrite.path),
            "setValueTo": rewrite.set_value_to,
        }
    return {"kind": "KeyRenamer", "path": list(rewrite.path), "renameKeyTo": rewrite.rename_key_to}
