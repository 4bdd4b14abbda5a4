"""Random, seeded, valid operations over an API schema.

Nested selections, aliases, inline and named fragments on abstract types, @skip and
@include with literals and variables, and arguments as literals or variables. Every
operation is validated by graphql-core against the API schema before it is used; the
ones it refuses (two aliases that cannot merge, say) are drawn again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    parse,
    validate,
)

MAX_DEPTH = 4
_STRINGS = ("a", "EUR", "store", "x-1", "")


@dataclass(frozen=True, slots=True)
class Operation:
    query: str
    variables: dict[str, Any]


@dataclass
class _Draft:
    rng: random.Random
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: dict[str, str] = field(default_factory=dict)


def operations(schema: GraphQLSchema, count: int, seed: int) -> list[Operation]:
    rng = random.Random(seed)
    drawn: list[Operation] = []
    attempts = 0
    while len(drawn) < count:
        attempts += 1
        if attempts > count * 20:
            raise RuntimeError(f"only {len(drawn)} valid operations in {attempts} attempts")
        operation = _operation(schema, rng, len(drawn))
        if not validate(schema, parse(operation.query)):
            drawn.append(operation)
    return drawn


def _operation(schema: GraphQLSchema, rng: random.Random, number: int) -> Operation:
    draft = _Draft(rng)
    query_type = schema.query_type
    assert query_type is not None
    roots = [name for name in query_type.fields if not name.startswith("_")]
    chosen = rng.sample(roots, k=min(len(roots), rng.randint(1, 3)))
    selections = [_field(schema, draft, query_type, name, depth=1) for name in chosen]
    definitions = ""
    if draft.variables:
        definitions = "(" + ", ".join(f"${n}: {t}" for n, (t, _) in draft.variables.items()) + ")"
    fragments = "".join(f"\n\n{text}" for text in draft.fragments.values())
    query = f"query Q{number}{definitions} {{\n{_indent(selections)}\n}}{fragments}"
    return Operation(query, {n: v for n, (_, v) in draft.variables.items()})


def _field(
    schema: GraphQLSchema,
    draft: _Draft,
    parent: GraphQLObjectType | GraphQLInterfaceType,
    name: str,
    depth: int,
) -> str:
    rng = draft.rng
    definition: GraphQLField = parent.fields[name]
    alias = f"{name}_{rng.randint(1, 3)}: " if rng.random() < 0.15 else ""
    arguments = _arguments(draft, definition.args)
    directive = _condition(draft) if rng.random() < 0.12 else ""
    named = _named(definition.type)
    head = f"{alias}{name}{arguments}{directive}"
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return head
    return f"{head} {_selection_set(schema, draft, named, depth + 1)}"


def _selection_set(schema: GraphQLSchema, draft: _Draft, named: Any, depth: int) -> str:
    rng = draft.rng
    lines: list[str] = []
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        lines.extend(_fields_of(schema, draft, named, depth))
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        possible = sorted(schema.get_possible_types(named), key=lambda t: t.name)
        for concrete in rng.sample(possible, k=rng.randint(1, len(possible))):
            lines.append(_fragment(schema, draft, concrete, depth))
        if isinstance(named, GraphQLUnionType) or rng.random() < 0.3:
            lines.append("__typename")
    if rng.random() < 0.1 and isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        lines.append(_fragment(schema, draft, named, depth))
    return "{\n" + _indent(lines or ["__typename"]) + "\n}"


def _fields_of(
    schema: GraphQLSchema,
    draft: _Draft,
    named: GraphQLObjectType | GraphQLInterfaceType,
    depth: int,
) -> list[str]:
    rng = draft.rng
    names = sorted(named.fields)
    if depth > MAX_DEPTH:
        names = [n for n in names if _is_leaf(named.fields[n])] or names[:0]
    if not names:
        return ["__typename"]
    chosen = rng.sample(names, k=min(len(names), rng.randint(1, 4)))
    lines = [_field(schema, draft, named, name, depth) for name in sorted(chosen)]
    if rng.random() < 0.15:
        lines.append("__typename")
    return lines


def _fragment(schema: GraphQLSchema, draft: _Draft, concrete: Any, depth: int) -> str:
    rng = draft.rng
    body = _selection_set(schema, draft, concrete, depth)
    directive = _condition(draft) if rng.random() < 0.1 else ""
    if rng.random() < 0.3:
        name = f"F{len(draft.fragments)}"
        draft.fragments[name] = f"fragment {name} on {concrete.name} {body}"
        return f"...{name}{directive}"
    return f"... on {concrete.name}{directive} {body}"


def _condition(draft: _Draft) -> str:
    rng = draft.rng
    directive = rng.choice(("skip", "include"))
    if rng.random() < 0.5:
        return f" @{directive}(if: {str(rng.random() < 0.5).lower()})"
    variable = f"v{len(draft.variables)}"
    draft.variables[variable] = ("Boolean!", rng.random() < 0.5)
    return f" @{directive}(if: ${variable})"


def _arguments(draft: _Draft, arguments: dict[str, GraphQLArgument]) -> str:
    rng = draft.rng
    given: list[str] = []
    for name, argument in sorted(arguments.items()):
        required = isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
        if not required and rng.random() < 0.6:
            continue
        value = _value(rng, argument.type, 0)
        if rng.random() < 0.3:
            variable = f"v{len(draft.variables)}"
            draft.variables[variable] = (str(argument.type), value)
            given.append(f"{name}: ${variable}")
        else:
            given.append(f"{name}: {_literal(argument.type, value)}")
    return f"({', '.join(given)})" if given else ""


def _value(rng: random.Random, input_type: GraphQLInputType, depth: int) -> Any:
    if isinstance(input_type, GraphQLNonNull):
        return _value(rng, input_type.of_type, depth)
    if isinstance(input_type, GraphQLList):
        return [_value(rng, input_type.of_type, depth) for _ in range(rng.randint(0, 2))]
    if isinstance(input_type, GraphQLEnumType):
        return rng.choice(sorted(input_type.values))
    if isinstance(input_type, GraphQLInputObjectType):
        value = {}
        for name, input_field in sorted(input_type.fields.items()):
            if isinstance(input_field.type, GraphQLNonNull) or (depth < 2 and rng.random() < 0.3):
                value[name] = _value(rng, input_field.type, depth + 1)
        return value
    assert isinstance(input_type, GraphQLScalarType)
    if input_type.name == "Int":
        return rng.randint(0, 5)
    if input_type.name == "Float":
        return rng.randint(0, 50) / 2
    if input_type.name == "Boolean":
        return rng.random() < 0.5
    if input_type.name == "ID":
        return f"id-{rng.randint(0, 39)}"
    return rng.choice(_STRINGS)


def _literal(input_type: Any, value: Any) -> str:
    if isinstance(input_type, GraphQLNonNull):
        return _literal(input_type.of_type, value)
    if isinstance(input_type, GraphQLList):
        return "[" + ", ".join(_literal(input_type.of_type, v) for v in value) + "]"
    if isinstance(input_type, GraphQLEnumType):
        return str(value)
    if isinstance(input_type, GraphQLInputObjectType):
        parts = (f"{k}: {_literal(input_type.fields[k].type, v)}" for k, v in value.items())
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _named(output: Any) -> Any:
    while isinstance(output, GraphQLNonNull | GraphQLList):
        output = output.of_type
    return output


def _is_leaf(definition: GraphQLField) -> bool:
    return isinstance(_named(definition.type), GraphQLScalarType | GraphQLEnumType)


def _indent(lines: list[str]) -> str:
    return "\n".join("  " + line.replace("\n", "\n  ") for line in lines)
