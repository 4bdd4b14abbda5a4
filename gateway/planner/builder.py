"""The plan builder: walks the client operation and assigns every field to a fetch group.

The walk is greedy and local, like Apollo Gateway's first planner, with Federation 2's
choices added: a field stays in the subgraph already being fetched when that subgraph can
resolve it (``@shareable``, ``@provides``, key fields); otherwise the planner jumps to the
subgraph that resolves it, through ``_entities`` and a key that the current subgraph can
provide, taking several hops when no direct key fits. ``@requires`` fields are planned
like client fields at the same spot, and the entity fetch that needs them waits for the
groups that fetch them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_named_type,
    is_composite_type,
)

from gateway.planner.collect import Collector
from gateway.planner.conflicts import alias_conflicts
from gateway.planner.coverage import Coverage
from gateway.planner.deferred import defer_label, subselection
from gateway.planner.errors import PlanningBudgetExceeded, PlanningError
from gateway.planner.fields import (
    alias_of,
    arguments_key,
    at_key,
    clashes,
    conditions_of,
    directives_for,
    first_condition,
    list_depth,
    provided_field,
    resolves_here,
    with_pending,
)
from gateway.planner.groups import Cond, Ctx, DeferBlock, Group, Step
from gateway.planner.plan import KeyRenamer, ValueSetter
from gateway.planner.selections import OutField, OutSet
from gateway.planner.typing import SchemaView
from gateway.supergraph.model import Key, Supergraph

_INTROSPECTION = frozenset({"__schema", "__type"})


class Builder:
    def __init__(
        self,
        supergraph: Supergraph,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        *,
        budget: int,
        defers: bool = False,
        defer_values: Mapping[str, bool] | None = None,
    ) -> None:
        """``defers``: the operation has deferred fragments to plan in blocks of their
        own (``defer_values`` gives the value planned for each ``if`` variable)."""
        self.supergraph = supergraph
        self._budget = budget
        self.view = SchemaView(supergraph)
        self.schema: GraphQLSchema = supergraph.schema
        self.operation = operation
        self.fragments = fragments
        self.groups: list[Group] = []
        self.roots: list[Group] = []
        self._children: dict[tuple[int, str, tuple[str, ...], int, frozenset[Cond]], Group] = {}
        self._aliases = 0
        # the subgraph a field of an object was read from, by (parent group id, path,
        # type, field, arguments) and by that and its response key: the same field asked
        # again on the same object is read from there too (see ``_prefer_source``)
        self._sources: dict[tuple[object, ...], str] = {}
        self._defer_values: Mapping[str, bool] = defer_values or {}
        self.collect = Collector(self.view, fragments, self._defer_values, defers)
        self.coverage = Coverage(self.view, self.collect, self._spend)
        self.blocks: list[DeferBlock] = []
        self._blocks: dict[tuple[object, ...], DeferBlock] = {}

    # -- root -------------------------------------------------------------------------

    def build(self) -> list[Group]:
        kind = self.operation.operation.value
        root_type = self.supergraph.root_types.get(kind)
        if root_type is None:
            raise PlanningError(f"the schema has no {kind} type")
        self._plan_root(tuple(self.operation.selection_set.selections), root_type, (), None)
        for group in self.groups:
            group.selections.prune()
            parent_type = root_type if not group.entity else first_condition(group.selections)
            # nested renames first: the per-type renames of interface-object fields
            # (``_alias_per_type``) move the objects those paths go through
            group.output_rewrites[:0] = alias_conflicts(
                self.view, group.service, parent_type, group.selections
            )
        return self.groups

    def _plan_root(
        self,
        selections: tuple[SelectionNode, ...],
        root_type: str,
        pending: tuple[DirectiveNode, ...],
        defer: DeferBlock | None,
    ) -> None:
        """Root fields get root fetches of their block: a deferred fragment on the root
        type is fetched by root fetches of its own."""
        kind = self.operation.operation.value
        fields = self.collect.fields_of(selections, root_type, pending)
        by_response_key: dict[str, list[FieldNode]] = {}
        for field_node, _ in fields:
            by_response_key.setdefault(alias_of(field_node) or field_node.name.value, []).append(
                field_node
            )
        for field_node, field_pending in fields:
            name = field_node.name.value
            if name == "__typename" or name in _INTROSPECTION:
                continue
            same_key = by_response_key[alias_of(field_node) or name]
            group = self._root_group(kind, root_type, field_node, same_key, defer)
            ctx = Ctx(
                group, group.selections, root_type, (), None, field_pending, frozenset(), True
            )
            self._field(replace(ctx, defer=defer), field_node)
        for node, type_condition, body, inner in self.collect.deferred_fragments(
            selections, root_type, pending
        ):
            block = self._block(node, (), root_type, type_condition, body, inner, defer)
            self._plan_root(body, root_type, inner, block)

    def _root_group(
        self,
        kind: str,
        root_type: str,
        field_node: FieldNode,
        same_key: list[FieldNode],
        defer: DeferBlock | None = None,
    ) -> Group:
        """The root fetch for a root field; ``same_key``: every selection of its response
        key, which are one field and are read from one subgraph."""
        meta = self.view.field_meta(root_type, field_node.name.value)
        candidates = list(meta.resolvers) if meta else []
        if not candidates:
            raise PlanningError(f"no subgraph resolves {root_type}.{field_node.name.value}")
        if kind == "mutation":
            last = self.roots[-1] if self.roots else None
            if last is not None and last.service in candidates:
                return last
        existing = (
            {g.service: g for g in self.roots if g.defer is defer} if kind != "mutation" else {}
        )
        coverage = {
            s: sum(self.coverage.of_field(s, root_type, node) for node in same_key)
            for s in candidates
        }
        best = max(candidates, key=lambda s: (coverage[s], s in existing, -candidates.index(s)))
        service = self._prefer_source(None, (), root_type, field_node, best, coverage)
        if service in existing:
            return existing[service]
        group = self._new_group(service, (), entity=False, parent=None, defer=defer)
        self.roots.append(group)
        return group

    def _prefer_source(
        self,
        parent: Group | None,
        path: tuple[str, ...],
        type_name: str,
        field_node: FieldNode,
        best: str,
        coverage: dict[str, int],
    ) -> str:
        """One source per object: a field asked again on an object (through a fragment,
        or under another alias) is read from the subgraph it was already read from. Under
        the same response key always (one field of the response, as GraphQL merges it);
        under another alias when that subgraph resolves as much of this selection as any
        other, so reading it elsewhere would only add a fetch. ``best`` is the choice
        for a first selection; ``coverage`` what each option resolves of this one."""
        field = (
            -1 if parent is None else parent.id,
            path,
            type_name,
            field_node.name.value,
            arguments_key(tuple(field_node.arguments or ())),
        )
        response = (*field, alias_of(field_node) or field_node.name.value)
        chosen = self._sources.get(response)
        if chosen is None or chosen not in coverage:
            earlier = self._sources.get(field)
            if earlier in coverage and coverage[earlier] == max(coverage.values()):
                chosen = earlier
            else:
                chosen = best
        self._sources.setdefault(field, chosen)
        self._sources.setdefault(response, chosen)
        return chosen

    # -- selection sets ---------------------------------------------------------------

    def _plan_set(self, ctx: Ctx, selections: tuple[SelectionNode, ...]) -> set[Group]:
        """Plans ``selections`` at ``ctx``; returns the groups that received fields."""
        if self.view.is_abstract(ctx.type_name):
            return self._plan_abstract(ctx, selections)
        placed: set[Group] = set()
        for field_node, pending in self.collect.fields_of(selections, ctx.type_name, ctx.pending):
            placed |= self._field(with_pending(ctx, pending), field_node)
        return placed | self._plan_deferred(ctx, selections)

    # -- deferred fragments -----------------------------------------------------------

    def _plan_deferred(self, ctx: Ctx, selections: tuple[SelectionNode, ...]) -> set[Group]:
        """Each deferred fragment here is planned in a block of its own: its fields enter
        groups of that block (``_enter_block``) instead of joining the groups at ``ctx``."""
        placed: set[Group] = set()
        for node, type_condition, body, pending in self.collect.deferred_fragments(
            selections, ctx.type_name, ctx.pending
        ):
            declared = self._declared_type(ctx)
            block = self._block(node, ctx.path, declared, type_condition, body, pending, ctx.defer)
            fragment = InlineFragmentNode(
                type_condition=(
                    NamedTypeNode(name=NameNode(value=type_condition)) if type_condition else None
                ),
                directives=(),
                selection_set=SelectionSetNode(selections=body),
            )
            placed |= self._plan_set(replace(ctx, defer=block, pending=pending), (fragment,))
        return placed

    def _block(
        self,
        node: SelectionNode,
        path: tuple[str, ...],
        declared: str,
        type_condition: str | None,
        body: tuple[SelectionNode, ...],
        conditions: tuple[DirectiveNode, ...],
        parent: DeferBlock | None,
    ) -> DeferBlock:
        """The block of a deferred fragment at ``path``; ``declared`` is the type the
        schema gives that position (a narrower type condition joins the path), and
        ``conditions`` the @skip/@include it is delivered under."""
        narrows = type_condition is not None and type_condition != declared
        query_path = path + ((f"... on {type_condition}",) if narrows else ())
        key = (id(node), query_path, None if parent is None else parent.id)
        block = self._blocks.get(key)
        if block is None:
            text = subselection(
                body, self.fragments, self._defer_values, type_condition, conditions
            )
            block = DeferBlock(len(self.blocks), defer_label(node), parent, query_path, text)
            self.blocks.append(block)
            self._blocks[key] = block
        return block

    def _declared_type(self, ctx: Ctx) -> str:
        """The type the API schema gives the position ``ctx`` stands at (before any type
        condition narrowed it)."""
        while ctx.up is not None and ctx.up[1].kind == "fragment":
            ctx = ctx.up[0]
        if ctx.up is None or ctx.up[1].field_node is None:
            return ctx.type_name
        step = ctx.up[1]
        assert step.field_node is not None
        return get_named_type(self.view.field_type(step.type_name, step.field_node.name.value)).name

    def _enter_block(self, ctx: Ctx, field_node: FieldNode) -> Ctx | None:
        """Where a field of a deferred fragment is planned: an entity continues through
        ``_entities`` from its key in a group of the block (the same subgraph when it
        resolves the field; otherwise the jump from here creates that group); a value
        type re-enters from the nearest entity above or from the query root. None when
        no entry exists: the field is then fetched with the enclosing block, and only its
        delivery is deferred (Apollo does the same)."""
        type_name = ctx.type_name
        service = ctx.group.service
        local = self._local(service, type_name, field_node.name.value, ctx.provided)
        if self.view.is_entity(type_name) and not self.view.is_abstract(type_name):
            if not local:
                return None
            if self._resolvable_in(type_name, service):
                return self._hops(ctx, type_name, [service], ctx.conds, ctx.defer)
        if not local:
            return None
        chain: list[Step] = []
        level = ctx
        while level.up is not None:
            level, step = level.up
            chain.insert(0, step)
            if level.group is not ctx.group or not self._chain_local(service, chain):
                return None
            if self._is_query_root(level) and all(s.kind == "field" for s in chain):
                group = self._block_root(service, ctx.defer)
                entry = Ctx(
                    group, group.selections, level.type_name, (), None, (), frozenset(), True
                )
                return self._walk(replace(entry, defer=ctx.defer), chain, ctx)
            entity = self.view.is_entity(level.type_name) and not self.view.is_abstract(
                level.type_name
            )
            if entity and self._resolvable_in(level.type_name, service):
                entry = self._hops(level, level.type_name, [service], ctx.conds, ctx.defer)
                return self._walk(entry, chain, ctx)
        return None

    def _resolvable_in(self, type_name: str, service: str) -> bool:
        return any(k.resolvable for k in self.supergraph.types[type_name].keys_in(service))

    def _block_root(self, service: str, defer: DeferBlock | None) -> Group:
        group = next((g for g in self.roots if g.service == service and g.defer is defer), None)
        if group is None:
            group = self._new_group(service, (), entity=False, parent=None, defer=defer)
            self.roots.append(group)
        return group

    def _plan_abstract(self, ctx: Ctx, selections: tuple[SelectionNode, ...]) -> set[Group]:
        service = ctx.group.service
        abstract = ctx.type_name
        runtime = self._shared_runtime_types(ctx, self.view.runtime_types(abstract, service))
        if self.view.is_interface_object(abstract, service):
            return self._plan_interface_object(ctx, selections)
        ctx.target.field("__typename")
        placed = {ctx.group}
        direct = list(self.collect.fields_of(selections, abstract, ctx.pending))
        # fields entering a deferred block do so per concrete type, each through its key
        entering = ctx.defer is not ctx.group.defer and bool(runtime)
        if not entering and all(
            self._resolvable_everywhere(ctx, f.name.value, runtime) for f, _ in direct
        ):
            for field_node, pending in direct:
                placed |= self._field(with_pending(ctx, pending), field_node)
            for fragment, type_condition, pending in self.collect.narrowing(
                selections, abstract, ctx.pending
            ):
                placed |= self._plan_fragment(ctx, fragment, type_condition, pending, runtime)
            return placed | self._plan_deferred(ctx, selections)
        if not runtime:
            names = ", ".join(f.name.value for f, _ in direct)
            raise PlanningError(f"{service} cannot resolve {names} on {abstract}")
        for type_name in runtime:
            out = ctx.target.fragment(type_name)
            inner = replace(
                ctx, target=out.children, type_name=type_name, up=(ctx, Step("fragment", type_name))
            )
            placed |= self._plan_set(inner, selections)
        return placed

    def _plan_fragment(
        self,
        ctx: Ctx,
        fragment: tuple[SelectionNode, ...],
        type_condition: str,
        pending: tuple[DirectiveNode, ...],
        runtime: list[str],
    ) -> set[Group]:
        service = ctx.group.service
        if self._fragment_kept(type_condition, service, runtime):
            out = ctx.target.fragment(type_condition)
            inner = replace(
                ctx,
                target=out.children,
                type_name=type_condition,
                pending=pending,
                up=(ctx, Step("fragment", type_condition)),
            )
            return self._plan_set(inner, fragment)
        placed: set[Group] = set()
        possible = self.view.possible_types(type_condition)
        for type_name in runtime:
            if type_name in possible:
                out = ctx.target.fragment(type_name)
                inner = replace(
                    ctx,
                    target=out.children,
                    type_name=type_name,
                    pending=pending,
                    up=(ctx, Step("fragment", type_name)),
                )
                placed |= self._plan_set(inner, fragment)
        return placed

    def _shared_runtime_types(self, ctx: Ctx, runtime: list[str]) -> list[str]:
        """A @shareable field may be answered by any subgraph that resolves it, so only the
        types every one of them can return are planned (Apollo's partial-union rule)."""
        if ctx.up is None or ctx.up[1].kind != "field" or ctx.up[1].field_node is None:
            return runtime
        parent, step = ctx.up
        assert step.field_node is not None
        meta = self.view.field_meta(step.type_name, step.field_node.name.value)
        if meta is None or len(meta.resolvers) < 2:
            return runtime
        service = ctx.group.service
        others = [
            s for s in meta.resolvers if s != service and self._could_answer(parent, [step], s)
        ]
        abstract = ctx.type_name
        return [
            name
            for name in runtime
            if all(name in self.view.runtime_types(abstract, s) for s in others)
        ]

    def _could_answer(self, level: Ctx, chain: list[Step], service: str) -> bool:
        """True when the planner could have asked ``service`` for the same value: it can
        enter at the nearest entity (or the query root) above and walk the same fields."""
        chain = list(chain)
        while True:
            if self._is_query_root(level):
                return self._chain_local(service, chain)
            if self.view.is_entity(level.type_name) and not self.view.is_abstract(level.type_name):
                keys = self.supergraph.types[level.type_name].keys_in(service)
                return any(k.resolvable for k in keys) and self._chain_local(service, chain)
            if level.up is None:
                return False
            level, step = level.up
            chain.insert(0, step)

    def _fragment_kept(self, type_condition: str, service: str, runtime: list[str]) -> bool:
        """A type condition can go to the subgraph as written when the subgraph knows the
        type and agrees on which of the parent's objects match it."""
        if not self.view.in_subgraph(type_condition, service):
            return False
        if not self.view.is_abstract(type_condition):
            return type_condition in runtime
        possible = self.view.possible_types(type_condition)
        matching = {name for name in runtime if name in possible}
        return matching <= set(self.view.runtime_types(type_condition, service))

    def _resolvable_everywhere(self, ctx: Ctx, name: str, runtime: list[str]) -> bool:
        if name == "__typename":
            return True
        service = ctx.group.service
        return self._local(service, ctx.type_name, name, ctx.provided) and all(
            self._local(service, type_name, name, ctx.provided) for type_name in runtime
        )

    def _plan_interface_object(self, ctx: Ctx, selections: tuple[SelectionNode, ...]) -> set[Group]:
        """The subgraph sees the interface as an object: only the interface's owners know
        the concrete type, so its ``__typename`` and type conditions go through them. When
        the selection needs neither, the interface's own fields are the whole answer (the
        executor shapes them by the interface) and no owner is asked."""
        placed: set[Group] = {ctx.group}
        interface = ctx.type_name
        direct = list(self.collect.fields_of(selections, interface, ctx.pending))
        narrowing = list(self.collect.narrowing(selections, interface, ctx.pending))
        for field_node, pending in direct:
            if field_node.name.value != "__typename":
                placed |= self._field(with_pending(ctx, pending), field_node)
        placed |= self._plan_deferred(ctx, selections)
        typenames = [(f, p) for f, p in direct if f.name.value == "__typename"]
        if not typenames and not narrowing:
            return placed
        owner_ctx = self._hop_to_owner(ctx)
        placed.add(owner_ctx.group)
        owner_ctx.target.field("__typename")
        for field_node, pending in typenames:
            placed |= self._field(with_pending(owner_ctx, pending), field_node)
        runtime = self.view.runtime_types(interface, owner_ctx.group.service)
        for fragment, type_condition, pending in narrowing:
            placed |= self._plan_fragment(owner_ctx, fragment, type_condition, pending, runtime)
        return placed

    def _owners(self, interface: str) -> list[str]:
        """Subgraphs that know the interface's implementations and resolve them by key:
        only there can ``_entities`` take ``... on Interface`` (a subgraph whose
        ``_Entity`` union holds no implementation refuses the fragment)."""
        owners = []
        for service, info in self.supergraph.types[interface].subgraphs.items():
            if info.is_interface_object or not any(k.resolvable for k in info.keys):
                continue
            if any(
                any(k.resolvable for k in self.supergraph.types[name].keys_in(service))
                for name in self.view.runtime_types(interface, service)
            ):
                owners.append(service)
        return owners

    def _hop_to_owner(self, ctx: Ctx) -> Ctx:
        interface = ctx.type_name
        owners = self._owners(interface)
        if not owners:
            raise PlanningError(f"no subgraph can tell the concrete type of {interface}")
        return self._hops(ctx, interface, [owners[0]], ctx.conds, ctx.defer)

    # -- fields -----------------------------------------------------------------------

    def _spend(self) -> None:
        self._budget -= 1
        if self._budget < 0:
            raise PlanningBudgetExceeded("the operation needs too many planning steps")

    def _field(self, ctx: Ctx, field_node: FieldNode) -> set[Group]:
        self._spend()
        name = field_node.name.value
        if name == "__typename":
            if self.view.is_interface_object(ctx.type_name, ctx.group.service):
                return self._plan_interface_object(ctx, (field_node,))
            ctx.target.field(
                "__typename", alias_of(field_node), (), directives_for(field_node, ctx.pending)
            )
            return {ctx.group}
        if ctx.defer is not ctx.group.defer:
            ctx = self._enter_block(ctx, field_node) or ctx
        if self._local(ctx.group.service, ctx.type_name, name, ctx.provided):
            return self._add_field(ctx, field_node)
        return self._jump(ctx, field_node)

    def _add_field(self, ctx: Ctx, field_node: FieldNode) -> set[Group]:
        name = field_node.name.value
        field_type = self.view.field_type(ctx.type_name, name)
        named = get_named_type(field_type)
        composite = is_composite_type(named)
        directives = directives_for(field_node, ctx.pending)
        conds = ctx.conds | conditions_of(directives)
        out = ctx.target.field(
            name, alias_of(field_node), tuple(field_node.arguments or ()), directives, composite
        )
        if ctx.top:
            ctx.group.condition_sets.append(conds)
        placed = {ctx.group}
        if composite and out.children is not None and field_node.selection_set is not None:
            path = ctx.path + (alias_of(field_node) or name,) + ("@",) * list_depth(field_type)
            provided = self._provided_below(ctx, name, field_node)
            step = Step("field", ctx.type_name, field_node, directives)
            inner_type = self.view.subgraph_type_name(ctx.type_name, name, ctx.group.service)
            if inner_type != named.name and self.view.is_abstract(named.name):
                out.children.field("__typename")
            inner = Ctx(
                ctx.group,
                out.children,
                inner_type,
                path,
                provided,
                (),
                conds,
                False,
                (ctx, step),
                ctx.defer,
            )
            placed |= self._plan_set(inner, tuple(field_node.selection_set.selections))
        return placed

    def _provided_below(
        self, ctx: Ctx, name: str, field_node: FieldNode
    ) -> tuple[SelectionNode, ...] | None:
        provided = provided_field(self.view, ctx.provided, ctx.type_name, name)
        if provided is not None:
            return tuple(provided.selection_set.selections) if provided.selection_set else ()
        info = self.view.field_in(ctx.type_name, name, ctx.group.service)
        if info is not None and info.provides is not None:
            return tuple(info.provides.selections)
        return None

    def _local(
        self,
        service: str,
        type_name: str,
        name: str,
        provided: tuple[SelectionNode, ...] | None,
    ) -> bool:
        return resolves_here(self.view, service, type_name, name, provided)

    # -- entity jumps -----------------------------------------------------------------

    def _jump(self, ctx: Ctx, field_node: FieldNode) -> set[Group]:
        type_name = ctx.type_name
        name = field_node.name.value
        source = ctx.group.service
        meta = self.view.field_meta(type_name, name)
        if meta is None or not meta.resolvers:
            return self._jump_through_interface_object(ctx, field_node)
        options = []
        for order, candidate in enumerate(meta.resolvers):
            if candidate == source and meta.subgraphs[source].requires is None:
                continue
            route = self.view.route(type_name, source, candidate, self._provided_names(ctx))
            if route is None:
                continue
            existing = (
                ctx.group.id,
                route[0],
                ctx.path,
                _block_id(ctx.defer),
                frozenset(),
            ) in self._children
            coverage = self.coverage.of_field(candidate, type_name, field_node)
            options.append(((len(route), not existing, -coverage, order), candidate, route))
        if not options:
            placed = self._reenter(ctx, field_node, list(meta.resolvers))
            if placed is None:
                placed = self._jump_with_planned_key(ctx, field_node, list(meta.resolvers))
            return placed
        # options keep their order of preference; the same field asked again on this
        # object is read from the subgraph already chosen for it (``_prefer_source``)
        options.sort(key=lambda option: option[0])
        best = options[0][1]
        routes = {candidate: route for _, candidate, route in options}
        resolved = {candidate: -key[2] for key, candidate, _ in options}
        target = self._prefer_source(ctx.group, ctx.path, type_name, field_node, best, resolved)
        route = routes[target]
        requires = meta.subgraphs[target].requires
        required_groups: set[Group] = set()
        required: tuple[SelectionNode, ...] = ()
        sources: dict[str, str] = {}
        directives = directives_for(field_node, ctx.pending)
        conds = ctx.conds | conditions_of(directives)
        only_under: frozenset[Cond] = frozenset()
        if requires is not None:
            required, sources = self._alias_conflicting(ctx.target, tuple(requires.selections))
            # The inputs are fetched under the field's own @skip/@include: a client that
            # leaves the field out does not pay for them, nor see their errors. The fetch
            # that needs them is then shared only by fields under the same conditions, as
            # its representations lack the inputs whenever those conditions leave them out.
            required_groups = self._plan_set(
                replace(ctx, pending=directives, conds=conds), required
            )
            only_under = conditions_of(directives)
        final = self._hops(
            ctx, type_name, route, conds, ctx.defer, required_groups, sources, only_under
        )
        if requires is not None:
            final.group.wait_for(required_groups)
            final.group.represent(self.view, type_name, required)
            for name, source in sources.items():
                final.group.representation_keys[name] = source
                if source != name:
                    final.group.rewrite_input(KeyRenamer((f"... on {type_name}", source), name))
        return self._add_field(with_pending(final, ctx.pending), field_node)

    def _alias_conflicting(
        self, target: OutSet, selections: tuple[SelectionNode, ...]
    ) -> tuple[tuple[SelectionNode, ...], dict[str, str]]:
        """Required fields with arguments are read under an alias of their own (one per
        field and arguments, shared by every @requires that needs it): the client's own
        selection of the field, with other arguments, may come before or after them under
        its plain name, and one response name cannot hold two argument sets. The
        representation renames them back (``sources`` maps a representation key to the
        response key it is read from)."""
        result: list[SelectionNode] = []
        sources: dict[str, str] = {}
        for selection in selections:
            if not isinstance(selection, FieldNode) or not selection.arguments:
                if isinstance(selection, FieldNode):
                    sources[selection.name.value] = selection.name.value
                result.append(selection)
                continue
            name = selection.name.value
            wanted = arguments_key(selection.arguments)
            alias: str | None = None
            for item in target.items.values():
                if (
                    isinstance(item, OutField)
                    and item.name == name
                    and item.alias is not None
                    and item.alias.startswith(f"{name}__alias_")
                    and arguments_key(item.arguments) == wanted
                ):
                    alias = item.alias
            if alias is None:
                alias = f"{name}__alias_{self._aliases}"
                self._aliases += 1
            selection = FieldNode(
                alias=NameNode(value=alias),
                name=selection.name,
                arguments=selection.arguments,
                directives=selection.directives,
                selection_set=selection.selection_set,
            )
            sources[name] = alias
            result.append(selection)
        return tuple(result), sources

    def _jump_through_interface_object(self, ctx: Ctx, field_node: FieldNode) -> set[Group]:
        """A field that an @interfaceObject adds to every implementation of an interface."""
        type_name = ctx.type_name
        name = field_node.name.value
        for interface in self.view.interfaces_of(type_name):
            meta = self.view.field_meta(interface, name)
            if meta is None:
                continue
            for candidate in meta.resolvers:
                if not self.view.is_interface_object(interface, candidate):
                    continue
                key = self.view.pick_key(interface, candidate, ctx.group.service, type_name)
                if key is None:
                    continue
                requires = meta.subgraphs[candidate].requires
                required: set[Group] = set()
                only_under: frozenset[Cond] = frozenset()
                if requires is not None:
                    # under the field's own conditions, as in ``_jump``
                    directives = directives_for(field_node, ctx.pending)
                    inputs = replace(
                        at_key(ctx), pending=directives, conds=ctx.conds | conditions_of(directives)
                    )
                    required = self._plan_set(inputs, tuple(requires.selections))
                    only_under = conditions_of(directives)
                group = self._child_group(
                    ctx.group, candidate, ctx.path, required, None, ctx.defer, only_under
                )
                self._enter_entity(ctx, group, type_name, key)
                group.wait_for(required)
                if requires is not None:
                    group.represent(self.view, type_name, requires.selections)
                group.rewrite_input(ValueSetter((f"... on {type_name}", "__typename"), interface))
                inner = Ctx(
                    group,
                    group.entity_selections(interface),
                    interface,
                    ctx.path,
                    None,
                    ctx.pending,
                    ctx.conds,
                    True,
                    ctx.up,
                    ctx.defer,
                )
                return self._add_field(inner, self._alias_per_type(inner, type_name, field_node))
        raise PlanningError(f"no subgraph resolves {type_name}.{name}")

    def _alias_per_type(self, ctx: Ctx, type_name: str, field_node: FieldNode) -> FieldNode:
        """Fragments on different implementations all select into one ``... on Interface``
        of the @interfaceObject subgraph, where GraphQL merges fields by response key; the
        same key with other arguments (``ratings`` on Book, ``ratings(first: 5)`` on Movie)
        would be refused as a conflict. The later one is read under an alias, renamed back
        on the entities of ``type_name`` only (the executor gives entities their concrete
        ``__typename`` back before renaming)."""
        key = alias_of(field_node) or field_node.name.value
        name = field_node.name.value
        wanted = arguments_key(field_node.arguments or ())
        clash = False
        alias: str | None = None
        for item in ctx.target.items.values():
            if not isinstance(item, OutField):
                continue
            if item.response_key == key and (
                item.name != name or arguments_key(item.arguments) != wanted
            ):
                clash = True
            if (
                item.alias is not None
                and item.alias.startswith(f"{key}__alias_")
                and item.name == name
                and arguments_key(item.arguments) == wanted
            ):
                alias = item.alias
        if not clash:
            return field_node
        if alias is None:
            alias = f"{key}__alias_{self._aliases}"
            self._aliases += 1
        rename = KeyRenamer((f"... on {type_name}", alias), key)
        if rename not in ctx.group.output_rewrites:
            ctx.group.output_rewrites.append(rename)
        return FieldNode(
            alias=NameNode(value=alias),
            name=field_node.name,
            arguments=field_node.arguments,
            directives=field_node.directives,
            selection_set=field_node.selection_set,
        )

    def _reenter(self, ctx: Ctx, field_node: FieldNode, candidates: list[str]) -> set[Group] | None:
        """No key leads to the field's subgraph from here: climb to an entity (or the query
        root) that does lead there, and walk the same fields down again in that subgraph."""
        chain: list[Step] = []
        level = ctx
        while True:
            entry = self._entry(level, chain, candidates, ctx.conds, ctx.defer)
            if entry is not None:
                return self._descend(entry, chain, ctx, field_node)
            if level.up is None:
                break
            level, step = level.up
            chain.insert(0, step)
        return None

    def _jump_with_planned_key(
        self, ctx: Ctx, field_node: FieldNode, candidates: list[str]
    ) -> set[Group]:
        """The current subgraph lacks the key fields: fetch them first, like @requires
        fields, from whichever subgraphs can, then jump with them."""
        type_name = ctx.type_name
        for candidate in candidates:
            for key in self.supergraph.types[type_name].keys_in(candidate):
                if not key.resolvable or not self._key_reachable(type_name, key):
                    continue
                if any(
                    isinstance(s, FieldNode) and s.name.value == field_node.name.value
                    for s in key.selection.selections
                ):
                    continue  # the key would need the very field it is fetched for
                ctx.target.field("__typename")
                placed = self._plan_key(ctx, tuple(key.selection.selections))
                group = self._child_group(ctx.group, candidate, ctx.path, placed, None, ctx.defer)
                group.wait_for(placed | {ctx.group})
                group.represent(self.view, type_name, key.selection.selections)
                directives = directives_for(field_node, ctx.pending)
                conds = ctx.conds | conditions_of(directives)
                final = Ctx(
                    group,
                    group.entity_selections(type_name),
                    type_name,
                    ctx.path,
                    None,
                    ctx.pending,
                    conds,
                    True,
                    ctx.up,
                    ctx.defer,
                )
                return self._add_field(final, field_node)
        raise PlanningError(
            f"no subgraph can reach {type_name}.{field_node.name.value} from {ctx.group.service}"
        )

    def _key_reachable(self, type_name: str, key: Key) -> bool:
        for selection in key.selection.selections:
            if isinstance(selection, FieldNode):
                meta = self.view.field_meta(type_name, selection.name.value)
                if meta is None or not meta.resolvers:
                    return False
        return True

    def _entry(
        self,
        level: Ctx,
        chain: list[Step],
        candidates: list[str],
        conds: frozenset[Cond],
        defer: DeferBlock | None,
    ) -> Ctx | None:
        usable = [c for c in candidates if self._chain_local(c, chain)]
        if self._is_query_root(level):
            # another subgraph's answer to the same root field is only the same object
            # when no type condition is involved (a shared value, not an abstract one)
            if not usable or any(step.kind == "fragment" for step in chain):
                return None
            group = next((g for g in self.roots if g.service in usable and g.defer is defer), None)
            if group is None:
                group = self._block_root(usable[0], defer)
            entry = Ctx(group, group.selections, level.type_name, (), None, (), frozenset(), True)
            return replace(entry, defer=defer)
        if not self.view.is_entity(level.type_name) or self.view.is_abstract(level.type_name):
            return None
        routes = []
        for candidate in usable:
            if candidate == level.group.service:
                continue
            route = self.view.route(
                level.type_name, level.group.service, candidate, self._provided_names(level)
            )
            if route is not None:
                routes.append(route)
        if not routes:
            return None
        return self._hops(level, level.type_name, min(routes, key=len), conds, defer)

    def _chain_local(self, service: str, chain: list[Step]) -> bool:
        for step in chain:
            if step.kind == "fragment":
                if not self.view.in_subgraph(step.type_name, service):
                    return False
            elif step.field_node is not None and not self._local(
                service, step.type_name, step.field_node.name.value, None
            ):
                return False
        return True

    def _descend(
        self, entry: Ctx, chain: list[Step], ctx: Ctx, field_node: FieldNode
    ) -> set[Group]:
        return self._add_field(self._walk(entry, chain, ctx), field_node)

    def _walk(self, entry: Ctx, chain: list[Step], ctx: Ctx) -> Ctx:
        """Walks ``chain`` down from ``entry`` in its group, to stand where ``ctx`` stands."""
        current = entry
        for step in chain:
            if step.kind == "fragment":
                out = current.target.fragment(step.type_name)
                current = replace(
                    current, target=out.children, type_name=step.type_name, up=(current, step)
                )
                continue
            assert step.field_node is not None
            name = step.field_node.name.value
            field_type = self.view.field_type(current.type_name, name)
            named = get_named_type(field_type)
            field_out = current.target.field(
                name,
                alias_of(step.field_node),
                tuple(step.field_node.arguments or ()),
                step.directives,
                composite=True,
            )
            assert field_out.children is not None
            if current.top:
                current.group.condition_sets.append(ctx.conds)
            if self.view.is_abstract(named.name):
                field_out.children.field("__typename")
            path = current.path + (field_out.response_key,) + ("@",) * list_depth(field_type)
            current = Ctx(
                current.group,
                field_out.children,
                named.name,
                path,
                None,
                (),
                ctx.conds,
                False,
                (current, step),
                entry.defer,
            )
        return replace(current, pending=ctx.pending)

    def _provided_names(self, ctx: Ctx) -> frozenset[str]:
        """Fields ``@provides`` makes local at this spot (they may fill a key)."""
        if not ctx.provided:
            return frozenset()
        names: set[str] = set()
        for selection in ctx.provided:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or self.view.applies(condition.name.value, ctx.type_name):
                    inner = replace(ctx, provided=tuple(selection.selection_set.selections))
                    names |= self._provided_names(inner)
        return frozenset(names)

    def _is_query_root(self, ctx: Ctx) -> bool:
        return (
            not ctx.path
            and self.operation.operation.value == "query"
            and ctx.type_name == self.supergraph.root_types.get("query")
        )

    def _hops(
        self,
        ctx: Ctx,
        type_name: str,
        route: list[str],
        conds: frozenset[Cond],
        defer: DeferBlock | None,
        avoid: set[Group] | None = None,
        sources: dict[str, str] | None = None,
        only_under: frozenset[Cond] = frozenset(),
    ) -> Ctx:
        """Jumps along ``route`` from ``ctx`` into entity groups of block ``defer``; the
        last one is shared only by jumps made under the conditions ``only_under``."""
        current = ctx
        for index, service in enumerate(route):
            last = index == len(route) - 1
            group = self._child_group(
                current.group,
                service,
                ctx.path,
                avoid if last and avoid else set(),
                sources if last else None,
                defer,
                only_under if last else frozenset(),
            )
            extra = self._provided_names(current)
            key = self.view.pick_key(type_name, service, current.group.service, type_name, extra)
            if key is None:
                raise PlanningError(f"{service} has no key for {type_name}")
            self._enter_entity(current, group, type_name, key)
            selections = group.entity_selections(type_name)
            if self.view.is_interface_object(type_name, service):
                # the subgraph knows the interface only: send its name, not the concrete type
                group.rewrite_input(ValueSetter((f"... on {type_name}", "__typename"), type_name))
            elif self.view.is_abstract(type_name):
                selections.field("__typename")
            # the subgraph receives the key in the representation, so it can give it back
            # even where it marks the key fields @external
            known = tuple(key.selection.selections)
            current = Ctx(
                group, selections, type_name, ctx.path, known, (), conds, True, ctx.up, defer
            )
        return current

    def _enter_entity(self, source: Ctx, group: Group, type_name: str, key: Key) -> None:
        """``group`` fetches the ``type_name`` object at ``source`` through ``key``: the
        object's ``__typename`` and key fields are planned at ``source`` first, and go in
        the representation."""
        source.target.field("__typename")
        group.wait_for({source.group} | self._plan_key(source, key.selection.selections))
        group.represent(self.view, type_name, key.selection.selections)

    def _plan_key(self, source: Ctx, key: tuple[SelectionNode, ...]) -> set[Group]:
        """Plans the key fields a jump from ``source`` needs, whatever the client's
        @skip/@include on the same fields say. At the top of ``source``'s fetch they count
        among its selections under the jump's conditions: a fetch whose other selections
        are all conditional (the client's ``sku @skip(if: $s)``) still runs when the jump
        does."""
        if source.top:
            source.group.condition_sets.append(source.conds)
        return self._plan_set(at_key(source), key)

    def _child_group(
        self,
        parent: Group,
        service: str,
        path: tuple[str, ...],
        avoid: set[Group],
        sources: dict[str, str] | None = None,
        defer: DeferBlock | None = None,
        only_under: frozenset[Cond] = frozenset(),
    ) -> Group:
        """The entity fetch to ``service`` at ``path`` after ``parent``, shared by every
        field that jumps there, unless sharing would create a cycle (``avoid``) or two
        representations that read the same key from different fields (``sources``)."""
        index = (parent.id, service, path, _block_id(defer), only_under)
        existing = self._children.get(index)
        if (
            existing is not None
            and not any(g is existing or g.depends_on(existing) for g in avoid)
            and not clashes(existing.representation_keys, sources or {})
        ):
            return existing
        group = self._new_group(service, path, entity=True, parent=parent, defer=defer)
        self._children[index] = group
        return group

    def _new_group(
        self,
        service: str,
        path: tuple[str, ...],
        *,
        entity: bool,
        parent: Group | None,
        defer: DeferBlock | None = None,
    ) -> Group:
        group = Group(len(self.groups), service, path, entity, parent, defer=defer)
        self.groups.append(group)
        return group


def _block_id(block: DeferBlock | None) -> int:
    return -1 if block is None else block.id
