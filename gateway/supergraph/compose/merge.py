"""Merging the subgraphs' types into one supergraph (the checks live in rules.py)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from gateway.supergraph.access import Requirement
from gateway.supergraph.compose.errors import CompositionIssue, quoted
from gateway.supergraph.compose.model import (
    ArgumentDef,
    FieldDef,
    Kind,
    MergedField,
    MergedType,
    MergedValue,
    Subgraph,
    Supergraph,
)
from gateway.supergraph.compose.subgraph import named_type
from gateway.supergraph.compose.type_refs import is_required, merge_types


def merge(subgraphs: list[Subgraph]) -> tuple[Supergraph, list[CompositionIssue]]:
    merger = _Merger(subgraphs)
    return merger.merge(), merger.issues


class _Merger:
    def __init__(self, subgraphs: list[Subgraph]) -> None:
        self.subgraphs = subgraphs
        self.issues: list[CompositionIssue] = []
        self.input_types, self.output_types = _usages(subgraphs)
        self.names = {s.name for s in subgraphs}
        self.by_name = {s.name: s for s in subgraphs}
        self.supertypes = _supertypes(subgraphs)

    def issue(self, code: str, message: str, subgraphs: list[str] | set[str]) -> None:
        self.issues.append(CompositionIssue(code, message, tuple(sorted(subgraphs))))

    def merge(self) -> Supergraph:
        supergraph = Supergraph({s.name: s.url for s in self.subgraphs})
        names = sorted({n for s in self.subgraphs for n in s.types}, key=str.lower)
        for name in names:
            merged = self._merge_type(name)
            if merged is not None:
                supergraph.types[name] = merged
        self._spread_interface_objects(supergraph)
        return supergraph

    def _spread_interface_objects(self, supergraph: Supergraph) -> None:
        """Fields an ``@interfaceObject`` adds to an interface reach its implementations.

        Apollo prints them on each implementation with a bare ``@join__field``: no
        subgraph resolves them on the object itself; the planner goes through the
        interface object's subgraph by key.
        """
        for interface in supergraph.types.values():
            objects = [s for s, t in interface.sources.items() if t.interface_object]
            if not objects:
                continue
            if not any(
                t.kind == "interface" and t.keys
                for s, t in interface.sources.items()
                if s not in objects
            ):
                self.issue(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'Type "{interface.name}" is an @interfaceObject in {quoted(objects)}, '
                    "but no subgraph defines it as an interface with a @key.",
                    objects,
                )
                continue
            added = [f for f in interface.fields.values() if set(f.sources) <= set(objects)]
            for implementation in supergraph.types.values():
                if interface.name not in implementation.interfaces:
                    continue
                for merged_field in added:
                    if merged_field.name not in implementation.fields:
                        implementation.fields[merged_field.name] = MergedField(
                            merged_field.name,
                            merged_field.type,
                            arguments=merged_field.arguments,
                            description=merged_field.description,
                            deprecated=merged_field.deprecated,
                            inaccessible=merged_field.inaccessible,
                            tags=merged_field.tags,
                            from_interface_object=True,
                            cost=merged_field.cost,
                            list_size=merged_field.list_size,
                        )

    def _merge_type(self, name: str) -> MergedType | None:
        sources = {s.name: s.types[name] for s in self.subgraphs if name in s.types}
        kinds: dict[Kind, list[str]] = defaultdict(list)
        for subgraph, type_def in sources.items():
            kinds["interface" if type_def.interface_object else type_def.kind].append(subgraph)
        if len(kinds) > 1:
            described = "; ".join(
                f"{kind} in {quoted(subgraphs)}" for kind, subgraphs in sorted(kinds.items())
            )
            self.issue(
                "TYPE_KIND_MISMATCH",
                f'Type "{name}" has different kinds in different subgraphs: {described}.',
                set(sources),
            )
            return None
        merged = MergedType(name, next(iter(kinds)), sources)
        merged.description = next((t.description for t in sources.values() if t.description), None)
        merged.inaccessible = any(t.inaccessible for t in sources.values())
        merged.tags = _tags(t.tags for t in sources.values())
        merged.cost = _highest(t.cost for t in sources.values())
        merged.access = _all_of(t.access for t in sources.values())
        if merged.kind in ("object", "interface"):
            self._merge_fields(merged)
            for subgraph, type_def in sources.items():
                for interface in type_def.interfaces:
                    merged.interfaces.setdefault(interface, []).append(subgraph)
        elif merged.kind == "input":
            self._merge_input_fields(merged)
        elif merged.kind == "union":
            for subgraph, type_def in sources.items():
                for member in type_def.members:
                    merged.members.setdefault(member, []).append(subgraph)
        elif merged.kind == "enum":
            self._merge_enum_values(merged)
        return merged

    def _merge_fields(self, merged: MergedType) -> None:
        for subgraph, type_def in merged.sources.items():
            for field_def in type_def.fields.values():
                if field_def.name not in merged.fields:
                    merged.fields[field_def.name] = MergedField(field_def.name, field_def.type)
                merged.fields[field_def.name].sources[subgraph] = field_def
        for merged_field in merged.fields.values():
            self._apply_override(merged, merged_field)
            self._merge_field(merged.name, merged_field, input_position=False)

    def _merge_field(self, type_name: str, merged: MergedField, *, input_position: bool) -> None:
        coordinate = f"{type_name}.{merged.name}"
        definitions = list(merged.sources.values())
        types = [d.type for d in definitions]
        merged_type = merge_types(types, input_position=input_position, supertypes=self.supertypes)
        if merged_type is None:
            described = "; ".join(f'"{d.type}" in "{s}"' for s, d in merged.sources.items())
            self.issue(
                "FIELD_TYPE_MISMATCH",
                f'Type of field "{coordinate}" is incompatible across subgraphs: {described}.',
                set(merged.sources),
            )
            return
        merged.type = merged_type
        merged.types_differ = len(set(types)) > 1
        merged.description = next((d.description for d in definitions if d.description), None)
        merged.deprecated = next((d.deprecated for d in definitions if d.deprecated), None)
        merged.inaccessible = any(d.inaccessible for d in definitions)
        merged.tags = _tags(d.tags for d in definitions)
        merged.cost = _highest(d.cost for d in definitions)
        merged.list_size = next((d.list_size for d in definitions if d.list_size), None)
        merged.access = _all_of(d.access for d in definitions)
        defaults = {d.default for d in definitions}
        if len(defaults) > 1:
            self.issue(
                "INPUT_FIELD_DEFAULT_MISMATCH",
                f'Input field "{coordinate}" has different default values in subgraphs '
                f"{quoted(set(merged.sources))}.",
                set(merged.sources),
            )
        merged.default = definitions[0].default
        resolving = {s: d for s, d in merged.sources.items() if not d.external} or merged.sources
        self._merge_arguments(coordinate, merged, resolving)

    def _merge_arguments(
        self, coordinate: str, merged: MergedField, sources: dict[str, FieldDef]
    ) -> None:
        names = list(dict.fromkeys(a for d in sources.values() for a in d.arguments))
        for name in names:
            having = {s: d.arguments[name] for s, d in sources.items() if name in d.arguments}
            missing = set(sources) - set(having)
            if missing:
                required_in = [s for s, a in having.items() if is_required(a.type, a.default)]
                if required_in:
                    self.issue(
                        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                        f'Argument "{coordinate}({name}:)" is required in {quoted(required_in)} '
                        f"but missing in {quoted(missing)}.",
                        set(sources),
                    )
                continue  # an optional argument some subgraphs lack is left out
            arguments = list(having.values())
            merged_type = merge_types([a.type for a in arguments], input_position=True)
            if merged_type is None:
                described = "; ".join(f'"{a.type}" in "{s}"' for s, a in having.items())
                self.issue(
                    "FIELD_ARGUMENT_TYPE_MISMATCH",
                    f'Type of argument "{coordinate}({name}:)" is incompatible: {described}.',
                    set(having),
                )
                continue
            if len({a.default for a in arguments}) > 1:
                self.issue(
                    "FIELD_ARGUMENT_DEFAULT_MISMATCH",
                    f'Argument "{coordinate}({name}:)" has different default values in '
                    f"{quoted(set(having))}.",
                    set(having),
                )
            first = arguments[0]
            merged.arguments[name] = ArgumentDef(
                name,
                merged_type,
                first.default,
                next((a.description for a in arguments if a.description), None),
                any(a.inaccessible for a in arguments),
                next((a.deprecated for a in arguments if a.deprecated), None),
                _tags(a.tags for a in arguments),
                _highest(a.cost for a in arguments),
            )

    def _apply_override(self, merged_type: MergedType, merged: MergedField) -> None:
        coordinate = f"{merged_type.name}.{merged.name}"
        overriding = {s: d.override for s, d in merged.sources.items() if d.override is not None}
        for subgraph, source in overriding.items():
            if source == subgraph:
                self.issue(
                    "OVERRIDE_FROM_SELF_ERROR",
                    f'Field "{coordinate}" in subgraph "{subgraph}" overrides itself.',
                    [subgraph],
                )
            elif merged.sources[subgraph].external:
                self.issue(
                    "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                    f'Field "{coordinate}" in subgraph "{subgraph}" is both @override and '
                    "@external.",
                    [subgraph],
                )
            elif source in overriding:
                self.issue(
                    "OVERRIDE_SOURCE_HAS_OVERRIDE",
                    f'Field "{coordinate}" is overridden by "{subgraph}" from "{source}", '
                    f"which overrides it in turn.",
                    [subgraph, source],
                )
            elif source not in self.names:
                # Apollo ignores an override from a subgraph it does not know (a hint).
                merged.sources[subgraph].override = None
            elif source in merged.sources and not merged.sources[source].external:
                if self._still_used(merged_type, source, merged.name):
                    merged.used_overridden.add(source)
                else:
                    del merged.sources[source]

    def _still_used(self, merged_type: MergedType, subgraph: str, field_name: str) -> bool:
        """Does the overridden subgraph still need the field: in a @key, or for an interface?"""
        type_def = merged_type.sources[subgraph]
        if any(field_name in re.findall(r"\w+", key.fields) for key in type_def.keys):
            return True
        types = self.by_name[subgraph].types
        return any(field_name in types[i].fields for i in type_def.interfaces if i in types)

    def _merge_input_fields(self, merged: MergedType) -> None:
        sources = merged.sources
        names = list(dict.fromkeys(f for t in sources.values() for f in t.fields))
        for name in names:
            having = {s: t.fields[name] for s, t in sources.items() if name in t.fields}
            missing = set(sources) - set(having)
            if missing:
                required_in = [s for s, f in having.items() if is_required(f.type, f.default)]
                if required_in:
                    self.issue(
                        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                        f'Input field "{merged.name}.{name}" is required in '
                        f"{quoted(required_in)} but missing in {quoted(missing)}.",
                        set(sources),
                    )
                continue
            merged_field = MergedField(name, having[next(iter(having))].type, having)
            self._merge_field(merged.name, merged_field, input_position=True)
            merged.fields[name] = merged_field
        if not merged.fields:
            self.issue(
                "EMPTY_MERGED_INPUT_TYPE",
                f'Input type "{merged.name}" has no field common to all subgraphs that define '
                f"it ({quoted(set(sources))}).",
                set(sources),
            )

    def _merge_enum_values(self, merged: MergedType) -> None:
        for subgraph, type_def in merged.sources.items():
            for value in type_def.values.values():
                entry = merged.values.setdefault(value.name, MergedValue(value.name))
                entry.subgraphs.append(subgraph)
                entry.description = entry.description or value.description
                entry.deprecated = entry.deprecated or value.deprecated
                entry.inaccessible = entry.inaccessible or value.inaccessible
                entry.tags = _tags([entry.tags, value.tags])
        in_input = merged.name in self.input_types
        in_output = merged.name in self.output_types
        partial = {
            n: v
            for n, v in merged.values.items()
            if len(v.subgraphs) < len(merged.sources) and not v.inaccessible
        }
        if not partial or not in_input:
            return  # output-only (or unused) enums take the union of the values
        if in_output:
            for lacking in partial.values():
                self.issue(
                    "ENUM_VALUE_MISMATCH",
                    f'Enum "{merged.name}" is used as both input and output, so its values must '
                    f'agree, but value "{lacking.name}" is only defined in '
                    f"{quoted(lacking.subgraphs)}, not in "
                    f"{quoted(set(merged.sources) - set(lacking.subgraphs))}.",
                    set(merged.sources),
                )
            return
        for name in partial:  # input-only enums take the intersection
            del merged.values[name]
        if not merged.values:
            self.issue(
                "EMPTY_MERGED_ENUM_TYPE",
                f'Enum "{merged.name}" is only used as input and has no value common to '
                f"{quoted(set(merged.sources))}.",
                set(merged.sources),
            )


def _tags(lists: Iterable[list[str]]) -> list[str]:
    """Every subgraph's tags, each once, in first-seen order (as Apollo merges @tag)."""
    return list(dict.fromkeys(tag for tags in lists for tag in tags))


def _supertypes(subgraphs: list[Subgraph]) -> dict[str, set[str]]:
    """Type name -> the unions and interfaces it belongs to, in any subgraph."""
    supertypes: dict[str, set[str]] = defaultdict(set)
    for subgraph in subgraphs:
        for type_def in subgraph.types.values():
            for interface in type_def.interfaces:
                supertypes[type_def.name].add(interface)
            for member in type_def.members:
                supertypes[member].add(type_def.name)
    return supertypes


def _usages(subgraphs: list[Subgraph]) -> tuple[set[str], set[str]]:
    inputs: set[str] = set()
    outputs: set[str] = set()
    for subgraph in subgraphs:
        for type_def in subgraph.types.values():
            for field_def in type_def.fields.values():
                if type_def.kind == "input":
                    inputs.add(named_type(field_def.type))
                    continue
                outputs.add(named_type(field_def.type))
                inputs.update(named_type(a.type) for a in field_def.arguments.values())
    return inputs, outputs


def _highest(weights: Iterable[int | None]) -> int | None:
    """Subgraphs that disagree on a cost: the supergraph keeps the highest (as Apollo's
    composition merges ``@cost``)."""
    given = [weight for weight in weights if weight is not None]
    return max(given) if given else None


def _all_of(requirements: Iterable[Requirement]) -> Requirement:
    """Subgraphs that protect a field or type differently: the supergraph requires all of
    it, so no subgraph's protection is lost in composition."""
    merged = Requirement()
    for requirement in requirements:
        merged = merged.and_(requirement)
    return merged
