"""Who may see what, as the supergraph says with Apollo's access-control directives.

``@authenticated`` (a caller with credentials), ``@requiresScopes(scopes: [[...]])`` and
``@policy(policies: [[...]])`` put a requirement on a field or on a type (and so on every
field that returns it). Scopes and policies are written as alternatives of sets: ``[["a",
"b"], ["c"]]`` is met by a caller holding a and b, or c. Composition keeps them in the
supergraph, linked ``for: SECURITY``; this reads them into plain data for the gateway to
enforce before it plans an operation.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from graphql import (
    ConstDirectiveNode,
    DocumentNode,
    ListValueNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    ValueNode,
)

from gateway.supergraph.links import Links
from gateway.supergraph.nodes import directives_of, fields_of

# Alternatives of sets: met when every member of one set is held.
Alternatives = tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a caller needs to see one field: credentials, scopes, policies (each empty
    when not required)."""

    authenticated: bool = False
    scopes: Alternatives = ()
    policies: Alternatives = ()

    def __bool__(self) -> bool:
        return self.authenticated or bool(self.scopes) or bool(self.policies)

    def met_by(
        self, *, authenticated: bool, scopes: frozenset[str], policies: frozenset[str]
    ) -> bool:
        if self.authenticated and not authenticated:
            return False
        if self.scopes and not any(needed <= scopes for needed in self.scopes):
            return False
        return not self.policies or any(needed <= policies for needed in self.policies)

    def and_(self, other: Requirement) -> Requirement:
        """Both requirements at once (a field's own and its type's)."""
        return Requirement(
            self.authenticated or other.authenticated,
            _both(self.scopes, other.scopes),
            _both(self.policies, other.policies),
        )


def _both(first: Alternatives, second: Alternatives) -> Alternatives:
    if not first:
        return second
    if not second:
        return first
    return tuple(dict.fromkeys(a | b for a, b in itertools.product(first, second)))


@dataclass(slots=True)
class AccessRules:
    types: dict[str, Requirement] = field(default_factory=dict)
    fields: dict[tuple[str, str], Requirement] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.types or self.fields)

    def for_field(self, parent: str, name: str, returns: str) -> Requirement:
        """What selecting ``parent.name`` (of type ``returns``) needs."""
        own = self.fields.get((parent, name), _NONE)
        of_type = self.types.get(returns, _NONE)
        return own.and_(of_type) if of_type else own


_NONE = Requirement()


def read_access_rules(document: DocumentNode, links: Links) -> AccessRules:
    rules = AccessRules()
    if not links.security:
        return rules
    names = {local: spec for spec, local in links.security.items()}
    for definition in document.definitions:
        if not isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            continue
        type_name = definition.name.value
        on_type = _requirement(directives_of(definition), names)
        if on_type:
            rules.types[type_name] = rules.types.get(type_name, _NONE).and_(on_type)
        for field_node in fields_of(definition):
            on_field = _requirement(directives_of(field_node), names)
            if on_field:
                rules.fields[(type_name, field_node.name.value)] = on_field
    return rules


def _requirement(directives: tuple[ConstDirectiveNode, ...], names: dict[str, str]) -> Requirement:
    found = _NONE
    for directive in directives:
        spec = names.get(directive.name.value)
        if spec is not None:
            found = found.and_(requirement_of(spec, directive))
    return found


def requirement_of(spec: str, directive: ConstDirectiveNode) -> Requirement:
    """What one ``@authenticated``, ``@requiresScopes`` or ``@policy`` requires."""
    if spec == "authenticated":
        return Requirement(authenticated=True)
    if spec == "requiresScopes":
        return Requirement(scopes=_alternatives(directive, "scopes"))
    if spec == "policy":
        return Requirement(policies=_alternatives(directive, "policies"))
    return _NONE


def printed(requirement: Requirement) -> list[str]:
    """The directives that state ``requirement``, as a supergraph writes them."""
    directives = []
    if requirement.authenticated:
        directives.append("@authenticated")
    if requirement.scopes:
        directives.append(f"@requiresScopes(scopes: {_printed(requirement.scopes)})")
    if requirement.policies:
        directives.append(f"@policy(policies: {_printed(requirement.policies)})")
    return directives


def _printed(alternatives: Alternatives) -> str:
    return json.dumps([sorted(alternative) for alternative in alternatives])


def _alternatives(directive: ConstDirectiveNode, argument: str) -> Alternatives:
    value: ValueNode | None = next(
        (a.value for a in directive.arguments or () if a.name.value == argument), None
    )
    if not isinstance(value, ListValueNode):
        return ()
    alternatives = []
    for alternative in value.values:
        members = alternative.values if isinstance(alternative, ListValueNode) else (alternative,)
        alternatives.append(frozenset(m.value for m in members if isinstance(m, StringValueNode)))
    # An empty alternative would be met by anyone: ``[[]]`` requires nothing.
    return tuple(dict.fromkeys(alternatives))
