"""Each subgraph's own schema, rebuilt from a supergraph's join metadata.

The conformance tests validate every subgraph operation of a plan against the schema of
the subgraph it is sent to: a plan is only as good as the requests the subgraphs accept.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_schema,
    print_type,
)

from gateway.supergraph import Supergraph

_BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}


def subgraph_schema(supergraph: Supergraph, name: str) -> GraphQLSchema:
    parts = ["scalar _Any"]
    entities: list[str] = []
    for type_name, meta in supergraph.types.items():
        if name not in meta.subgraphs:
            continue
        named = supergraph.schema.get_type(type_name)
        info = meta.subgraphs[name]
        is_object = isinstance(named, GraphQLObjectType) or info.is_interface_object
        if is_object and any(k.resolvable for k in info.keys):
            entities.append(type_name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            fields = []
            for field_name, field in named.fields.items():
                field_meta = meta.fields.get(field_name)
                if field_meta is None or name not in field_meta.subgraphs:
                    continue
                declared = field_meta.subgraphs[name].type or str(field.type)
                arguments = ", ".join(f"{a}: {arg.type}" for a, arg in field.args.items())
                fields.append(f"  {field_name}{f'({arguments})' if arguments else ''}: {declared}")
            if type_name == supergraph.root_types.get("query"):
                fields.append("  _entities(representations: [_Any!]!): [_Entity]!")
            if not fields:
                continue
            kind = "interface" if isinstance(named, GraphQLInterfaceType) else "type"
            if info.is_interface_object:
                kind = "type"
            interfaces = sorted(meta.interfaces.get(name, ()))
            implements = f" implements {' & '.join(interfaces)}" if interfaces else ""
            parts.append(f"{kind} {type_name}{implements} {{\n" + "\n".join(fields) + "\n}")
        elif isinstance(named, GraphQLUnionType):
            members = sorted(meta.members.get(name, ()))
            if members:
                parts.append(f"union {type_name} = {' | '.join(members)}")
        elif isinstance(named, GraphQLEnumType | GraphQLInputObjectType):
            parts.append(print_type(named))
        elif isinstance(named, GraphQLScalarType) and type_name not in _BUILT_IN_SCALARS:
            parts.append(f"scalar {type_name}")
    parts.append(f"union _Entity = {' | '.join(entities)}" if entities else "")
    return build_schema("\n\n".join(parts))
