"""Deterministic, stateless mock data: every value is a function of the entity's identity.

An entity is a type name and a small integer seed. Its key fields encode the seed
(``"id-7"``, or 7 for an Int), so any subgraph given a representation recovers the same
entity, and every other field is a hash of (type, seed, field, arguments): two subgraphs
resolving a @shareable field answer the same, and the same query gets the same answer on
every call. A field with @requires also hashes the required values it was sent, so a
gateway sending wrong ones gets a different answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

# Few seeds per type, so that one answer often meets the same entity twice.
SEEDS = 40
# A nullable field is null for one hash in NULL_EVERY, and fails with an error for one
# in ERROR_EVERY: null bubbling and error paths are compared too.
NULL_EVERY = 11
ERROR_EVERY = 23


@dataclass(frozen=True, slots=True)
class Entity:
    typename: str
    seed: int
    # What a representation carried besides its key (the values of @requires fields).
    sent: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Fields a @provides on the field that returned this object lets this subgraph answer.
    provided: frozenset[str] = frozenset()


def stable_hash(*parts: Any) -> int:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def key_value(field_name: str, scalar: str, seed: int) -> Any:
    """A key field's value, from which ``seed_of`` reads the seed back."""
    if scalar == "Int":
        return seed
    if scalar == "Float":
        return float(seed)
    return f"{field_name}-{seed}"


def seed_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and "-" in value:
        tail = value.rsplit("-", 1)[1]
        if tail.isdigit():
            return int(tail)
    return None


def scalar_value(scalar: str, field_name: str, value_hash: int) -> Any:
    if scalar == "Int":
        return value_hash % 1000
    if scalar == "Float":
        return (value_hash % 100000) / 100
    if scalar == "Boolean":
        return value_hash % 2 == 0
    return f"{field_name}-{value_hash % 100000}x"
