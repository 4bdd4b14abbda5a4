"""Every fetch of a plan is a request its subgraph accepts.

For each supergraph and operation, every ``Fetch.operation`` must validate against the
schema of the subgraph it goes to (rebuilt from the supergraph's join metadata), declare
exactly the client variables it uses, and entity fetches must go through ``_entities``
with ``$representations``. Written from the Federation spec: no snapshot, just the rules.
"""

from __future__ import annotations

import pytest
from graphql import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    parse,
    print_ast,
    validate,
)

from gateway.planner import build_plan
from gateway.planner.plan import (
    Condition,
    Fetch,
    Flatten,
    Parallel,
    PlanNode,
    Sequence,
    SubscriptionNode,
)
from gateway.supergraph import Supergraph, load_supergraph
from tests.conformance.subgraphs import subgraph_schema
from tests.services import require_bench_data
from tests.unit.gateway.planner import (
    test_conflicts,
    test_entities,
    test_interface_object,
    test_interfaces,
    test_override,
    test_provides,
    test_requires,
    test_shareable,
    test_unions,
    test_value_types,
)
from tests.unit.gateway.planner.support import SHOP

CASES: list[tuple[str, Supergraph, str]] = [
    (
        "entity jump with variables",
        test_entities.SUPERGRAPH,
        "query($s: String!, $at: String) { product(sku: $s) { title quantity(at: $at) } }",
    ),
    ("compound nested key", test_entities.SUPERGRAPH, '{ product(sku: "a") { quantity } }'),
    ("two-hop key", test_entities.SUPERGRAPH, "{ stockItems { product { favouritedBy } } }"),
    ("requires nested", test_requires.SUPERGRAPH, "{ products { shippingEstimate } }"),
    ("requires arguments", test_requires.SUPERGRAPH, "{ products { insurance } }"),
    ("requires fragments", test_requires.SUPERGRAPH, "{ products { handling } }"),
    (
        "requires with conflicting arguments",
        test_requires.SUPERGRAPH,
        "{ products { insurance insuranceUsd } }",
    ),
    (
        "requires before the client's own field with other arguments",
        test_requires.SUPERGRAPH,
        "query($c: String!) { products { insurance price(currency: $c) "
        'p: price(currency: "EUR") } }',
    ),
    (
        "requires same subgraph",
        test_requires.SUPERGRAPH,
        "{ parcels { product { shippingEstimate insurance } } }",
    ),
    (
        "provides",
        test_provides.SUPERGRAPH,
        "{ reviews { author { username address { city } } editor { username } } }",
    ),
    (
        "provides on a union member of a shared root field",
        test_provides.PROVIDES_ON_UNION,
        "{ media { ... on Book { id title } ... on Movie { id } } }",
    ),
    (
        "provides partial value type",
        test_provides.SUPERGRAPH,
        "{ featured { author { email address { city street } } } }",
    ),
    (
        "shareable",
        test_shareable.SUPERGRAPH,
        '{ product(id: "1") { name score price { amount } } deals { name } }',
    ),
    (
        "override",
        test_override.SUPERGRAPH,
        "{ products { inStock reserved } warehouses { products { legacyCode name } } }",
    ),
    (
        "interfaces",
        test_interfaces.SUPERGRAPH,
        "{ media { id title ... on Book { pages reviews { body } } ... on Movie { minutes } } }",
    ),
    (
        "interface from partial subgraph",
        test_interfaces.SUPERGRAPH,
        "{ latestReview { about { title ... on Book { pages } } } }",
    ),
    (
        "unions",
        test_unions.SUPERGRAPH,
        '{ search(term: "x") { ... on Book { title } ... on Movie { title } } }',
    ),
    (
        "union members elsewhere",
        test_unions.SUPERGRAPH,
        "{ showing { ... on Movie { title inCatalog } ... on Series { seasons } } }",
    ),
    (
        "interface object fields",
        test_interface_object.SUPERGRAPH,
        "{ media { title reviews { stars } } }",
    ),
    (
        "interface object typename",
        test_interface_object.SUPERGRAPH,
        "{ topRated { __typename title ... on Book { author } } }",
    ),
    (
        "interface object key only, a keyed interface without implementations elsewhere",
        test_interface_object.OWNER_ELSEWHERE,
        "{ reviewed { id reviews { stars } } }",
    ),
    (
        "interface object typename from a subgraph implementing the interface",
        test_interface_object.OWNER_ELSEWHERE,
        "{ reviewed { __typename ... on Book { title } ... on Movie { director } } }",
    ),
    (
        "a shared root field asked again through a fragment",
        test_shareable.SUPERGRAPH,
        '{ product(id: "1") { description } ... on Query { product(id: "1") { score } } }',
    ),
    (
        "a shared field asked again under an alias",
        test_shareable.SUPERGRAPH,
        "{ deals { description score ... on Product { details { keywords } } "
        "d: details { summary } } }",
    ),
    (
        "value types",
        test_value_types.SUPERGRAPH,
        "{ store { name address } products { brand { name origin } category { slug label } } }",
    ),
    (
        "conflicting types",
        test_conflicts.SUPERGRAPH,
        "{ accounts { ... on User { id name } ... on Admin { id name } } }",
    ),
    (
        "fragments and aliases",
        SHOP,
        "query Q($id: ID!) { a: order(id: $id) { ...O } } fragment O on Order { quantity "
        "buyer { n: name } product { ... on Product { name } } }",
    ),
    (
        "skip and include",
        SHOP,
        "query Q($v: Boolean!, $id: ID!) { me @skip(if: $v) { name } order(id: $id) { "
        "... @include(if: $v) { product { name } } buyer { name @include(if: $v) } } }",
    ),
    (
        "mutations",
        SHOP,
        'mutation { placeOrder(productId: "p", quantity: 1) { buyer { name } } '
        'renameProduct(id: "p", name: "n") { name } }',
    ),
    ("subscription", SHOP, "subscription { orderPlaced { quantity buyer { name } } }"),
    (
        "an object whose fields literal conditions all leave out",
        SHOP,
        "query($id: ID!) { order(id: $id) { quantity buyer { id @include(if: false) "
        "name @skip(if: true) } } }",
    ),
    (
        "one variable condition on nested fragments",
        SHOP,
        "query($id: ID!, $a: Boolean!) { order(id: $id) { ... @include(if: $a) "
        "{ ... @include(if: $a) { quantity buyer { name } } } } }",
    ),
    (
        "literal conditions on nested fragments",
        SHOP,
        "query($id: ID!) { order(id: $id) { ... @include(if: true) { ... @skip(if: false) "
        "{ ... @include(if: true) { buyer { __typename } } } } } }",
    ),
    (
        "two conditions of one kind on nested fragments",
        SHOP,
        "query($id: ID!, $a: Boolean!, $b: Boolean!) { order(id: $id) { ... @include(if: $a) "
        "{ ... @include(if: $b) { quantity } } ... @skip(if: $a) { ... @skip(if: $b) "
        "{ buyer { name } } } } }",
    ),
]


def _fetches(node: PlanNode | None) -> list[Fetch]:
    match node:
        case None:
            return []
        case Fetch():
            return [node]
        case Flatten():
            return _fetches(node.node)
        case Sequence() | Parallel():
            return [f for child in node.nodes for f in _fetches(child)]
        case Condition():
            return _fetches(node.if_clause) + _fetches(node.else_clause)
        case SubscriptionNode():
            return [node.primary, *_fetches(node.rest)]
    raise TypeError(node)


# Operations where each field of each object has one subgraph to read it from (a
# value type split over subgraphs, for one, is read in parts from several on purpose).
ONE_SOURCE_CASES: list[tuple[str, Supergraph, str]] = [
    case
    for case in CASES
    if case[0]
    in {
        "shareable",
        "a shared root field asked again through a fragment",
        "a shared field asked again under an alias",
        "interface object key only, a keyed interface without implementations elsewhere",
        "interface object typename from a subgraph implementing the interface",
    }
]


def _located_fetches(
    node: PlanNode | None, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Fetch]]:
    """Every fetch with the response path its objects sit at (list steps left out)."""
    match node:
        case None:
            return []
        case Fetch():
            return [(path, node)]
        case Flatten():
            return _located_fetches(node.node, tuple(str(s) for s in node.path if s != "@"))
        case Sequence() | Parallel():
            return [f for child in node.nodes for f in _located_fetches(child, path)]
        case Condition():
            return _located_fetches(node.if_clause, path) + _located_fetches(node.else_clause, path)
        case SubscriptionNode():
            return [((), node.primary), *_located_fetches(node.rest, path)]
    raise TypeError(node)


def _read_fields(
    selections: tuple[SelectionNode, ...],
    path: tuple[str, ...],
    service: str,
    sources: dict[tuple[tuple[str, ...], str, str], set[str]],
) -> None:
    """Which subgraphs each (object path, field, arguments) is read from."""
    for selection in selections:
        if isinstance(selection, InlineFragmentNode):
            _read_fields(selection.selection_set.selections, path, service, sources)
        elif isinstance(selection, FieldNode) and selection.name.value != "__typename":
            if selection.name.value == "_entities":
                assert selection.selection_set is not None
                _read_fields(selection.selection_set.selections, path, service, sources)
                continue
            arguments = ",".join(print_ast(a) for a in selection.arguments or ())
            sources.setdefault((path, selection.name.value, arguments), set()).add(service)
            if selection.selection_set is not None:
                key = selection.alias.value if selection.alias else selection.name.value
                _read_fields(selection.selection_set.selections, (*path, key), service, sources)


@pytest.mark.parametrize(
    ("supergraph", "query"), [c[1:] for c in ONE_SOURCE_CASES], ids=[c[0] for c in ONE_SOURCE_CASES]
)
def test_one_field_of_one_object_is_read_from_one_subgraph(
    supergraph: Supergraph, query: str
) -> None:
    sources: dict[tuple[tuple[str, ...], str, str], set[str]] = {}
    for path, fetch in _located_fetches(build_plan(supergraph, parse(query), None).node):
        definition = parse(fetch.operation).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        _read_fields(definition.selection_set.selections, path, fetch.service_name, sources)
    assert sources
    assert {field: found for field, found in sources.items() if len(found) > 1} == {}


@pytest.mark.parametrize(("supergraph", "query"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_fetch_validates_against_its_subgraph(supergraph: Supergraph, query: str) -> None:
    document = parse(query)
    assert not validate(supergraph.api_schema, document)
    fetches = _fetches(build_plan(supergraph, document, None).node)
    assert fetches
    for fetch in fetches:
        operation = parse(fetch.operation)
        errors = validate(subgraph_schema(supergraph, fetch.service_name), operation)
        assert not errors, (fetch.service_name, fetch.operation, errors)
        definition = operation.definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        declared = [d.variable.name.value for d in definition.variable_definitions or ()]
        if fetch.requires:
            assert declared[0] == "representations"
            assert definition.selection_set.selections[0].name.value == "_entities"  # type: ignore[union-attr]
            declared = declared[1:]
        assert declared == list(fetch.variable_usages)


def test_bench_query_fetches_validate_against_their_subgraphs() -> None:
    bench = require_bench_data()
    supergraph = load_supergraph((bench / "supergraph.graphql").read_text())
    document = parse((bench / "query.graphql").read_text())
    for fetch in _fetches(build_plan(supergraph, document, None).node):
        schema = subgraph_schema(supergraph, fetch.service_name)
        assert not validate(schema, parse(fetch.operation)), fetch.operation
