"""The schema's ``@link`` imports: which names belong to which spec.

Apollo's specs (link, join, inaccessible, tag, authenticated, ...) are machinery: the API
schema drops their definitions and applications. Names follow ``as:`` and ``import:``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumValueNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    ValueNode,
)

_APOLLO_SPECS = "https://specs.apollo.dev/"
# Apollo's access-control specs, each with one directive named like it.
SECURITY_SPECS = ("authenticated", "requiresScopes", "policy")


@dataclass(frozen=True, slots=True)
class LinkedFeature:
    """One ``@link``: the spec's URL, its name and version, and what it is ``for``."""

    url: str
    name: str
    version: str
    purpose: str | None
    """``SECURITY`` or ``EXECUTION``: a gateway that does not implement such a feature
    must refuse the schema rather than ignore it."""


@dataclass(slots=True)
class Links:
    join: str | None = None
    """The prefix under which the join spec is linked (normally ``join``)."""
    inaccessible: str = "inaccessible"
    machinery_prefixes: set[str] = field(default_factory=lambda: {"link"})
    machinery_names: set[str] = field(default_factory=set)
    """Imported names (directives with ``@``) that belong to Apollo's specs."""
    cost: str | None = None
    """The prefix under which the cost spec is linked, if it is."""
    cost_imports: dict[str, str] = field(default_factory=dict)
    """Cost directives imported under a name of their own: ``cost`` -> ``cost``."""
    features: list[LinkedFeature] = field(default_factory=list)
    """Every ``@link`` of the schema, Apollo's or anyone's."""
    security: dict[str, str] = field(default_factory=dict)
    """The access-control specs linked (``authenticated``, ``requiresScopes``, ``policy``),
    by spec name: the name their directive goes by in this schema."""

    def cost_name(self, directive: str) -> str | None:
        """The name the cost spec's ``directive`` goes by in this schema, if linked."""
        if self.cost is None:
            return None
        if directive in self.cost_imports:
            return self.cost_imports[directive]
        # A spec's directive named like the spec goes by the prefix alone.
        return self.cost if directive == "cost" else f"{self.cost}__{directive}"

    def join_name(self, name: str, sigil: str = "") -> str:
        return f"{sigil}{self.join}__{name}"

    def is_machinery(self, name: str) -> bool:
        """True for a type that belongs to a linked Apollo spec (``join__Graph``, ...)."""
        if name in self.machinery_names:
            return True
        prefix, separator, _ = name.partition("__")
        return bool(separator) and prefix in self.machinery_prefixes

    def is_machinery_directive(self, name: str) -> bool:
        return (
            name in self.machinery_prefixes
            or self.is_machinery(name)
            or ("@" + name in self.machinery_names)
        )


def read_links(document: DocumentNode) -> Links:
    links = Links()
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value == "link":
                _read_link(directive, links)
    return links


def _read_link(directive: DirectiveNode, links: Links) -> None:
    url = alias = purpose = None
    imports: list[tuple[str, str]] = []
    for argument in directive.arguments or ():
        name = argument.name.value
        if name == "url" and isinstance(argument.value, StringValueNode):
            url = argument.value.value
        elif name == "as" and isinstance(argument.value, StringValueNode):
            alias = argument.value.value
        elif name == "import":
            imports = _imports(argument.value)
        elif name == "for" and isinstance(argument.value, EnumValueNode | StringValueNode):
            purpose = argument.value.value
    if url is None:
        return
    links.features.append(_feature(url, purpose))
    if not url.startswith(_APOLLO_SPECS):
        return
    spec = url[len(_APOLLO_SPECS) :].rstrip("/").split("/")[0]
    prefix = alias or spec
    links.machinery_prefixes.add(prefix)
    if spec == "join":
        links.join = prefix
    elif spec == "inaccessible":
        links.inaccessible = prefix
    elif spec == "cost":
        links.cost = prefix
    elif spec in SECURITY_SPECS:
        # The spec's one directive is named like the spec: it goes by the prefix alone,
        # or by the name it is imported as.
        links.security[spec] = prefix
    for original, local in imports:
        if spec in SECURITY_SPECS and original == f"@{spec}":
            links.security[spec] = local.lstrip("@")
        links.machinery_names.add(local)
        if original == "@inaccessible":
            links.inaccessible = local.lstrip("@")
        if spec == "cost" and original.startswith("@"):
            links.cost_imports[original[1:]] = local.lstrip("@")


def _feature(url: str, purpose: str | None) -> LinkedFeature:
    """The feature a link URL names: ``https://specs.apollo.dev/join/v0.3`` is ``join``
    at ``v0.3`` (the spec's last two path segments, as the link spec defines them)."""
    parts = url.split("?")[0].rstrip("/").split("/")
    version = parts[-1] if len(parts) > 1 and parts[-1].startswith("v") else ""
    name = parts[-2] if version else parts[-1]
    return LinkedFeature(url, name, version, purpose)


def _imports(value: ValueNode) -> list[tuple[str, str]]:
    imports: list[tuple[str, str]] = []
    if not isinstance(value, ListValueNode):
        return imports
    for item in value.values:
        if isinstance(item, StringValueNode):
            imports.append((item.value, item.value))
        elif isinstance(item, ObjectValueNode):
            fields = {
                f.name.value: f.value.value
                for f in item.fields
                if isinstance(f.value, StringValueNode)
            }
            if "name" in fields:
                imports.append((fields["name"], fields.get("as", fields["name"])))
    return imports
