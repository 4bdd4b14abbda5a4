"""The benchmark workload: the shared bench-data files, and a strict check of a response."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bench.subgraphs.data import bench_data_dir

SUBGRAPH_URL = re.compile(r'url: "http://[^/"]+/(accounts|products|inventory|reviews)"')


def query_file() -> Path:
    return bench_data_dir() / "query.json"


def expected_response() -> Any:
    return json.loads((bench_data_dir() / "expected-response.json").read_text())


def supergraph_for(subgraphs_url: str) -> str:
    """The bench supergraph with its subgraph URLs pointed at ``subgraphs_url``."""
    sdl = (bench_data_dir() / "supergraph.graphql").read_text()
    base = subgraphs_url.rstrip("/")
    rewritten, count = SUBGRAPH_URL.subn(lambda match: f'url: "{base}/{match[1]}"', sdl)
    if count != 4:
        raise ValueError(f"expected 4 subgraph URLs in the supergraph, found {count}")
    return rewritten


def first_difference(
    actual: Any, expected: Any, *, ordered_keys: bool = False, path: str = "$"
) -> str | None:
    """Where ``actual`` departs from ``expected``, or None when they are the same JSON.

    Stricter than ``==``: ``True`` is not ``1`` and ``1.0`` is not ``1``, as in JSON text.
    List order always counts; object key order only with ``ordered_keys`` (GraphQL says
    responses follow the selection order, but deep equality of JSON ignores it).
    """
    if type(actual) is not type(expected):
        return f"{path}: expected {type(expected).__name__} {expected!r:.80}, got {actual!r:.80}"
    if isinstance(expected, dict):
        same_keys = (
            list(actual) == list(expected) if ordered_keys else actual.keys() == expected.keys()
        )
        if not same_keys:
            return f"{path}: expected keys {list(expected)}, got {list(actual)}"
        for key, value in expected.items():
            found = first_difference(
                actual[key], value, ordered_keys=ordered_keys, path=f"{path}.{key}"
            )
            if found:
                return found
        return None
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return f"{path}: expected {len(expected)} items, got {len(actual)}"
        for index, (item, wanted) in enumerate(zip(actual, expected, strict=True)):
            found = first_difference(
                item, wanted, ordered_keys=ordered_keys, path=f"{path}[{index}]"
            )
            if found:
                return found
        return None
    if actual != expected:
        return f"{path}: expected {expected!r:.80}, got {actual!r:.80}"
    return None
