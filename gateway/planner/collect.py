"""Which client selections apply at a type: its fields with the fragments that merge
into it flattened (each with the @skip/@include of the fragments it sat in), the
fragments that narrow an abstract type, and the deferred fragments, which are planned
in blocks of their own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)

from gateway.planner.deferred import is_deferred
from gateway.planner.errors import PlanningError
from gateway.planner.fields import conditional, excluded
from gateway.planner.typing import SchemaView

DeferredFragment = tuple[
    SelectionNode, str | None, tuple[SelectionNode, ...], tuple[DirectiveNode, ...]
]
"""A deferred fragment met in a selection: the node, its type condition, its body, and the
@skip/@include it sits under."""


# A fragment met in a walk: the node, its type condition, its body, the conditions it adds.
_Fragment = tuple[SelectionNode, str | None, tuple[SelectionNode, ...], tuple[DirectiveNode, ...]]


class Collector:
    def __init__(
        self,
        view: SchemaView,
        fragments: Mapping[str, FragmentDefinitionNode],
        defer_values: Mapping[str, bool],
        defers: bool,
    ) -> None:
        self.view = view
        self.fragments = fragments
        self.defer_values = defer_values
        self.defers = defers
        """False when nothing is deferred (no @defer, or a subscription)."""

    def deferred_fragments(
        self,
        selections: tuple[SelectionNode, ...],
        type_name: str,
        pending: tuple[DirectiveNode, ...],
    ) -> list[DeferredFragment]:
        """The deferred fragments that apply at ``type_name``, found through the fragments
        that merge into it (a narrowing fragment is planned per type, and finds its own)."""
        found: list[DeferredFragment] = []
        if self.defers:
            self._collect_deferred(selections, type_name, pending, found, set())
        return found

    def _collect_deferred(
        self,
        selections: tuple[SelectionNode, ...],
        type_name: str,
        pending: tuple[DirectiveNode, ...],
        found: list[DeferredFragment],
        seen: set[tuple[int, ...]],
    ) -> None:
        for selection, type_condition, body, directives in self._fragments(
            selections, pending, seen
        ):
            applies = type_condition is None or self.flattens(type_condition, type_name)
            if self.deferred(selection):
                if applies or (
                    self.view.is_abstract(type_name)
                    and type_condition is not None
                    and self.view.overlaps(type_condition, type_name)
                ):
                    found.append((selection, type_condition, body, directives))
            elif applies:
                self._collect_deferred(body, type_name, directives, found, seen)

    def _fragments(
        self,
        selections: tuple[SelectionNode, ...],
        pending: tuple[DirectiveNode, ...],
        seen: set[tuple[int, ...]],
    ) -> Iterator[_Fragment]:
        """The fragments among ``selections`` not left out by a literal condition nor met
        before under the same conditions: each with its type condition, its body and the
        @skip/@include it carries added to ``pending``."""
        for selection in selections:
            if isinstance(selection, FieldNode) or excluded(selection):
                continue
            visit = (id(selection), *map(id, pending))
            if visit in seen:
                continue
            seen.add(visit)
            inner = self.fragment_body(selection)
            if inner is not None:
                yield selection, inner[0], inner[1], pending + conditional(selection)

    def deferred(self, selection: SelectionNode) -> bool:
        return self.defers and is_deferred(selection, self.defer_values)

    def fields_of(
        self,
        selections: tuple[SelectionNode, ...] | list[SelectionNode],
        type_name: str,
        pending: tuple[DirectiveNode, ...],
    ) -> list[tuple[FieldNode, tuple[DirectiveNode, ...]]]:
        """The fields that apply to ``type_name``, fragments flattened, each with the
        @skip/@include of the fragments it sat in."""
        found: list[tuple[FieldNode, tuple[DirectiveNode, ...]]] = []
        self._collect_fields(selections, type_name, pending, found, set())
        return found

    def _collect_fields(
        self,
        selections: tuple[SelectionNode, ...] | list[SelectionNode],
        type_name: str,
        pending: tuple[DirectiveNode, ...],
        found: list[tuple[FieldNode, tuple[DirectiveNode, ...]]],
        seen: set[tuple[int, ...]],
    ) -> None:
        for selection in selections:
            if excluded(selection):
                continue
            # The same node under the same conditions selects the same fields again: once
            # is enough, which keeps repeated fragment spreads linear instead of 2^depth.
            visit = (id(selection), *map(id, pending))
            if visit in seen:
                continue
            seen.add(visit)
            if isinstance(selection, FieldNode):
                found.append((selection, pending))
                continue
            if self.deferred(selection):
                continue  # planned in a block of its own (``_plan_deferred``)
            inner = self.fragment_body(selection)
            if inner is None:
                continue
            type_condition, body = inner
            if type_condition is None or self.flattens(type_condition, type_name):
                self._collect_fields(body, type_name, pending + conditional(selection), found, seen)

    def narrowing(
        self,
        selections: tuple[SelectionNode, ...],
        abstract: str,
        pending: tuple[DirectiveNode, ...],
    ) -> list[tuple[tuple[SelectionNode, ...], str, tuple[DirectiveNode, ...]]]:
        """Fragments on an abstract type whose condition is narrower than the type."""
        found: list[tuple[tuple[SelectionNode, ...], str, tuple[DirectiveNode, ...]]] = []
        self._collect_narrowing(selections, abstract, pending, found, set())
        return found

    def _collect_narrowing(
        self,
        selections: tuple[SelectionNode, ...],
        abstract: str,
        pending: tuple[DirectiveNode, ...],
        found: list[tuple[tuple[SelectionNode, ...], str, tuple[DirectiveNode, ...]]],
        seen: set[tuple[int, ...]],
    ) -> None:
        for selection, type_condition, body, directives in self._fragments(
            selections, pending, seen
        ):
            if self.deferred(selection):
                continue
            if type_condition is None or self.flattens(type_condition, abstract):
                self._collect_narrowing(body, abstract, directives, found, seen)
            elif self.view.overlaps(type_condition, abstract):
                found.append((body, type_condition, directives))

    def flattens(self, type_condition: str, type_name: str) -> bool:
        """A fragment merges into its parent when every field it may select exists there."""
        if type_condition == type_name:
            return True
        if self.view.is_abstract(type_name):
            return type_condition in self.view.interfaces_of(type_name)
        return self.view.applies(type_condition, type_name)

    def fragment_body(
        self, selection: SelectionNode
    ) -> tuple[str | None, tuple[SelectionNode, ...]] | None:
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            return condition, tuple(selection.selection_set.selections)
        if isinstance(selection, FragmentSpreadNode):
            definition = self.fragments.get(selection.name.value)
            if definition is None:
                raise PlanningError(f"unknown fragment {selection.name.value}")
            return definition.type_condition.name.value, tuple(definition.selection_set.selections)
        return None
