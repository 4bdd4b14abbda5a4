"""The API schema: what clients see of a supergraph.

Derived from the supergraph SDL by dropping Apollo's spec machinery (definitions and
applications of link/join/tag/...) and every ``@inaccessible`` element. Working on the AST
keeps it one cheap pass; graphql-core then builds the schema. The gateway adds ``@defer``
(it plans and runs deferred fragments), with the definition Apollo Router gives it.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    FieldDefinitionNode,
    GraphQLSchema,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
    parse,
)

from gateway.supergraph.links import Links
from gateway.supergraph.nodes import (
    MemberNode,
    TypeDeclaration,
    arguments_of,
    fields_of,
    interfaces_of,
    members_of,
    values_of,
    with_changes,
)

_DEFER = parse(
    "directive @defer(label: String, if: Boolean! = true) on FRAGMENT_SPREAD | INLINE_FRAGMENT",
    no_location=True,
).definitions[0]


def build_api_schema(sdl: str, links: Links) -> GraphQLSchema:
    document = parse(sdl, no_location=True)
    inaccessible = _inaccessible_types(document, links)
    definitions: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            definition = with_changes(
                definition,
                directives=(),
                operation_types=tuple(
                    op
                    for op in definition.operation_types
                    if op.type.name.value not in inaccessible
                ),
            )
        elif isinstance(definition, SchemaExtensionNode):
            continue
        elif isinstance(definition, DirectiveDefinitionNode):
            if links.is_machinery_directive(definition.name.value):
                continue
        elif isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            name = definition.name.value
            if name in inaccessible or links.is_machinery(name):
                continue
            definition = _strip_type(definition, links, inaccessible)
        definitions.append(definition)
    if not any(
        isinstance(d, DirectiveDefinitionNode) and d.name.value == "defer" for d in definitions
    ):
        definitions.append(_DEFER)
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


def _inaccessible_types(document: DocumentNode, links: Links) -> set[str]:
    return {
        definition.name.value
        for definition in document.definitions
        if isinstance(definition, TypeDefinitionNode)
        and _is_inaccessible(definition.directives, links)
    }


def _is_inaccessible(directives: tuple[DirectiveNode, ...] | None, links: Links) -> bool:
    return any(d.name.value == links.inaccessible for d in directives or ())


def _kept_directives(
    directives: tuple[DirectiveNode, ...] | None, links: Links
) -> tuple[DirectiveNode, ...]:
    return tuple(d for d in directives or () if not links.is_machinery_directive(d.name.value))


def _strip_type(
    definition: TypeDeclaration, links: Links, inaccessible: set[str]
) -> TypeDeclaration:
    changes: dict[str, Any] = {"directives": _kept_directives(definition.directives, links)}
    interfaces = interfaces_of(definition)
    if interfaces:
        changes["interfaces"] = tuple(i for i in interfaces if i.name.value not in inaccessible)
    members = members_of(definition)
    if members:
        changes["types"] = tuple(t for t in members if t.name.value not in inaccessible)
    fields = fields_of(definition)
    if fields:
        changes["fields"] = tuple(
            with_changes(field, **_stripped_member(field, links))
            for field in fields
            if not _is_inaccessible(field.directives, links)
        )
    values = values_of(definition)
    if values:
        changes["values"] = tuple(
            with_changes(value, **_stripped_member(value, links))
            for value in values
            if not _is_inaccessible(value.directives, links)
        )
    stripped: TypeDeclaration = with_changes(definition, **changes)
    return stripped


def _stripped_member(member: MemberNode, links: Links) -> dict[str, Any]:
    changes: dict[str, Any] = {"directives": _kept_directives(member.directives, links)}
    if isinstance(member, FieldDefinitionNode) and member.arguments:
        changes["arguments"] = tuple(
            with_changes(a, directives=_kept_directives(a.directives, links))
            for a in arguments_of(member)
            if not _is_inaccessible(a.directives, links)
        )
    return changes
