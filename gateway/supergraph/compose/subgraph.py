"""One subgraph's SDL, read into plain data with its federation directives resolved.

Directive names follow the subgraph's ``@link`` to the federation spec: imported names
(also renamed ones, ``{name: "@key", as: "@id"}``) and namespaced ones
(``@federation__key``) both map to the canonical name. The federation machinery that
``_service { sdl }`` may include (``_entities``, ``_Service``, ``_Any``, ...) is dropped.
"""

from __future__ import annotations

import re

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    GraphQLSyntaxError,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    IntValueNode,
    ListTypeNode,
    ListValueNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ObjectValueNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    SelectionSetNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    ValueNode,
    parse,
    print_ast,
)

from gateway.supergraph.access import requirement_of
from gateway.supergraph.compose.errors import CompositionIssue
from gateway.supergraph.compose.model import ArgumentDef, FieldDef, Key, Kind, Subgraph, TypeDef
from gateway.supergraph.links import SECURITY_SPECS
from gateway.supergraph.nodes import (
    MemberNode,
    TypeDeclaration,
    arguments_of,
    description_of,
    directives_of,
    fields_of,
    interfaces_of,
    members_of,
    values_of,
)

FEDERATION_SPEC = "https://specs.apollo.dev/federation/"
FEDERATION_DIRECTIVES = (
    "key",
    "external",
    "requires",
    "provides",
    "shareable",
    "override",
    "inaccessible",
    "tag",
    "interfaceObject",
    "extends",
    "composeDirective",
    "authenticated",
    "requiresScopes",
    "policy",
    "context",
    "fromContext",
    "cost",
    "listSize",
)
FEDERATION_1_DIRECTIVES = (
    "key",
    "external",
    "requires",
    "provides",
    "extends",
    "inaccessible",
    "tag",
)
MACHINERY_TYPES = {"_Any", "_Entity", "_Service", "FieldSet", "link__Import", "link__Purpose"}
MACHINERY_FIELDS = {"_entities", "_service"}
BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID"}
ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def read_subgraph(name: str, url: str, sdl: str) -> tuple[Subgraph, list[CompositionIssue]]:
    try:
        document = parse(sdl)
    except GraphQLSyntaxError as error:
        issue = CompositionIssue(
            "INVALID_GRAPHQL", f"[{name}] The SDL does not parse: {error.message}", (name,)
        )
        return Subgraph(name, url), [issue]
    reader = _Reader(name, document)
    subgraph = Subgraph(name, url, reader.read())
    return subgraph, reader.issues


class _Reader:
    def __init__(self, subgraph: str, document: DocumentNode) -> None:
        self.subgraph = subgraph
        self.document = document
        self.issues: list[CompositionIssue] = []
        self.directive_names: dict[str, str] = {}
        self.federation_1 = False
        self.extended: set[str] = set()
        self.root_names: dict[str, str] = {}
        self.custom_directives: set[str] = set()

    def read(self) -> dict[str, TypeDef]:
        self._read_schema()
        types: dict[str, TypeDef] = {}
        for definition in self.document.definitions:
            if not isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
                continue
            kind = _kind_of(definition)
            if kind is None:
                continue
            name = self._type_name(definition.name.value)
            if name in MACHINERY_TYPES or name.startswith(("federation__", "link__")):
                continue
            if name in BUILT_IN_SCALARS:
                continue
            existing = types.get(name)
            # Apollo's Federation 1 upgrade turns `extend type` into a definition; only
            # @extends still marks an extension there.
            syntactic = "Extension" in type(definition).__name__
            if syntactic:
                self.extended.add(name)
            is_extension = syntactic and not self.federation_1
            if existing is None:
                existing = types[name] = TypeDef(name, kind, extension=is_extension)
            elif not is_extension:
                existing.extension = False
            self._merge_definition(existing, definition)
        for type_def in types.values():
            _drop_fake_externals(type_def, type_def.extension or type_def.name in self.extended)
            if self.federation_1 and type_def.kind == "object":
                for field_def in type_def.fields.values():
                    field_def.shareable = True
        return {n: t for n, t in types.items() if t.kind != "object" or t.fields or t.keys}

    def _read_schema(self) -> None:
        for definition in self.document.definitions:
            if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
                continue
            for directive in definition.directives or ():
                if directive.name.value == "link":
                    self._read_link(directive)
            for operation in definition.operation_types or ():
                self.root_names[operation.type.name.value] = ROOTS[operation.operation.value]
        if not any(FEDERATION_SPEC in url for url in self._link_urls()):
            # Federation 1: the directives go by their plain names, and (as Apollo's
            # upgrade does) every field may be resolved by several subgraphs.
            self.federation_1 = True
            self.directive_names = {name: name for name in FEDERATION_1_DIRECTIVES}

    def _link_urls(self) -> list[str]:
        urls = []
        for definition in self.document.definitions:
            if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
                for directive in definition.directives or ():
                    url = _argument(directive, "url")
                    if directive.name.value == "link" and isinstance(url, StringValueNode):
                        urls.append(url.value)
        return urls

    def _read_link(self, directive: ConstDirectiveNode) -> None:
        url = _argument(directive, "url")
        if not isinstance(url, StringValueNode) or not url.value.startswith(FEDERATION_SPEC):
            return
        alias = _argument(directive, "as")
        namespace = alias.value if isinstance(alias, StringValueNode) else "federation"
        for canonical in FEDERATION_DIRECTIVES:
            self.directive_names[f"{namespace}__{canonical}"] = canonical
        imports = _argument(directive, "import")
        for item in imports.values if isinstance(imports, ListValueNode) else ():
            original, local = _import_names(item)
            if original.startswith("@") and original[1:] in FEDERATION_DIRECTIVES:
                self.directive_names[local.lstrip("@")] = original[1:]

    def _type_name(self, name: str) -> str:
        return self.root_names.get(name, name)

    def _type(self, node: TypeNode) -> str:
        if isinstance(node, NonNullTypeNode):
            return self._type(node.type) + "!"
        if isinstance(node, ListTypeNode):
            return f"[{self._type(node.type)}]"
        assert isinstance(node, NamedTypeNode)
        return self._type_name(node.name.value)

    def _directives(
        self, node: TypeDeclaration | MemberNode
    ) -> list[tuple[str, ConstDirectiveNode]]:
        found = []
        for directive in directives_of(node):
            canonical = self.directive_names.get(directive.name.value)
            if canonical is None and directive.name.value == "deprecated":
                canonical = "deprecated"
            if canonical is not None:
                found.append((canonical, directive))
        return found

    def _merge_definition(self, type_def: TypeDef, node: TypeDeclaration) -> None:
        description = description_of(node)
        if description is not None and type_def.description is None:
            type_def.description = description.value
        type_shareable = False
        type_external = False
        for name, directive in self._directives(node):
            if name == "key":
                fields = _argument(directive, "fields")
                resolvable = _argument(directive, "resolvable")
                if isinstance(fields, StringValueNode):
                    written = isinstance(resolvable, BooleanValueNode)
                    type_def.keys.append(
                        Key(
                            fields.value,
                            not (isinstance(resolvable, BooleanValueNode) and not resolvable.value),
                            written,
                        )
                    )
            elif name == "shareable":
                type_shareable = True
                type_def.shareable = True
            elif name == "external":
                type_external = True
            elif name == "interfaceObject":
                type_def.interface_object = True
            elif name == "inaccessible":
                type_def.inaccessible = True
            elif name == "tag":
                _add_tag(type_def.tags, directive)
            elif name == "cost":
                type_def.cost = _weight(directive)
            elif name in SECURITY_SPECS:
                type_def.access = type_def.access.and_(requirement_of(name, directive))
            elif name == "extends":
                type_def.extension = True
        for interface in interfaces_of(node):
            if interface.name.value not in type_def.interfaces:
                type_def.interfaces.append(interface.name.value)
        for member in members_of(node):
            if member.name.value not in type_def.members:
                type_def.members.append(member.name.value)
        for value in values_of(node):
            type_def.values[value.name.value] = self._enum_value(value)
        for field_node in fields_of(node):
            if field_node.name.value in MACHINERY_FIELDS:
                continue
            field_def = self._field(field_node)
            field_def.shareable = field_def.shareable or type_shareable
            field_def.external = field_def.external or type_external
            type_def.fields[field_def.name] = field_def

    def _enum_value(self, node: EnumValueDefinitionNode) -> FieldDef:
        value = FieldDef(node.name.value, "")
        description = node.description
        value.description = description.value if description is not None else None
        for name, directive in self._directives(node):
            if name == "inaccessible":
                value.inaccessible = True
            elif name == "tag":
                _add_tag(value.tags, directive)
            elif name == "deprecated":
                value.deprecated = _deprecation(directive)
        return value

    def _field(self, node: FieldDefinitionNode | InputValueDefinitionNode) -> FieldDef:
        field_def = FieldDef(node.name.value, self._type(node.type))
        if node.description is not None:
            field_def.description = node.description.value
        if isinstance(node, InputValueDefinitionNode) and node.default_value is not None:
            field_def.default = print_ast(node.default_value)
        for argument in arguments_of(node):
            field_def.arguments[argument.name.value] = self._argument(argument)
        for name, directive in self._directives(node):
            if name in ("requires", "provides"):
                fields = _argument(directive, "fields")
                value = fields.value if isinstance(fields, StringValueNode) else ""
                setattr(field_def, name, value)
            elif name == "override":
                source = _argument(directive, "from")
                field_def.override = source.value if isinstance(source, StringValueNode) else ""
            elif name == "deprecated":
                field_def.deprecated = _deprecation(directive)
            elif name in ("external", "shareable", "inaccessible"):
                setattr(field_def, name, True)
            elif name == "tag":
                _add_tag(field_def.tags, directive)
            elif name == "cost":
                field_def.cost = _weight(directive)
            elif name == "listSize":
                field_def.list_size = _list_size_arguments(directive)
            elif name in SECURITY_SPECS:
                field_def.access = field_def.access.and_(requirement_of(name, directive))
        return field_def

    def _argument(self, node: InputValueDefinitionNode) -> ArgumentDef:
        argument = ArgumentDef(node.name.value, self._type(node.type))
        if node.default_value is not None:
            argument.default = print_ast(node.default_value)
        if node.description is not None:
            argument.description = node.description.value
        for name, directive in self._directives(node):
            if name == "inaccessible":
                argument.inaccessible = True
            elif name == "tag":
                _add_tag(argument.tags, directive)
            elif name == "deprecated":
                argument.deprecated = _deprecation(directive)
            elif name == "cost":
                argument.cost = _weight(directive)
        return argument


def _weight(directive: ConstDirectiveNode) -> int | None:
    weight = _argument(directive, "weight")
    return int(weight.value) if isinstance(weight, IntValueNode) else None


def _list_size_arguments(directive: ConstDirectiveNode) -> str:
    """The directive's arguments as the supergraph prints them, the default left out."""
    printed = []
    for argument in directive.arguments or ():
        value = print_ast(argument.value)
        if value == "null" or (
            argument.name.value == "requireOneSlicingArgument" and value == "true"
        ):
            continue
        printed.append(f"{argument.name.value}: {value}")
    return ", ".join(printed)


def _add_tag(tags: list[str], directive: ConstDirectiveNode) -> None:
    name = _argument(directive, "name")
    if isinstance(name, StringValueNode) and name.value not in tags:
        tags.append(name.value)


def _drop_fake_externals(type_def: TypeDef, extended: bool) -> None:
    """``@external`` on a key field of a type extension means nothing in Federation 2.

    Apollo calls these "fake externals": the subgraph resolves the key field itself.
    """
    if not extended:
        return
    for key in type_def.keys:
        for name in re.findall(r"[_A-Za-z]\w*", key.fields.split("{")[0]):
            field_def = type_def.fields.get(name)
            if field_def is not None:
                field_def.external = False


def parse_field_set(fields: str) -> SelectionSetNode | None:
    try:
        operation = parse("{" + fields + "}").definitions[0]
    except GraphQLSyntaxError:
        return None
    return operation.selection_set  # type: ignore[attr-defined, no-any-return]


def named_type(type_string: str) -> str:
    return type_string.strip("[]!")


def _kind_of(node: object) -> Kind | None:
    kinds: dict[type, Kind] = {
        ObjectTypeDefinitionNode: "object",
        ObjectTypeExtensionNode: "object",
        InterfaceTypeDefinitionNode: "interface",
        InterfaceTypeExtensionNode: "interface",
        UnionTypeDefinitionNode: "union",
        UnionTypeExtensionNode: "union",
        EnumTypeDefinitionNode: "enum",
        EnumTypeExtensionNode: "enum",
        InputObjectTypeDefinitionNode: "input",
        InputObjectTypeExtensionNode: "input",
        ScalarTypeDefinitionNode: "scalar",
        ScalarTypeExtensionNode: "scalar",
    }
    return kinds.get(type(node))


def _argument(directive: ConstDirectiveNode, name: str) -> ValueNode | None:
    argument: ArgumentNode
    for argument in directive.arguments or ():
        if argument.name.value == name:
            return argument.value
    return None


def _deprecation(directive: ConstDirectiveNode) -> str:
    reason = _argument(directive, "reason")
    return reason.value if isinstance(reason, StringValueNode) else "No longer supported"


def _import_names(item: ValueNode) -> tuple[str, str]:
    if isinstance(item, StringValueNode):
        return item.value, item.value
    if isinstance(item, ObjectValueNode):
        values = {f.name.value: f.value for f in item.fields}
        original, alias = values.get("name"), values.get("as")
        if isinstance(original, StringValueNode):
            local = alias.value if isinstance(alias, StringValueNode) else original.value
            return original.value, local
    return "", ""
