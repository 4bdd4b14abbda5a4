"""The differential test's operations: valid over each supergraph's API schema, and the
same for the same seed."""

from __future__ import annotations

import pytest
from graphql import parse, validate

from bench.differential.generator import operations
from bench.differential.supergraphs import NAMES, build
from gateway.supergraph import load_supergraph


@pytest.mark.parametrize("name", NAMES)
def test_generated_operations_are_valid_over_the_api_schema(name: str) -> None:
    api_schema = load_supergraph(build(name, "http://127.0.0.1:9").sdl).api_schema
    for operation in operations(api_schema, 25, seed=7):
        assert validate(api_schema, parse(operation.query)) == [], operation.query


def test_the_same_seed_draws_the_same_operations() -> None:
    api_schema = load_supergraph(build("catalog", "http://127.0.0.1:9").sdl).api_schema
    assert operations(api_schema, 10, seed=3) == operations(api_schema, 10, seed=3)
    assert operations(api_schema, 10, seed=3) != operations(api_schema, 10, seed=4)


def test_hand_written_supergraphs_use_every_federation_directive() -> None:
    sdl = "\n".join(build(name, "http://127.0.0.1:9").sdl for name in ("catalog", "media"))
    for usage in (
        '@join__type(graph: PRODUCTS, key: "sku variant { code }")',
        "resolvable: false",
        "requires:",
        "provides:",
        "override:",
        "@inaccessible",
        "isInterfaceObject: true",
        "@join__unionMember",
        "external: true",
    ):
        assert usage in sdl, usage
