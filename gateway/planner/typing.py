"""Questions the planner asks about the supergraph, answered once and remembered."""

from __future__ import annotations

from collections import deque
from functools import lru_cache

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    TypeNameMetaFieldDef,
    get_named_type,
    is_abstract_type,
)

from gateway.planner.errors import PlanningError
from gateway.supergraph.model import FieldInSubgraph, FieldMeta, Key, Supergraph


class SchemaView:
    def __init__(self, supergraph: Supergraph) -> None:
        self.supergraph = supergraph
        self.types = supergraph.types
        self.schema = supergraph.schema
        self._order = {name: index for index, name in enumerate(supergraph.schema.type_map)}
        self.possible_types = lru_cache(maxsize=None)(self._possible_types)
        self.route = lru_cache(maxsize=None)(self._route)
        self.runtime_types = lru_cache(maxsize=None)(self._runtime_types)
        self.key_fields = lru_cache(maxsize=None)(self._key_fields)

    def field_meta(self, type_name: str, name: str) -> FieldMeta | None:
        meta = self.types.get(type_name)
        return meta.fields.get(name) if meta is not None else None

    def field_in(self, type_name: str, name: str, service: str) -> FieldInSubgraph | None:
        meta = self.field_meta(type_name, name)
        return meta.subgraphs.get(service) if meta is not None else None

    def field_type(self, type_name: str, name: str) -> GraphQLOutputType:
        if name == "__typename":
            return TypeNameMetaFieldDef.type
        parent = self.schema.get_type(type_name)
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            raise PlanningError(f"{type_name} has no fields")
        field: GraphQLField | None = parent.fields.get(name)
        if field is None:
            raise PlanningError(f"{type_name} has no field {name}")
        return field.type

    def subgraph_type_name(self, type_name: str, name: str, service: str) -> str:
        """The field's named type as ``service`` declares it: a subgraph may return a
        member (``Book``) where the supergraph has the union (``Media``)."""
        supergraph_type = get_named_type(self.field_type(type_name, name)).name
        info = self.field_in(type_name, name, service)
        if info is None or not info.type:
            return supergraph_type
        declared = info.type.replace("[", "").replace("]", "").replace("!", "").strip()
        return declared if declared in self.types else supergraph_type

    def is_abstract(self, type_name: str) -> bool:
        return is_abstract_type(self.schema.get_type(type_name))

    def is_entity(self, type_name: str) -> bool:
        meta = self.types.get(type_name)
        return meta is not None and meta.is_entity()

    def in_subgraph(self, type_name: str, service: str) -> bool:
        meta = self.types.get(type_name)
        return meta is not None and service in meta.subgraphs

    def is_interface_object(self, type_name: str, service: str) -> bool:
        meta = self.types.get(type_name)
        info = meta.subgraphs.get(service) if meta is not None else None
        return info is not None and info.is_interface_object

    def applies(self, type_condition: str, type_name: str) -> bool:
        """True when every object of ``type_name`` matches ``type_condition``."""
        if type_condition == type_name:
            return True
        return self.possible_types(type_name) <= self.possible_types(type_condition)

    def overlaps(self, type_condition: str, type_name: str) -> bool:
        return bool(self.possible_types(type_condition) & self.possible_types(type_name))

    def interfaces_of(self, type_name: str) -> list[str]:
        named = self.schema.get_type(type_name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return [i.name for i in named.interfaces]
        return []

    def _possible_types(self, type_name: str) -> frozenset[str]:
        named = self.schema.get_type(type_name)
        if named is None:
            return frozenset()
        if is_abstract_type(named):
            return frozenset(t.name for t in self.schema.get_possible_types(named))
        return frozenset({type_name})

    def _runtime_types(self, abstract: str, service: str) -> list[str]:
        """The object types ``service`` may return for ``abstract``, in schema order."""
        meta = self.types.get(abstract)
        if meta is None:
            return []
        if meta.kind == "union":
            found = set(meta.members.get(service, ()))
        else:
            found = {
                name
                for name in self.possible_types(abstract)
                if abstract in self.types[name].interfaces.get(service, ())
            }
        return sorted(found, key=lambda name: self._order.get(name, 0))

    def _key_fields(self, type_name: str, service: str) -> frozenset[str]:
        meta = self.types.get(type_name)
        if meta is None:
            return frozenset()
        return frozenset(
            s.name.value
            for key in meta.keys_in(service)
            for s in key.selection.selections
            if isinstance(s, FieldNode)
        )

    def plain_local(self, service: str, type_name: str, name: str) -> bool:
        """True when ``service`` returns the field itself (no @requires, not external);
        a key field it declares counts even when overridden away (``usedOverridden``)."""
        meta = self.field_meta(type_name, name)
        if meta is None:
            return False
        info = meta.subgraphs.get(service)
        if info is None or info.external:
            return False
        if service in meta.resolvers and info.requires is None:
            return True
        return name in self.key_fields(type_name, service)

    def pick_key(
        self,
        type_name: str,
        service: str,
        source: str,
        source_type: str,
        extra: frozenset[str] = frozenset(),
    ) -> Key | None:
        """A resolvable key of ``type_name`` in ``service``, preferring one ``source`` can fill."""
        keys = [k for k in self.types[type_name].keys_in(service) if k.resolvable]
        for key in keys:
            if self._fillable(key, source, source_type, extra):
                return key
        return keys[0] if keys else None

    def _fillable(
        self, key: Key, source: str, source_type: str, extra: frozenset[str] = frozenset()
    ) -> bool:
        """True when ``source`` can give every key field (``extra``: fields it provides)."""
        return all(
            s.name.value in extra or self.plain_local(source, source_type, s.name.value)
            for s in key.selection.selections
            if isinstance(s, FieldNode)
        )

    def _route(
        self, type_name: str, source: str, goal: str, extra: frozenset[str] = frozenset()
    ) -> list[str] | None:
        """The subgraphs to hop through (``goal`` last) to reach ``goal`` for an entity."""
        meta = self.types.get(type_name)
        if meta is None:
            return None
        if source == goal:
            return [goal] if any(k.resolvable for k in meta.keys_in(goal)) else None
        previous: dict[str, str] = {}
        queue = deque([source])
        while queue:
            current = queue.popleft()
            for service in meta.subgraphs:
                if service in previous or service == source:
                    continue
                keys = [k for k in meta.keys_in(service) if k.resolvable]
                provided = extra if current == source else frozenset()
                if not any(self._fillable(k, current, type_name, provided) for k in keys):
                    continue
                previous[service] = current
                if service == goal:
                    route = [service]
                    while previous[route[-1]] != source:
                        route.append(previous[route[-1]])
                    return list(reversed(route))
                queue.append(service)
        return None
