"""Choosing the operation, caching plans, and the plan's JSON form."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.planner import OperationNotFound, PlanCache, build_plan, document_hash
from gateway.planner.plan import to_json
from tests.unit.gateway.planner.support import SHOP

TWO_OPERATIONS = "query A { me { name } } query B { order(id: 1) { quantity } }"


def test_operation_is_chosen_by_name() -> None:
    plan = build_plan(SHOP, parse(TWO_OPERATIONS), "B")
    assert to_json(plan)["node"]["serviceName"] == "orders"


def test_several_operations_without_a_name_are_ambiguous() -> None:
    with pytest.raises(OperationNotFound, match="several operations"):
        build_plan(SHOP, parse(TWO_OPERATIONS), None)


def test_unknown_operation_name_is_refused() -> None:
    with pytest.raises(OperationNotFound, match='unknown operation named "C"'):
        build_plan(SHOP, parse(TWO_OPERATIONS), "C")


def test_plan_cache_plans_once_per_document_and_operation_name() -> None:
    cache = PlanCache(SHOP)
    document = parse(TWO_OPERATIONS)
    key = document_hash(TWO_OPERATIONS)
    first = cache.get(key, document, "A")
    assert cache.get(key, document, "A") is first
    assert cache.get(key, document, "B") is not first
    assert len(cache) == 2


def test_plan_cache_evicts_the_least_recently_used_plan() -> None:
    cache = PlanCache(SHOP, max_size=1)
    document = parse(TWO_OPERATIONS)
    key = document_hash(TWO_OPERATIONS)
    first = cache.get(key, document, "A")
    cache.get(key, document, "B")
    assert len(cache) == 1
    assert cache.get(key, document, "A") is not first


def test_plan_json_has_apollo_shape() -> None:
    plan = build_plan(SHOP, parse("query Q { order(id: 1) { buyer { name } } }"), "Q")
    data = to_json(plan)
    assert data["kind"] == "QueryPlan"
    sequence = data["node"]
    assert sequence["kind"] == "Sequence"
    root, flatten = sequence["nodes"]
    assert root["operation"] == "query Q__orders__0{order(id:1){buyer{__typename id}}}"
    assert flatten["path"] == ["order", "buyer"]
    assert flatten["node"]["requires"] == [
        {
            "kind": "InlineFragment",
            "typeCondition": "User",
            "selections": [
                {"kind": "Field", "name": "__typename"},
                {"kind": "Field", "name": "id"},
            ],
        }
    ]
