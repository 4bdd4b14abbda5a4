"""The federation rules that composition checks, each reported with Apollo's error code.

- ``@key``, ``@requires`` and ``@provides`` select fields that exist (KEY_INVALID_FIELDS,
  REQUIRES_INVALID_FIELDS, PROVIDES_INVALID_FIELDS);
- what ``@requires`` and ``@provides`` select is ``@external`` in that subgraph
  (REQUIRES_FIELDS_MISSING_EXTERNAL, PROVIDES_FIELDS_MISSING_EXTERNAL);
- an ``@external`` field is resolved by some other subgraph (EXTERNAL_MISSING_ON_BASE);
- a field that several subgraphs resolve is ``@shareable`` in each of them, key fields
  being shareable by nature (INVALID_FIELD_SHARING);
- every type a subgraph mentions is defined in it (INVALID_GRAPHQL);
- every field of an object can be reached wherever the object is returned
  (SATISFIABILITY_ERROR, in satisfiability.py).
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import FieldNode, InlineFragmentNode, SelectionSetNode

from gateway.supergraph.compose.errors import CompositionIssue, quoted
from gateway.supergraph.compose.model import MergedType, Subgraph, Supergraph, TypeDef
from gateway.supergraph.compose.satisfiability import satisfiability
from gateway.supergraph.compose.subgraph import BUILT_IN_SCALARS, named_type, parse_field_set


def check(subgraphs: list[Subgraph], supergraph: Supergraph) -> list[CompositionIssue]:
    issues: list[CompositionIssue] = []
    for subgraph in subgraphs:
        issues.extend(_unknown_types(subgraph))
        for type_def in subgraph.types.values():
            issues.extend(_field_sets(subgraph, type_def))
    key_fields = {s.name: _key_fields(s) for s in subgraphs}
    for merged in supergraph.types.values():
        if merged.kind in ("object", "interface"):
            issues.extend(_externals(merged))
        if merged.kind == "object":
            issues.extend(_sharing(merged, key_fields))
    issues.extend(satisfiability(supergraph))
    return issues


def _unknown_types(subgraph: Subgraph) -> Iterator[CompositionIssue]:
    known = set(subgraph.types) | BUILT_IN_SCALARS
    for type_def in subgraph.types.values():
        mentioned = [*type_def.interfaces, *type_def.members]
        for field_def in type_def.fields.values():
            mentioned.append(named_type(field_def.type))
            mentioned.extend(named_type(a.type) for a in field_def.arguments.values())
        for name in dict.fromkeys(mentioned):
            if name not in known:
                yield CompositionIssue(
                    "INVALID_GRAPHQL",
                    f'[{subgraph.name}] Type "{type_def.name}" refers to "{name}", which the '
                    "subgraph does not define.",
                    (subgraph.name,),
                )


def _field_sets(subgraph: Subgraph, type_def: TypeDef) -> Iterator[CompositionIssue]:
    where = f"[{subgraph.name}]"
    for key in type_def.keys:
        selection = parse_field_set(key.fields)
        missing = _missing_fields(subgraph, type_def.name, selection)
        if missing is not None:
            yield CompositionIssue(
                "KEY_INVALID_FIELDS",
                f'{where} On type "{type_def.name}", for @key(fields: "{key.fields}"): {missing}.',
                (subgraph.name,),
            )
    for field_def in type_def.fields.values():
        coordinate = f'"{type_def.name}.{field_def.name}"'
        if field_def.requires is not None:
            selection = parse_field_set(field_def.requires)
            missing = _missing_fields(subgraph, type_def.name, selection)
            if missing is not None:
                yield CompositionIssue(
                    "REQUIRES_INVALID_FIELDS",
                    f"{where} On field {coordinate}, for @requires(fields: "
                    f'"{field_def.requires}"): {missing}.',
                    (subgraph.name,),
                )
            elif selection is not None:
                for name in _not_external(subgraph, type_def.name, selection):
                    yield CompositionIssue(
                        "REQUIRES_FIELDS_MISSING_EXTERNAL",
                        f"{where} On field {coordinate}, for @requires(fields: "
                        f'"{field_def.requires}"): field "{name}" should be @external.',
                        (subgraph.name,),
                    )
        if field_def.provides is not None:
            target = subgraph.types.get(named_type(field_def.type))
            if target is None or target.kind not in ("object", "interface", "union"):
                yield CompositionIssue(
                    "PROVIDES_ON_NON_OBJECT_FIELD",
                    f"{where} Field {coordinate} has @provides but does not return an "
                    "object, interface or union type.",
                    (subgraph.name,),
                )
                continue
            selection = parse_field_set(field_def.provides)
            missing = _missing_fields(subgraph, target.name, selection)
            if missing is not None:
                yield CompositionIssue(
                    "PROVIDES_INVALID_FIELDS",
                    f"{where} On field {coordinate}, for @provides(fields: "
                    f'"{field_def.provides}"): {missing}.',
                    (subgraph.name,),
                )
            elif selection is not None:
                for name in _not_external(subgraph, target.name, selection):
                    yield CompositionIssue(
                        "PROVIDES_FIELDS_MISSING_EXTERNAL",
                        f"{where} On field {coordinate}, for @provides(fields: "
                        f'"{field_def.provides}"): field "{name}" should be @external.',
                        (subgraph.name,),
                    )


def _missing_fields(
    subgraph: Subgraph, type_name: str, selection: SelectionSetNode | None
) -> str | None:
    """Why the selection does not fit the type in this subgraph, or None if it does."""
    if selection is None:
        return "the field set does not parse"
    type_def = subgraph.types.get(type_name)
    for node in selection.selections:
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else type_name
            problem = _missing_fields(subgraph, condition, node.selection_set)
        elif isinstance(node, FieldNode):
            name = node.name.value
            if name == "__typename":
                continue
            if type_def is None or name not in type_def.fields:
                return f'field "{type_name}.{name}" does not exist in the subgraph'
            problem = None
            if node.selection_set is not None:
                inner = named_type(type_def.fields[name].type)
                problem = _missing_fields(subgraph, inner, node.selection_set)
        else:
            return "fragment spreads are not allowed in a field set"
        if problem is not None:
            return problem
    return None


def _not_external(subgraph: Subgraph, type_name: str, selection: SelectionSetNode) -> list[str]:
    """The selected leaf fields that are not ``@external`` (a parent with a selection may be
    local: only what it leads to must come from elsewhere)."""
    names = []
    type_def = subgraph.types.get(type_name)
    for node in selection.selections:
        if isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else type_name
            names.extend(_not_external(subgraph, condition, node.selection_set))
        elif isinstance(node, FieldNode) and node.name.value != "__typename":
            field_def = type_def.fields.get(node.name.value) if type_def else None
            if field_def is None:
                continue
            if node.selection_set is not None and not field_def.external:
                names.extend(
                    _not_external(subgraph, named_type(field_def.type), node.selection_set)
                )
            elif not field_def.external and type_def is not None and type_def.kind == "object":
                # Interface fields cannot be @external; their implementations are.
                names.append(f"{type_name}.{node.name.value}")
    return names


def _externals(merged: MergedType) -> Iterator[CompositionIssue]:
    for merged_field in merged.fields.values():
        external = [s for s, d in merged_field.sources.items() if d.external]
        resolving = [s for s, d in merged_field.sources.items() if not d.external]
        if external and not resolving:
            yield CompositionIssue(
                "EXTERNAL_MISSING_ON_BASE",
                f'Field "{merged.name}.{merged_field.name}" is marked @external in '
                f"{quoted(external)} but no subgraph resolves it.",
                tuple(sorted(external)),
            )


def _sharing(
    merged: MergedType, key_fields: dict[str, set[tuple[str, str]]]
) -> Iterator[CompositionIssue]:
    for merged_field in merged.fields.values():
        resolving = [
            s
            for s, d in merged_field.sources.items()
            if not d.external and s not in merged_field.used_overridden
        ]
        if len(resolving) < 2:
            continue
        not_shareable = [
            s
            for s in resolving
            if not merged_field.sources[s].shareable
            and (merged.name, merged_field.name) not in key_fields[s]
        ]
        if not_shareable:
            yield CompositionIssue(
                "INVALID_FIELD_SHARING",
                f'Non-shareable field "{merged.name}.{merged_field.name}" is resolved from '
                f"several subgraphs: it is resolved from {quoted(resolving)} and defined as "
                f"non-shareable in {quoted(not_shareable)}.",
                tuple(sorted(resolving)),
            )


def _key_fields(subgraph: Subgraph) -> set[tuple[str, str]]:
    """(type, field) for every field a @key selects in this subgraph, at any depth:
    key fields are shareable without saying so."""
    found: set[tuple[str, str]] = set()

    def walk(type_name: str, selection: SelectionSetNode | None) -> None:
        type_def = subgraph.types.get(type_name)
        for node in selection.selections if selection is not None else ():
            if isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else type_name
                walk(condition, node.selection_set)
            elif isinstance(node, FieldNode) and type_def is not None:
                found.add((type_name, node.name.value))
                field_def = type_def.fields.get(node.name.value)
                if field_def is not None and node.selection_set is not None:
                    walk(named_type(field_def.type), node.selection_set)

    for type_def in subgraph.types.values():
        for key in type_def.keys:
            walk(type_def.name, parse_field_set(key.fields))
    return found
