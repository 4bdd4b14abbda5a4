"""The differential test's reproductions: each an operation of its supergraph, ready to
become a conformance case."""

from __future__ import annotations

import json

from graphql import parse, validate

from bench.differential.reproduce import GATEWAYS, REPRODUCTIONS
from bench.differential.supergraphs import build
from gateway.supergraph import load_supergraph


def test_every_reproduction_is_a_valid_operation_of_its_supergraph() -> None:
    cases = json.loads(REPRODUCTIONS.read_text())["cases"]
    schemas = {
        name: load_supergraph(build(name, "http://127.0.0.1:9").sdl).api_schema
        for name in {case["supergraph"] for case in cases}
    }
    for case in cases:
        errors = validate(schemas[case["supergraph"]], parse(case["query"]))
        assert errors == [], case["id"]


def test_every_reproduction_says_who_is_wrong_and_what_is_right() -> None:
    cases = json.loads(REPRODUCTIONS.read_text())["cases"]
    assert len({case["id"] for case in cases}) == len(cases)
    for case in cases:
        assert set(case["wrong"]) <= set(GATEWAYS), case["id"]
        assert case["right"], case["id"]
        assert case["summary"], case["id"]
        assert set(case["observed"]) == set(GATEWAYS), case["id"]
