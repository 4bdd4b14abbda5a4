"""How much of a field's subtree a subgraph resolves itself: the planner's measure for
choosing among subgraphs that share a field."""

from __future__ import annotations

from collections.abc import Callable

from graphql import FieldNode, FragmentSpreadNode, SelectionNode, get_named_type

from gateway.planner.collect import Collector
from gateway.planner.fields import provided_field, resolves_here
from gateway.planner.typing import SchemaView


class Coverage:
    def __init__(self, view: SchemaView, collect: Collector, spend: Callable[[], None]) -> None:
        self.view = view
        self._collect = collect
        self._spend = spend
        """Counts one planning step (the planner's budget)."""

    def of_field(
        self,
        service: str,
        type_name: str,
        field_node: FieldNode,
        provided: tuple[SelectionNode, ...] | None = None,
    ) -> int:
        """How much of a field's subtree ``service`` resolves itself (to pick among
        subgraphs that share a field), counting what its ``@provides`` bring along."""
        if field_node.selection_set is None:
            return 0
        name = field_node.name.value
        field_type = get_named_type(self.view.field_type(type_name, name))
        below = provided_field(self.view, provided, type_name, name)
        inner: tuple[SelectionNode, ...] | None
        if below is not None:
            inner = tuple(below.selection_set.selections) if below.selection_set else ()
        else:
            info = self.view.field_in(type_name, name, service)
            inner = tuple(info.provides.selections) if info and info.provides else None
        return self.of_set(
            service, field_type.name, field_node.selection_set.selections, None, inner
        )

    def of_set(
        self,
        service: str,
        type_name: str,
        selections: tuple[SelectionNode, ...],
        seen: set[tuple[str, str]] | None = None,
        provided: tuple[SelectionNode, ...] | None = None,
    ) -> int:
        # A fragment spread twice in one selection set counts once: without ``seen``, a
        # chain of fragments that each spread the next twice costs 2^n visits.
        seen = set() if seen is None else seen
        score = 0
        for selection in selections:
            self._spend()
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name != "__typename" and resolves_here(
                    self.view, service, type_name, name, provided
                ):
                    score += 1 + self.of_field(service, type_name, selection, provided)
                continue
            if isinstance(selection, FragmentSpreadNode):
                visit = (type_name, selection.name.value)
                if visit in seen:
                    continue
                seen.add(visit)
            inner = self._collect.fragment_body(selection)
            if inner is None:
                continue
            condition = inner[0] or type_name
            if self.view.in_subgraph(condition, service):
                score += self.of_set(service, condition, inner[1], seen, provided)
        return score
