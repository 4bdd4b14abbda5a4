"""What the mocks need to know of a subgraph's SDL: its schema and federation directives.

Read straight from the SDL the subgraph serves (``_service { sdl }``), never from the
supergraph, so that the mocks do not share the gateway's reading of join metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    build_ast_schema,
    parse,
)

_ObjectLike = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
)


@dataclass(frozen=True, slots=True)
class Key:
    fields: str
    resolvable: bool


@dataclass
class SubgraphSdl:
    name: str
    sdl: str
    schema: GraphQLSchema
    keys: dict[str, list[Key]] = field(default_factory=dict)
    interface_objects: set[str] = field(default_factory=set)
    entity_interfaces: set[str] = field(default_factory=set)
    # (type, field) -> its @requires / @provides field set.
    requires: dict[tuple[str, str], str] = field(default_factory=dict)
    provides: dict[tuple[str, str], str] = field(default_factory=dict)
    external: set[tuple[str, str]] = field(default_factory=set)

    def entity_types(self) -> list[str]:
        """Object types ``_entities`` answers for (an @interfaceObject is an object here)."""
        return sorted(
            name
            for name, keys in self.keys.items()
            if any(k.resolvable for k in keys) and name not in self.entity_interfaces
        )


def read_subgraph(name: str, sdl: str) -> SubgraphSdl:
    document = parse(sdl)
    read = SubgraphSdl(name=name, sdl=sdl, schema=GraphQLSchema())
    for definition in document.definitions:
        if isinstance(definition, _ObjectLike):
            _read_type(read, definition)
    read.schema = _executable_schema(sdl, document, read.entity_types())
    return read


def _read_type(
    read: SubgraphSdl,
    definition: ObjectTypeDefinitionNode
    | ObjectTypeExtensionNode
    | InterfaceTypeDefinitionNode
    | InterfaceTypeExtensionNode,
) -> None:
    type_name = definition.name.value
    for directive in definition.directives or ():
        if directive.name.value == "key":
            arguments = _arguments(directive)
            read.keys.setdefault(type_name, []).append(
                Key(str(arguments["fields"]), arguments.get("resolvable", True) is not False)
            )
            if isinstance(definition, InterfaceTypeDefinitionNode | InterfaceTypeExtensionNode):
                read.entity_interfaces.add(type_name)
        elif directive.name.value == "interfaceObject":
            read.interface_objects.add(type_name)
    for field_node in definition.fields or ():
        where = (type_name, field_node.name.value)
        for directive in field_node.directives or ():
            arguments = _arguments(directive)
            if directive.name.value == "requires":
                read.requires[where] = str(arguments["fields"])
            elif directive.name.value == "provides":
                read.provides[where] = str(arguments["fields"])
            elif directive.name.value == "external":
                read.external.add(where)


def top_level_fields(field_set: str) -> list[str]:
    """The top-level field names of a field set such as ``sku variant { code }``."""
    selection = parse("{" + field_set + "}").definitions[0]
    return [
        s.name.value
        for s in selection.selection_set.selections  # type: ignore[attr-defined]
        if isinstance(s, FieldNode)
    ]


def _executable_schema(sdl: str, document: DocumentNode, entities: list[str]) -> GraphQLSchema:
    defined = {
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, TypeDefinitionNode)
    }
    extra = [] if "_Service" in defined else ["scalar _Any", "type _Service { sdl: String }"]
    query_fields = ["_service: _Service!"]
    if entities and "_Entity" not in defined:
        extra.append(f"union _Entity = {' | '.join(entities)}")
        query_fields.append("_entities(representations: [_Any!]!): [_Entity]!")
    if "Query" in defined:
        extra.append("extend type Query { " + " ".join(query_fields) + " }")
    else:
        extra.append("type Query { " + " ".join(query_fields) + " }")
    return build_ast_schema(parse(sdl + "\n" + "\n".join(extra)), assume_valid_sdl=True)


def _arguments(directive: DirectiveNode) -> dict[str, object]:
    values: dict[str, object] = {}
    for argument in directive.arguments or ():
        value = argument.value
        if isinstance(value, StringValueNode | BooleanValueNode):
            values[argument.name.value] = value.value
    return values
