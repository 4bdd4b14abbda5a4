"""Fetch groups: what one subgraph request will select, and what it waits for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from graphql import DirectiveNode, FieldNode, InlineFragmentNode, SelectionNode, get_named_type

from gateway.planner.plan import Rewrite
from gateway.planner.selections import OutSet
from gateway.planner.typing import SchemaView

Cond = tuple[str, bool]
"""A variable and the value it must have for a selection to run (``@include``: True)."""


@dataclass(eq=False, slots=True)
class DeferBlock:
    """A deferred fragment at one position: its fields are fetched by groups of their own
    (``Group.defer``), never by a group of the enclosing block."""

    id: int
    label: str | None
    parent: DeferBlock | None
    query_path: tuple[str, ...]
    subselection: str


@dataclass(eq=False, slots=True)
class Group:
    id: int
    service: str
    merge_path: tuple[str, ...]
    entity: bool
    parent: Group | None
    selections: OutSet = field(default_factory=OutSet)
    requires: OutSet = field(default_factory=OutSet)
    deps: set[Group] = field(default_factory=set)
    condition_sets: list[frozenset[Cond]] = field(default_factory=list)
    input_rewrites: list[Rewrite] = field(default_factory=list)
    output_rewrites: list[Rewrite] = field(default_factory=list)
    representation_keys: dict[str, str] = field(default_factory=dict)
    """Top-level @requires keys of the representation -> response key they are read from."""
    defer: DeferBlock | None = None
    """The deferred block it fetches for; None for the primary response."""

    def wait_for(self, groups: Iterable[Group]) -> None:
        """This fetch runs after ``groups`` (never after itself)."""
        self.deps.update(groups)
        self.deps.discard(self)

    def represent(
        self,
        view: SchemaView,
        type_name: str,
        field_set: tuple[SelectionNode, ...] | list[SelectionNode],
    ) -> None:
        """Each representation of a ``type_name`` object carries ``field_set`` (its key,
        the fields a @requires needs) besides its ``__typename``."""
        shape = self.requires.fragment(type_name).children
        shape.field("__typename")
        copy_selections(view, type_name, field_set, shape)

    def rewrite_input(self, rewrite: Rewrite) -> None:
        if rewrite not in self.input_rewrites:
            self.input_rewrites.append(rewrite)

    def entity_selections(self, type_name: str) -> OutSet:
        """What this entity fetch selects on each ``type_name`` entity."""
        return self.selections.fragment(type_name).children

    def depends_on(self, other: Group) -> bool:
        """True if ``other`` must run before this group (directly or transitively)."""
        seen: set[int] = set()
        stack = list(self.deps)
        while stack:
            group = stack.pop()
            if group is other:
                return True
            if group.id not in seen:
                seen.add(group.id)
                stack.extend(group.deps)
        return False

    def common_conditions(self) -> frozenset[Cond]:
        """Conditions every top-level selection shares: the whole fetch depends on them."""
        if not self.condition_sets:
            return frozenset()
        return frozenset.intersection(*self.condition_sets)


@dataclass(frozen=True, slots=True)
class Step:
    """One step down from a parent position: a field, or a type condition."""

    kind: Literal["field", "fragment"]
    type_name: str
    """The parent type for a field; the type condition for a fragment."""
    field_node: FieldNode | None = None
    directives: tuple[DirectiveNode, ...] = ()


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where the planner stands: in which group, at which spot of it, on which type."""

    group: Group
    target: OutSet
    type_name: str
    path: tuple[str, ...]
    provided: tuple[SelectionNode, ...] | None = None
    pending: tuple[DirectiveNode, ...] = ()
    """@skip/@include of enclosing fragments, pushed down onto the fields they hold."""
    conds: frozenset[Cond] = frozenset()
    top: bool = False
    """True when ``target`` is the group's top level (its conditions decide Condition nodes)."""
    up: tuple[Ctx, Step] | None = None
    """The position one level up, to re-enter the graph higher when no key leads here."""
    defer: DeferBlock | None = None
    """The block the fields planned here belong to; when it is not ``group.defer`` (the
    fields sit in a deferred fragment), they enter a group of that block first."""


def copy_selections(
    view: SchemaView,
    type_name: str,
    selections: tuple[SelectionNode, ...] | list[SelectionNode],
    target: OutSet,
) -> None:
    """Copies a field set (key, requires) into a ``requires`` shape, arguments dropped;
    abstract values carry ``__typename`` so the subgraph can read them."""
    if view.is_abstract(type_name):
        target.field("__typename")
    for selection in selections:
        if isinstance(selection, FieldNode):
            composite = selection.selection_set is not None
            alias = selection.alias.value if selection.alias else None
            out = target.field(selection.name.value, alias, composite=composite)
            if selection.selection_set is not None and out.children is not None:
                field_type = get_named_type(view.field_type(type_name, selection.name.value))
                copy_selections(
                    view, field_type.name, tuple(selection.selection_set.selections), out.children
                )
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            copy_selections(
                view,
                condition or type_name,
                tuple(selection.selection_set.selections),
                target.fragment(condition).children,
            )
