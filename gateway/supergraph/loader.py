"""Reading a Federation v2 supergraph SDL (link v1.0, join v0.2-v0.5) into planning metadata.

The join directives are read from the document once; the planner then never looks at
directives again. Feature names follow the schema's ``@link`` imports, so a supergraph
that renames ``join`` with ``as:`` still loads.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    OperationDefinitionNode,
    ScalarTypeDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
)

from gateway.supergraph.access import read_access_rules
from gateway.supergraph.api_schema import build_api_schema
from gateway.supergraph.costs import read_cost_directives
from gateway.supergraph.links import Links, read_links
from gateway.supergraph.model import (
    FieldInSubgraph,
    FieldMeta,
    Key,
    Subgraph,
    Supergraph,
    TypeInSubgraph,
    TypeKind,
    TypeMeta,
)


class SupergraphError(ValueError):
    """The SDL is not a supergraph this gateway can serve."""


_KINDS: dict[type[Any], TypeKind] = {
    ObjectTypeDefinitionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    UnionTypeDefinitionNode: "union",
    EnumTypeDefinitionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
}


def load_supergraph(sdl: str) -> Supergraph:
    try:
        document = parse(sdl, no_location=True)
    except Exception as error:
        raise SupergraphError(f"the supergraph does not parse: {error}") from error
    links = read_links(document)
    _refuse_unenforced_features(links)
    if links.join is None:
        raise SupergraphError("the supergraph links no join spec (https://specs.apollo.dev/join)")
    try:
        schema = build_ast_schema(document, assume_valid_sdl=True)
    except Exception as error:
        raise SupergraphError(f"the supergraph is not a valid schema: {error}") from error
    subgraphs = _read_subgraphs(document, links)
    by_graph = {s.graph: s.name for s in subgraphs.values()}
    types = _read_types(document, links, by_graph)
    _apply_overrides(types)
    _infer_memberships(types, schema)
    _reverse_implementations(types)
    root_types = {
        kind: root.name
        for kind, root in (
            ("query", schema.query_type),
            ("mutation", schema.mutation_type),
            ("subscription", schema.subscription_type),
        )
        if root is not None
    }
    api_schema = build_api_schema(sdl, links)
    costs = read_cost_directives(document, links)
    access = read_access_rules(document, links)
    return Supergraph(api_schema, schema, subgraphs, types, root_types, costs, access)


# The features linked ``for: SECURITY`` or ``for: EXECUTION`` this gateway implements, by
# spec name and major version (the link spec's compatibility rule: a v0.x version is
# compatible only with itself, a v1.x and later with every later minor).
IMPLEMENTED_FEATURES: dict[str, tuple[str, ...]] = {
    "link": ("v1.0",),
    "join": ("v0.1", "v0.2", "v0.3", "v0.4", "v0.5"),
    "inaccessible": ("v0.1", "v0.2"),
    # Enforced by the gateway before it plans (gateway/authorization.py).
    "authenticated": ("v0.1",),
    "requiresScopes": ("v0.1",),
    "policy": ("v0.1",),
}


def _refuse_unenforced_features(links: Links) -> None:
    """A feature that decides who may see what (SECURITY) or how to run a query
    (EXECUTION) cannot be ignored: serving the schema without it would expose data it
    protects or return wrong answers. Such a schema is refused at load, naming the
    feature, as the link spec asks of a gateway that does not implement it."""
    for feature in links.features:
        if feature.purpose not in ("SECURITY", "EXECUTION"):
            continue
        if feature.version not in IMPLEMENTED_FEATURES.get(feature.name, ()):
            raise SupergraphError(
                f"the supergraph links {feature.url} for {feature.purpose}, which this "
                "gateway does not implement; it will not serve a schema whose "
                f"{feature.purpose.lower()} it cannot enforce"
            )


def parse_field_set(fields: str) -> SelectionSetNode:
    operation = parse("{" + fields + "}", no_location=True).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return operation.selection_set


def _read_subgraphs(document: DocumentNode, links: Links) -> dict[str, Subgraph]:
    graph_enum = links.join_name("Graph")
    subgraphs: dict[str, Subgraph] = {}
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == graph_enum:
            for value in definition.values or ():
                for directive in _directives(value.directives, links.join_name("graph")):
                    args = _arguments(directive)
                    name = str(args["name"])
                    subgraphs[name] = Subgraph(name, str(args.get("url") or ""), value.name.value)
    if not subgraphs:
        raise SupergraphError(f"the supergraph declares no subgraphs (enum {graph_enum})")
    return subgraphs


def _read_types(
    document: DocumentNode, links: Links, by_graph: dict[str, str]
) -> dict[str, TypeMeta]:
    join_type = links.join_name("type")
    join_field = links.join_name("field")
    join_implements = links.join_name("implements")
    join_member = links.join_name("unionMember")
    all_subgraphs = list(by_graph.values())
    types: dict[str, TypeMeta] = {}
    for definition in document.definitions:
        kind = _KINDS.get(type(definition))
        if kind is None or not isinstance(definition, TypeDefinitionNode):
            continue
        name = definition.name.value
        if links.is_machinery(name):
            continue
        meta = TypeMeta(name, kind)
        for directive in _directives(definition.directives, join_type):
            args = _arguments(directive)
            info = meta.subgraphs.setdefault(by_graph[str(args["graph"])], TypeInSubgraph())
            if args.get("key") is not None:
                key = str(args["key"])
                resolvable = args.get("resolvable", True) is not False
                info.keys.append(Key(key, parse_field_set(key), resolvable))
            info.is_interface_object = info.is_interface_object or bool(
                args.get("isInterfaceObject", False)
            )
            info.extension = info.extension or bool(args.get("extension", False))
        if not meta.subgraphs:
            meta.subgraphs = {name: TypeInSubgraph() for name in all_subgraphs}
        for directive in _directives(definition.directives, join_implements):
            args = _arguments(directive)
            meta.interfaces.setdefault(by_graph[str(args["graph"])], set()).add(
                str(args["interface"])
            )
        for directive in _directives(definition.directives, join_member):
            args = _arguments(directive)
            meta.members.setdefault(by_graph[str(args["graph"])], set()).add(str(args["member"]))
        if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for field_node in definition.fields or ():
                field_meta = FieldMeta(name, field_node.name.value)
                field_directives = _directives(field_node.directives, join_field)
                for directive in field_directives:
                    args = _arguments(directive)
                    if args.get("graph") is None:
                        continue
                    field_meta.subgraphs[by_graph[str(args["graph"])]] = FieldInSubgraph(
                        external=bool(args.get("external", False)),
                        requires=_field_set(args.get("requires")),
                        provides=_field_set(args.get("provides")),
                        type=_optional_str(args.get("type")),
                        override=_optional_str(args.get("override")),
                        override_label=_optional_str(args.get("overrideLabel")),
                        used_overridden=bool(args.get("usedOverridden", False)),
                    )
                if not field_directives:
                    field_meta.subgraphs = {s: FieldInSubgraph() for s in meta.subgraphs}
                meta.fields[field_meta.name] = field_meta
        types[name] = meta
    return types


def _apply_overrides(types: dict[str, TypeMeta]) -> None:
    """An overridden subgraph no longer resolves the field (progressive labels included)."""
    for meta in types.values():
        for field_meta in meta.fields.values():
            overridden = {info.override for info in field_meta.subgraphs.values() if info.override}
            field_meta.resolvers = tuple(
                name
                for name, info in field_meta.subgraphs.items()
                if not info.external and not info.used_overridden and name not in overridden
            )


def _reverse_implementations(types: dict[str, TypeMeta]) -> None:
    for meta in types.values():
        for subgraph, interfaces in meta.interfaces.items():
            for interface in interfaces:
                if interface in types:
                    types[interface].implementations.setdefault(subgraph, set()).add(meta.name)


def _infer_memberships(types: dict[str, TypeMeta], schema: GraphQLSchema) -> None:
    """Older join specs lack join__implements/unionMember: infer them from type presence."""
    has_implements = any(meta.interfaces for meta in types.values())
    has_members = any(meta.members for meta in types.values())
    if has_implements and has_members:
        return
    for meta in types.values():
        if meta.kind == "union" and not has_members:
            union = schema.get_type(meta.name)
            assert isinstance(union, GraphQLUnionType)
            for member in union.types:
                for subgraph in types[member.name].subgraphs:
                    if subgraph in meta.subgraphs:
                        meta.members.setdefault(subgraph, set()).add(member.name)
        elif meta.kind in ("object", "interface") and not has_implements:
            implementer = schema.get_type(meta.name)
            assert isinstance(implementer, GraphQLObjectType | GraphQLInterfaceType)
            for interface in implementer.interfaces:
                for subgraph in meta.subgraphs:
                    if subgraph in types[interface.name].subgraphs:
                        meta.interfaces.setdefault(subgraph, set()).add(interface.name)


def _directives(directives: tuple[DirectiveNode, ...] | None, name: str) -> list[DirectiveNode]:
    return [d for d in directives or () if d.name.value == name]


def _arguments(directive: DirectiveNode) -> dict[str, Any]:
    return {arg.name.value: _value(arg) for arg in directive.arguments or ()}


def _value(argument: ArgumentNode) -> Any:
    value = argument.value
    if isinstance(value, StringValueNode | EnumValueNode):
        return value.value
    if isinstance(value, BooleanValueNode):
        return value.value
    return None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _field_set(value: Any) -> SelectionSetNode | None:
    return None if value is None else parse_field_set(str(value))
