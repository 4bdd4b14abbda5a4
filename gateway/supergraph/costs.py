"""The supergraph's ``@cost`` and ``@listSize`` directives (cost spec v0.1, as Apollo's
composition links them: ``@link(url: "https://specs.apollo.dev/cost/v0.1", import:
["@cost", "@listSize"])``), read into plain data for demand control."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    BooleanValueNode,
    ConstDirectiveNode,
    DocumentNode,
    FieldDefinitionNode,
    InputValueDefinitionNode,
    IntValueNode,
    ListValueNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
)

from gateway.supergraph.links import Links
from gateway.supergraph.nodes import arguments_of, fields_of


@dataclass(frozen=True, slots=True)
class ListSize:
    """How long a list field's answer may be (the IBM cost spec's ``@listSize``)."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()
    require_one_slicing_argument: bool = True


@dataclass(slots=True)
class CostDirectives:
    type_weights: dict[str, int] = field(default_factory=dict)
    field_weights: dict[tuple[str, str], int] = field(default_factory=dict)
    argument_weights: dict[tuple[str, str, str], int] = field(default_factory=dict)
    list_sizes: dict[tuple[str, str], ListSize] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.type_weights or self.field_weights or self.argument_weights or self.list_sizes
        )


def read_cost_directives(document: DocumentNode, links: Links) -> CostDirectives:
    found = CostDirectives()
    cost, list_size = links.cost_name("cost"), links.cost_name("listSize")
    if cost is None and list_size is None:
        return found
    for definition in document.definitions:
        if not isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            continue
        type_name = definition.name.value
        weight = _weight(definition.directives, cost)
        if weight is not None:
            found.type_weights[type_name] = weight
        for field_node in fields_of(definition):
            weight = _weight(field_node.directives, cost)
            if weight is not None:
                found.field_weights[(type_name, field_node.name.value)] = weight
            sized = _list_size(field_node, list_size)
            if sized is not None:
                found.list_sizes[(type_name, field_node.name.value)] = sized
            for argument in arguments_of(field_node):
                weight = _weight(argument.directives, cost)
                if weight is not None:
                    key = (type_name, field_node.name.value, argument.name.value)
                    found.argument_weights[key] = weight
    return found


def _weight(directives: tuple[ConstDirectiveNode, ...] | None, name: str | None) -> int | None:
    for directive in directives or ():
        if directive.name.value != name:
            continue
        for argument in directive.arguments or ():
            if argument.name.value == "weight" and isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
    return None


def _list_size(
    node: FieldDefinitionNode | InputValueDefinitionNode, name: str | None
) -> ListSize | None:
    for directive in node.directives or ():
        if directive.name.value != name:
            continue
        values = {argument.name.value: argument.value for argument in directive.arguments or ()}
        assumed = values.get("assumedSize")
        require = values.get("requireOneSlicingArgument")
        return ListSize(
            assumed_size=int(assumed.value) if isinstance(assumed, IntValueNode) else None,
            slicing_arguments=_strings(values.get("slicingArguments")),
            sized_fields=_strings(values.get("sizedFields")),
            require_one_slicing_argument=require.value
            if isinstance(require, BooleanValueNode)
            else True,
        )
    return None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, ListValueNode):
        return tuple(v.value for v in value.values if isinstance(v, StringValueNode))
    if isinstance(value, StringValueNode):
        return (value.value,)
    return ()
