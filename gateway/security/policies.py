"""The ``@policy`` the gateway evaluates itself: ``location``.

A store associate's tool is a client with ``locations`` (the stores it serves). A field
under ``@policy(policies: [["location"]])`` answers about one location, named by its
``locationId`` argument; the caller meets the policy for that field when:

- it is not confined to locations: a client that serves no particular location (a web
  shop, a partner, the anonymous catalogue reader) is bound by its scopes alone;
- it holds the ``operator`` scope, which reaches every location;
- or the location the field asks for, written in the document or passed in a variable,
  is one of its own.

A confined caller asking without a location (the argument left out or null, or a field
that has none and so spans many locations) does not meet it. Apollo Router leaves a
policy's verdict to a coprocessor; its effect is the same here: a field whose policy is
not met is removed, answering null with ``UNAUTHORIZED_FIELD_OR_TYPE``.

The verdict depends on the request's variables, so it is worked out per request; what is
cached is the operation cut for each set of verdicts (``authorization.Protected``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    IntValueNode,
    OperationDefinitionNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from gateway.security.clients import Caller

LOCATION_POLICY = "location"
LOCATION_ARGUMENT = "locationId"
# The scope that holds every right (the subgraphs' ``adapters/graphql/access.py`` names it
# too; the gateway imports none of their code).
OPERATOR_SCOPE = "operator"


@dataclass(frozen=True, slots=True)
class AskedLocation:
    """The location one field asks for, as the document writes it: a literal, or the
    variable that holds it (and that variable's default). All None: it asks for none."""

    literal: str | None = None
    variable: str | None = None
    default: str | None = None

    def value(self, variables: Mapping[str, Any] | None) -> str | None:
        if self.variable is None:
            return self.literal
        if variables is not None and self.variable in variables:
            return _location(variables[self.variable])
        return self.default


NO_LOCATION = AskedLocation()


def asked_location(node: FieldNode, defaults: Mapping[str, str | None]) -> AskedLocation:
    """What ``node``'s ``locationId`` argument asks for; ``defaults`` are the operation's
    variables' default values."""
    for argument in node.arguments or ():
        if argument.name.value == LOCATION_ARGUMENT:
            value = argument.value
            if isinstance(value, VariableNode):
                name = value.name.value
                return AskedLocation(variable=name, default=defaults.get(name))
            return AskedLocation(literal=_literal(value))
    return NO_LOCATION


def variable_defaults(operation: OperationDefinitionNode) -> dict[str, str | None]:
    return {
        definition.variable.name.value: _literal(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }


def met_policies(
    caller: Caller | None, asked: AskedLocation, variables: Mapping[str, Any] | None
) -> frozenset[str]:
    """The policies ``caller`` meets for one field that asks for ``asked``."""
    granted = frozenset() if caller is None else caller.policies
    if may_see(caller, asked.value(variables)):
        return granted | {LOCATION_POLICY}
    return granted


def may_see(caller: Caller | None, location: str | None) -> bool:
    if caller is None or not caller.client.locations or OPERATOR_SCOPE in caller.scopes:
        return True
    return location is not None and location in caller.client.locations


def _literal(value: ValueNode | None) -> str | None:
    # null, a list or an object names no location.
    if isinstance(value, StringValueNode | IntValueNode):
        return value.value
    return None


def _location(value: Any) -> str | None:
    # An ID variable may be sent as a string or an integer; anything else will not
    # coerce, and names no location.
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
