"""Deep merge of a subgraph's answer into the data merged so far.

Values are moved, not copied: a key the target lacks takes the source's value as is. Two
targets that share one deduplicated representation therefore share its nested objects,
which is right, because they are the same entity reached through the same plan step.
"""

from __future__ import annotations

from typing import Any


def merge_into(target: dict[str, Any], source: dict[str, Any]) -> None:
    if source.keys().isdisjoint(target):
        target.update(source)  # the usual case: a fetch brings fields the object lacks
        return
    for key, value in source.items():
        existing = target.get(key)
        if existing is None or existing is value:
            target[key] = value
        elif isinstance(value, dict) and isinstance(existing, dict):
            merge_into(existing, value)
        elif isinstance(value, list) and isinstance(existing, list):
            _merge_lists(existing, value)
        else:
            target[key] = value


def _merge_lists(target: list[Any], source: list[Any]) -> None:
    if len(target) != len(source):
        target[:] = source
        return
    for index, value in enumerate(source):
        existing = target[index]
        if isinstance(value, dict) and isinstance(existing, dict):
            merge_into(existing, value)
        elif isinstance(value, list) and isinstance(existing, list):
            _merge_lists(existing, value)
        elif existing is None or value is not None:
            target[index] = value
