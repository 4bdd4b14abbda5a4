"""Printing the supergraph in the shape of Apollo's composition output.

Link v1.0 and join v0.3 ``for: EXECUTION`` (plus inaccessible v0.2 when used), the spec
definitions, then every definition sorted case-insensitively by name, as Apollo's tools
print it. Fields keep their first-seen order, subgraphs taken by name, so the output is
stable for a drift test. A definition whose directives do not fit on an 80-column line
puts each directive on its own line.
"""

from __future__ import annotations

import json
import re

from graphql.language.block_string import print_block_string

from gateway.supergraph.access import printed
from gateway.supergraph.compose.model import MergedField, MergedType, Supergraph

_WIDTH = 80

_SPEC_DIRECTIVES = {
    "join__enumValue": "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE",
    "join__field": """directive @join__field(
  graph: join__Graph
  requires: join__FieldSet
  provides: join__FieldSet
  type: String
  external: Boolean
  override: String
  usedOverridden: Boolean
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION""",
    "join__graph": "directive @join__graph(name: String!, url: String!) on ENUM_VALUE",
    "join__implements": """directive @join__implements(
  graph: join__Graph!
  interface: String!
) repeatable on OBJECT | INTERFACE""",
    "join__type": """directive @join__type(
  graph: join__Graph!
  key: join__FieldSet
  extension: Boolean! = false
  resolvable: Boolean! = true
  isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR""",
    "join__unionMember": """directive @join__unionMember(
  graph: join__Graph!
  member: String!
) repeatable on UNION""",
    "link": """directive @link(
  url: String
  as: String
  for: link__Purpose
  import: [link__Import]
) repeatable on SCHEMA""",
}
_INACCESSIBLE = (
    "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | "
    "ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
_TAG = (
    "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | "
    "UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | "
    "INPUT_FIELD_DEFINITION | SCHEMA"
)
_COST = (
    "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | "
    "INPUT_FIELD_DEFINITION | OBJECT | SCALAR"
)
_LIST_SIZE = """directive @listSize(
  assumedSize: Int
  slicingArguments: [String!]
  sizedFields: [String!]
  requireOneSlicingArgument: Boolean = true
) on FIELD_DEFINITION"""
_ACCESS_LOCATIONS = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
_ACCESS_DIRECTIVES = {
    "authenticated": f"directive @authenticated on {_ACCESS_LOCATIONS}",
    "requiresScopes": (
        "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on " + _ACCESS_LOCATIONS
    ),
    "policy": f"directive @policy(policies: [[policy__Policy!]!]!) on {_ACCESS_LOCATIONS}",
}
_SPEC_TYPES = {
    "join__FieldSet": "scalar join__FieldSet",
    "link__Import": "scalar link__Import",
    "link__Purpose": '''enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}''',
}


def graph_enum_values(names: list[str]) -> dict[str, str]:
    """Subgraph name -> its join__Graph value (upper case, unique, a valid name)."""
    values: dict[str, str] = {}
    for name in names:
        value = re.sub(r"\W", "_", name).upper()
        if value[:1].isdigit():
            value = "_" + value
        candidate, suffix = value, 1
        while candidate in values.values():
            suffix += 1
            candidate = f"{value}_{suffix}"
        values[name] = candidate
    return values


def print_supergraph(supergraph: Supergraph) -> str:
    graphs = graph_enum_values(list(supergraph.subgraphs))
    printer = _Printer(graphs)
    roots = [r for r in ("Query", "Mutation", "Subscription") if r in supergraph.types]
    links = [
        '@link(url: "https://specs.apollo.dev/link/v1.0")',
        '@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)',
    ]
    directives = dict(_SPEC_DIRECTIVES)
    if supergraph.uses_inaccessible:
        links.append('@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)')
        directives["inaccessible"] = _INACCESSIBLE
    if supergraph.uses_tags:
        links.append('@link(url: "https://specs.apollo.dev/tag/v0.3")')
        directives["tag"] = _TAG
    for spec in supergraph.access_specs():
        links.append(f'@link(url: "https://specs.apollo.dev/{spec}/v0.1", for: SECURITY)')
        directives[spec] = _ACCESS_DIRECTIVES[spec]
    access_scalars = {
        f"{spec}__{kind}": f"scalar {spec}__{kind}"
        for spec, kind in (("requiresScopes", "Scope"), ("policy", "Policy"))
        if spec in directives
    }
    if supergraph.uses_cost:
        links.append(
            '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])'
        )
        directives["cost"] = _COST
        directives["listSize"] = _LIST_SIZE
    schema = "schema\n" + "".join(f"  {link}\n" for link in links)
    schema = schema.rstrip("\n") + " {\n"
    schema += "".join(f"  {root.lower()}: {root}\n" for root in roots) + "}"
    blocks = [directives[name] for name in sorted(directives, key=str.lower)]
    definitions = dict(_SPEC_TYPES) | access_scalars
    definitions["join__Graph"] = printer.graph_enum(supergraph.subgraphs)
    for name, merged in supergraph.types.items():
        definitions[name] = printer.type_definition(merged)
    blocks.extend(definitions[name] for name in sorted(definitions, key=str.lower))
    return "\n\n".join([schema, *blocks]) + "\n"


class _Printer:
    def __init__(self, graphs: dict[str, str]) -> None:
        self.graphs = graphs

    def graph_enum(self, subgraphs: dict[str, str]) -> str:
        lines = []
        for name, url in subgraphs.items():
            graph = f"@join__graph(name: {json.dumps(name)}, url: {json.dumps(url)})"
            lines.append(_with_directives(f"  {self.graphs[name]}", [graph], "  "))
        return "enum join__Graph {\n" + "\n".join(lines) + "\n}"

    def type_definition(self, merged: MergedType) -> str:
        keyword = {"object": "type", "input": "input", "enum": "enum", "scalar": "scalar"}.get(
            merged.kind, merged.kind
        )
        head = f"{keyword} {merged.name}"
        if merged.interfaces:
            head += " implements " + " & ".join(merged.interfaces)
        directives = self._type_directives(merged)
        if merged.kind == "union":
            members = " | ".join(merged.members)
            text = _with_directives(head, directives, "")
            text += f" = {members}" if members else ""
        elif merged.kind == "scalar":
            text = _with_directives(head, directives, "")
        else:
            text = _with_directives(head, directives, "", suffix=2)
            text += " {\n" + self._body(merged) + "\n}"
        return _description(merged.description, "") + text

    def _type_directives(self, merged: MergedType) -> list[str]:
        directives = []
        for subgraph, type_def in merged.sources.items():
            graph = self.graphs[subgraph]
            # Apollo marks extensions only on entities (types with a key there).
            extension = ", extension: true" if type_def.extension and type_def.keys else ""
            interface_object = ", isInterfaceObject: true" if type_def.interface_object else ""
            if not type_def.keys or merged.kind not in ("object", "interface"):
                directives.append(f"@join__type(graph: {graph}{extension}{interface_object})")
            for key in type_def.keys if merged.kind in ("object", "interface") else ():
                resolvable = (
                    f", resolvable: {str(key.resolvable).lower()}"
                    if key.resolvable_written or not key.resolvable
                    else ""
                )
                directives.append(
                    f"@join__type(graph: {graph}, key: {json.dumps(key.fields)}"
                    f"{extension}{resolvable}{interface_object})"
                )
        for interface, subgraphs in merged.interfaces.items():
            directives.extend(
                f'@join__implements(graph: {self.graphs[s]}, interface: "{interface}")'
                for s in subgraphs
            )
        for member, subgraphs in merged.members.items():
            directives.extend(
                f'@join__unionMember(graph: {self.graphs[s]}, member: "{member}")'
                for s in subgraphs
            )
        directives += _common(None, merged.inaccessible, merged.tags, merged.cost)
        directives += printed(merged.access)
        return directives

    def _body(self, merged: MergedType) -> str:
        lines = []
        if merged.kind == "enum":
            for value in merged.values.values():
                directives = [f"@join__enumValue(graph: {self.graphs[s]})" for s in value.subgraphs]
                directives += _common(value.deprecated, value.inaccessible, value.tags)
                text = _with_directives(f"  {value.name}", directives, "  ")
                lines.append(_description(value.description, "  ") + text)
        else:
            all_sources = len(merged.sources)
            for merged_field in merged.fields.values():
                lines.append(self._field(merged_field, all_sources, merged.kind == "input"))
        # As graphql-js prints: a blank line before each described member but the first.
        return "\n".join(
            "\n" + line if i and line.lstrip().startswith('"') else line
            for i, line in enumerate(lines)
        )

    def _field(self, merged: MergedField, all_sources: int, is_input: bool) -> str:
        head = f"  {merged.name}{self._arguments(merged)}: {merged.type}"
        if merged.default is not None:
            head += f" = {merged.default}"
        directives = [] if is_input else self._join_fields(merged, all_sources)
        directives += _common(merged.deprecated, merged.inaccessible, merged.tags, merged.cost)
        if merged.list_size is not None:
            directives.append(f"@listSize({merged.list_size})")
        directives += printed(merged.access)
        return _description(merged.description, "  ") + _with_directives(head, directives, "  ")

    def _join_fields(self, merged: MergedField, all_sources: int) -> list[str]:
        if merged.from_interface_object:
            return ["@join__field"]
        special = any(
            d.external or d.requires or d.provides or d.override is not None
            for d in merged.sources.values()
        )
        needed = (
            len(merged.sources) != all_sources
            or special
            or merged.types_differ
            or merged.used_overridden
        )
        if not needed:
            return []
        directives = []
        for subgraph, definition in merged.sources.items():
            options = ""
            if definition.requires:
                options += f", requires: {json.dumps(definition.requires)}"
            if definition.provides:
                options += f", provides: {json.dumps(definition.provides)}"
            if merged.types_differ:
                options += f", type: {json.dumps(definition.type)}"
            if definition.external:
                options += ", external: true"
            if definition.override is not None:
                options += f", override: {json.dumps(definition.override)}"
            if subgraph in merged.used_overridden:
                options += ", usedOverridden: true"
            directives.append(f"@join__field(graph: {self.graphs[subgraph]}{options})")
        return directives

    def _arguments(self, merged: MergedField) -> str:
        if not merged.arguments:
            return ""
        printed = []
        for argument in merged.arguments.values():
            text = f"{argument.name}: {argument.type}"
            if argument.default is not None:
                text += f" = {argument.default}"
            text += "".join(
                f" {d}"
                for d in _common(
                    argument.deprecated, argument.inaccessible, argument.tags, argument.cost
                )
            )
            printed.append((argument.description, text))
        if any(description for description, _ in printed):
            inner = "\n".join(
                _description(description, "    ") + f"    {text}" for description, text in printed
            )
            return f"(\n{inner}\n  )"
        return "(" + ", ".join(text for _, text in printed) + ")"


def _common(
    deprecated: str | None, inaccessible: bool, tags: list[str], cost: int | None = None
) -> list[str]:
    directives = []
    if deprecated is not None:
        directives.append(
            "@deprecated"
            if deprecated == "No longer supported"
            else f"@deprecated(reason: {json.dumps(deprecated)})"
        )
    if inaccessible:
        directives.append("@inaccessible")
    directives.extend(f"@tag(name: {json.dumps(tag)})" for tag in tags)
    if cost is not None:
        directives.append(f"@cost(weight: {cost})")
    return directives


def _with_directives(head: str, directives: list[str], indent: str, suffix: int = 0) -> str:
    """``suffix``: characters that follow on the same line (`` {`` before a body)."""
    if not directives:
        return head
    one_line = head + " " + " ".join(directives)
    if len(one_line) + suffix <= _WIDTH and "\n" not in head:
        return one_line
    return head + "".join(f"\n{indent}  {d}" for d in directives)


def _description(description: str | None, indent: str) -> str:
    if not description:
        return ""
    block = print_block_string(description)
    return "".join(f"{indent}{line}\n" if line else "\n" for line in block.split("\n"))
