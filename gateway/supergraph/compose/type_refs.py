"""GraphQL type references as data, and how two subgraphs' views of a type combine.

Output positions take the least strict type (nullable if any subgraph says so): every
subgraph can then serve what the supergraph promises. Input positions take the strictest
(non-null if any subgraph needs it): every subgraph then gets the values it requires.
Anything else (different named types or list depths) is a mismatch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TypeRef:
    name: str | None
    of: TypeRef | None = None
    non_null: bool = False

    def __str__(self) -> str:
        inner = self.name if self.of is None else f"[{self.of}]"
        return f"{inner}!" if self.non_null else str(inner)


def parse_type(text: str) -> TypeRef:
    non_null = text.endswith("!")
    if non_null:
        text = text[:-1]
    if text.startswith("["):
        return TypeRef(None, parse_type(text[1:-1]), non_null)
    return TypeRef(text, None, non_null)


def merge_types(
    types: list[str],
    *,
    input_position: bool,
    supertypes: Mapping[str, set[str]] | None = None,
) -> str | None:
    """The supergraph's type for a position, or None if the subgraphs disagree.

    In output positions a subgraph may return a member or implementation of the type
    another subgraph returns (``supertypes``: type -> its unions and interfaces); the
    supergraph then has the abstract type, as Apollo's composition does.
    """
    refs = [parse_type(t) for t in types]
    merged = refs[0]
    for ref in refs[1:]:
        combined = _combine(merged, ref, input_position, supertypes or {})
        if combined is None:
            return None
        merged = combined
    return str(merged)


def _combine(
    a: TypeRef, b: TypeRef, input_position: bool, supertypes: Mapping[str, set[str]]
) -> TypeRef | None:
    if (a.of is None) != (b.of is None):
        return None
    name = a.name
    if a.name != b.name:
        if input_position or a.name is None or b.name is None:
            return None
        if b.name in supertypes.get(a.name, set()):
            name = b.name
        elif a.name not in supertypes.get(b.name, set()):
            return None
    non_null = (a.non_null or b.non_null) if input_position else (a.non_null and b.non_null)
    if a.of is None or b.of is None:
        return TypeRef(name, None, non_null)
    inner = _combine(a.of, b.of, input_position, supertypes)
    return None if inner is None else TypeRef(None, inner, non_null)


def is_required(type_string: str, default: str | None) -> bool:
    return type_string.endswith("!") and default is None
