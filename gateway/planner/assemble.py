"""From fetch groups to plan nodes: each group becomes a Fetch, dependencies become
Sequence and Parallel, and a fetch that only runs under a variable gets a Condition.
Groups of deferred blocks become the ``DeferredNode``s of one ``Defer`` node."""

from __future__ import annotations

from graphql import OperationDefinitionNode, print_ast

from gateway.planner.groups import Cond, DeferBlock, Group
from gateway.planner.plan import (
    Condition,
    Defer,
    DeferredDependency,
    DeferredNode,
    Fetch,
    Flatten,
    Parallel,
    PlanNode,
    PrimaryDeferBlock,
    QueryPlan,
    Sequence,
    SubscriptionNode,
)


def assemble(
    groups: list[Group],
    roots: list[Group],
    operation: OperationDefinitionNode,
    blocks: list[DeferBlock] | None = None,
    primary_subselection: str | None = None,
) -> QueryPlan:
    """``blocks`` are the deferred fragments (``primary_subselection`` the operation
    without them): with any, the plan is one ``Defer`` node."""
    groups = [g for g in groups if g.selections]
    if not blocks:
        return QueryPlan(_assemble(groups, roots, operation, _Naming(operation)))
    kept = {g.id for g in groups}
    outside: dict[int, list[Group]] = {}
    for group in groups:
        # what a block waits for: fetches of the blocks around it
        outside[group.id] = sorted(
            (d for d in group.deps if d.id in kept and d.defer is not group.defer),
            key=lambda d: d.id,
        )
    ids: dict[int, str] = {}
    for group in groups:
        for dependency in outside[group.id]:
            ids.setdefault(dependency.id, "")
    for number, group_id in enumerate(sorted(ids)):
        ids[group_id] = str(number)
    naming = _Naming(operation, ids)
    in_block = {g.id: g.defer for g in groups}

    def of_block(block: DeferBlock | None) -> list[Group]:
        return [g for g in groups if in_block[g.id] is block]

    primary = _assemble(of_block(None), [r for r in roots if r.defer is None], operation, naming)

    def deferred(block: DeferBlock) -> DeferredNode:
        own = of_block(block)
        node = _assemble(own, [r for r in roots if r.defer is block], operation, naming, True)
        depends = sorted(
            {ids[d.id] for g in own for d in outside[g.id] if d.defer is not block},
            key=int,
        )
        children = [b for b in blocks if b.parent is block]
        label = block.parent.label if block.parent is not None else None
        dependencies = tuple(DeferredDependency(i, label) for i in depends)
        if not children:
            return DeferredNode(
                dependencies, block.label, block.query_path, block.subselection, node
            )
        nested = Defer(
            PrimaryDeferBlock(block.subselection, node),
            tuple(deferred(child) for child in children),
        )
        return DeferredNode(dependencies, block.label, block.query_path, None, nested)

    top = tuple(deferred(b) for b in blocks if b.parent is None)
    return QueryPlan(Defer(PrimaryDeferBlock(primary_subselection, primary), top))


def _assemble(
    groups: list[Group],
    roots: list[Group],
    operation: OperationDefinitionNode,
    naming: _Naming,
    deferred: bool = False,
) -> PlanNode | None:
    """The plan node that runs ``groups`` (dependencies on other groups are met before)."""
    if not groups:
        return None
    kept = {g.id for g in groups}
    for group in groups:
        group.deps = {d for d in group.deps if d.id in kept and d is not group}
    kind = "query" if deferred else operation.operation.value
    depth = _depths(groups)
    parents = {g.id: _tree_parent(g, depth) for g in groups}
    tree = all(_deps_on_branch(g, parents) for g in groups)
    roots = [g for g in roots if g.id in kept]
    if deferred:
        # a block's entity fetches start from the data its enclosing block fetched
        roots += [g for g in groups if parents[g.id] is None and g not in roots]
    if kind == "subscription" and roots:
        primary = _fetch(roots[0], naming)
        children = [g for g in groups if parents[g.id] is roots[0]]
        rest = _combine(Parallel, [_subtree(c, groups, parents, naming) for c in children])
        return SubscriptionNode(primary, rest)
    if tree:
        nodes = [_subtree(r, groups, parents, naming) for r in roots]
        return _combine(Sequence if kind == "mutation" else Parallel, nodes)
    levels: dict[int, list[Group]] = {}
    for group in groups:
        levels.setdefault(depth[group.id], []).append(group)
    steps: list[PlanNode] = []
    for level in sorted(levels):
        step = _combine(Parallel, [_node(g, frozenset(), naming) for g in levels[level]])
        if step is not None:
            steps.append(step)
    return _combine(Sequence, steps)


def _depths(groups: list[Group]) -> dict[int, int]:
    depth: dict[int, int] = {}

    def visit(group: Group) -> int:
        if group.id not in depth:
            depth[group.id] = 1 + max((visit(d) for d in group.deps), default=-1)
        return depth[group.id]

    for group in groups:
        visit(group)
    return depth


def _tree_parent(group: Group, depth: dict[int, int]) -> Group | None:
    if not group.deps:
        return None
    return max(group.deps, key=lambda d: (depth[d.id], d is group.parent, d.id))


def _deps_on_branch(group: Group, parents: dict[int, Group | None]) -> bool:
    """True when every dependency is the tree parent or one of its ancestors."""
    ancestors: set[int] = set()
    current = parents[group.id]
    while current is not None:
        ancestors.add(current.id)
        current = parents[current.id]
    return all(d.id in ancestors for d in group.deps)


def _subtree(
    group: Group, groups: list[Group], parents: dict[int, Group | None], naming: _Naming
) -> PlanNode:
    parent = parents[group.id]
    inherited = parent.common_conditions() if parent is not None else frozenset()
    own = _node(group, inherited, naming)
    children = [g for g in groups if parents[g.id] is group]
    if not children:
        return own
    after = _combine(Parallel, [_subtree(c, groups, parents, naming) for c in children])
    assert after is not None
    return _combine(Sequence, [own, after]) or own


def _node(group: Group, inherited: frozenset[Cond], naming: _Naming) -> PlanNode:
    node: PlanNode = _fetch(group, naming)
    if group.entity:
        node = Flatten(group.merge_path, node)
    for variable, include in sorted(group.common_conditions() - inherited, reverse=True):
        node = Condition(variable, node, None) if include else Condition(variable, None, node)
    return node


def _combine(kind: type[Sequence] | type[Parallel], nodes: list[PlanNode]) -> PlanNode | None:
    flat: list[PlanNode] = []
    for node in nodes:
        if isinstance(node, kind):
            flat.extend(node.nodes)
        else:
            flat.append(node)
    if not flat:
        return None
    if len(flat) == 1:
        return flat[0]
    return kind(tuple(flat))


class _Naming:
    """Names subgraph operations after the client's (``Op__service__0``) and declares the
    client variables each one uses."""

    def __init__(
        self, operation: OperationDefinitionNode, ids: dict[int, str] | None = None
    ) -> None:
        self.operation = operation
        self.ids = ids or {}
        """Plan ids of the fetches deferred blocks wait for, by group id."""
        self.count = 0
        self.declarations = {
            d.variable.name.value: _declaration(d) for d in operation.variable_definitions or ()
        }

    def name(self, service: str) -> str | None:
        if self.operation.name is None:
            return None
        name = f"{self.operation.name.value}__{service}__{self.count}"
        self.count += 1
        return name

    def declare(self, variables: list[str], entity: bool) -> str:
        parts = ["$representations:[_Any!]!"] if entity else []
        parts += [self.declarations[v] for v in variables if v in self.declarations]
        return "(" + ",".join(parts) + ")" if parts else ""


def _declaration(definition: object) -> str:
    text = print_ast(definition)  # type: ignore[arg-type]
    return text.replace(": ", ":").replace(" = ", "=")


def _fetch(group: Group, naming: _Naming) -> Fetch:
    variables = group.selections.variables()
    name = naming.name(group.service)
    kind = "query" if group.entity else naming.operation.operation.value
    header = kind + (f" {name}" if name else "") + naming.declare(variables, group.entity)
    body = group.selections.compact()
    if group.entity:
        body = "{_entities(representations:$representations)" + body + "}"
    return Fetch(
        service_name=group.service,
        operation=header + body,
        operation_kind=kind,  # type: ignore[arg-type]
        operation_name=name,
        variable_usages=tuple(variables),
        requires=group.requires.to_plan_selections() if group.entity else (),
        input_rewrites=tuple(group.input_rewrites),
        output_rewrites=tuple(group.output_rewrites),
        id=naming.ids.get(group.id),
    )
