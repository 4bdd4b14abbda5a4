"""The parts of SDL type nodes, whatever kind of definition or extension holds them.

graphql-core gives each kind of type its own node class (objects and interfaces have
fields and interfaces, unions members, enums values, input objects input fields); these
read them with the node's real type checked.
"""

from __future__ import annotations

import copy
from typing import Any

from graphql import (
    ConstDirectiveNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    EnumValueDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
)

TypeDeclaration = TypeDefinitionNode | TypeExtensionNode
# Everything of a type that can carry directives and a description.
MemberNode = FieldDefinitionNode | InputValueDefinitionNode | EnumValueDefinitionNode
_WITH_FIELDS = (
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
)
_WITH_INPUT_FIELDS = (InputObjectTypeDefinitionNode, InputObjectTypeExtensionNode)


def fields_of(node: TypeDeclaration) -> tuple[FieldDefinitionNode | InputValueDefinitionNode, ...]:
    """An object's or interface's fields, or an input object's input fields."""
    if isinstance(node, (*_WITH_FIELDS, *_WITH_INPUT_FIELDS)):
        return tuple(node.fields or ())
    return ()


def interfaces_of(node: TypeDeclaration) -> tuple[NamedTypeNode, ...]:
    if isinstance(node, _WITH_FIELDS):
        return tuple(node.interfaces or ())
    return ()


def members_of(node: TypeDeclaration) -> tuple[NamedTypeNode, ...]:
    """A union's member types."""
    if isinstance(node, UnionTypeDefinitionNode | UnionTypeExtensionNode):
        return tuple(node.types or ())
    return ()


def values_of(node: TypeDeclaration) -> tuple[EnumValueDefinitionNode, ...]:
    """An enum's values."""
    if isinstance(node, EnumTypeDefinitionNode | EnumTypeExtensionNode):
        return tuple(node.values or ())
    return ()


def arguments_of(
    node: FieldDefinitionNode | InputValueDefinitionNode,
) -> tuple[InputValueDefinitionNode, ...]:
    """A field's arguments (an input field has none)."""
    if isinstance(node, FieldDefinitionNode):
        return tuple(node.arguments or ())
    return ()


def directives_of(node: TypeDeclaration | MemberNode) -> tuple[ConstDirectiveNode, ...]:
    return tuple(node.directives or ())


def description_of(node: TypeDeclaration | MemberNode) -> StringValueNode | None:
    """A definition's description (an extension has none)."""
    if isinstance(node, TypeExtensionNode):
        return None
    return node.description


def with_changes(node: Any, **changes: Any) -> Any:
    """A copy of an AST node with some attributes changed (graphql-core's nodes may be
    frozen, so they are set past their guard)."""
    copied = copy.copy(node)
    for name, value in changes.items():
        object.__setattr__(copied, name, value)
    return copied
