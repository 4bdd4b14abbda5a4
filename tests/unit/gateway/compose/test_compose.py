"""Composition gives Apollo's supergraph for valid subgraphs, stable and loadable."""

from __future__ import annotations

import random
from pathlib import Path

from graphql import build_schema

from bench.subgraphs.data import bench_data_dir
from gateway.supergraph import load_supergraph
from gateway.supergraph.compose import SubgraphSource, compose
from tests.unit.gateway.compose.subgraphs import BENCHMARK, LINK, subgraph

HERE = Path(__file__).parent


def flat(text: str) -> str:
    """The text on one line: assertions then ignore where directives wrap."""
    return " ".join(text.split())


def test_benchmark_subgraphs_compose_to_apollos_supergraph_text() -> None:
    expected = (bench_data_dir() / "supergraph.graphql").read_text()
    assert compose(BENCHMARK) == expected


def test_composition_does_not_depend_on_the_order_of_subgraphs() -> None:
    shuffled = list(BENCHMARK)
    random.Random(7).shuffle(shuffled)
    assert compose(shuffled) == compose(BENCHMARK)


def test_composed_supergraph_loads_with_keys_requires_provides_and_externals() -> None:
    supergraph = load_supergraph(compose(BENCHMARK))
    product = supergraph.types["Product"]
    assert {k.fields for k in product.keys_in("inventory")} == {"upc"}
    estimate = product.fields["shippingEstimate"].subgraphs["inventory"]
    assert estimate.requires is not None
    assert product.fields["price"].subgraphs["inventory"].external
    author = supergraph.types["Review"].fields["author"].subgraphs["reviews"]
    assert author.provides is not None
    assert sorted(s.name for s in supergraph.subgraphs.values()) == [
        "accounts",
        "inventory",
        "products",
        "reviews",
    ]


def test_strawberry_style_sdl_drops_federation_machinery() -> None:
    sdl = """
    schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"]) {
      query: Query
    }
    type Product @key(fields: "sku") { sku: ID! }
    type Query {
      _entities(representations: [_Any!]!): [_Entity]!
      _service: _Service!
      product(sku: ID!): Product
    }
    scalar _Any
    union _Entity = Product
    type _Service { sdl: String! }
    """
    supergraph = compose([SubgraphSource("products", "http://p/graphql", sdl)])
    assert "_entities" not in supergraph
    assert "_Service" not in supergraph
    assert "product(sku: ID!): Product" in supergraph


def test_renamed_and_namespaced_federation_directives_are_understood() -> None:
    sdl = """
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3",
                        import: [{name: "@key", as: "@id"}])
    type Product @id(fields: "sku") { sku: ID! name: String @federation__shareable }
    type Query { product: Product }
    """
    other = subgraph("b", 'type Product @key(fields: "sku") { sku: ID! name: String @shareable }')
    supergraph = compose([SubgraphSource("a", "http://a", sdl), other])
    assert '@join__type(graph: A, key: "sku")' in supergraph
    assert "@id" not in supergraph


def test_value_types_shared_by_subgraphs_get_join_type_without_join_field() -> None:
    page_info = "type PageInfo @shareable { hasNextPage: Boolean! }"
    supergraph = compose(
        [
            subgraph("a", page_info + " type Query { a: PageInfo }"),
            subgraph("b", page_info + " type Query { b: PageInfo }"),
        ]
    )
    assert (
        "type PageInfo @join__type(graph: A) @join__type(graph: B) {\n  hasNextPage: Boolean!\n}"
    ) in supergraph


def test_nullability_differences_merge_to_the_nullable_type_with_join_field_types() -> None:
    supergraph = compose(
        [
            subgraph("a", "type T @shareable { v: String! } type Query { a: T }"),
            subgraph("b", "type T @shareable { v: String } type Query { b: T }"),
        ]
    )
    assert (
        'v: String @join__field(graph: A, type: "String!") @join__field(graph: B, type: "String")'
    ) in flat(supergraph)


def test_interfaces_unions_and_implementations_carry_their_join_directives() -> None:
    supergraph = compose(
        [
            subgraph(
                "a",
                """
                interface Node { id: ID! }
                type Book implements Node @key(fields: "id") { id: ID! title: String }
                type Film @key(fields: "id") { id: ID! }
                union Media = Book | Film
                type Query { media: [Media] node(id: ID!): Node }
                """,
            ),
            subgraph("b", 'type Book @key(fields: "id") { id: ID! pages: Int }'),
        ]
    )
    assert '@join__implements(graph: A, interface: "Node")' in supergraph
    assert '@join__unionMember(graph: A, member: "Book")' in supergraph
    assert "union Media @join__type(graph: A)" in flat(supergraph)
    assert supergraph.count("= Book | Film") == 1
    build_schema(supergraph)


def test_output_enums_take_every_value_with_join_enum_value() -> None:
    supergraph = compose(
        [
            subgraph("a", "enum Size { S M } type Query { a: Size }"),
            subgraph("b", "enum Size { M L } type Query { b: Size }"),
        ]
    )
    assert "  S @join__enumValue(graph: A)" in supergraph
    assert "  M @join__enumValue(graph: A) @join__enumValue(graph: B)" in supergraph
    assert "  L @join__enumValue(graph: B)" in supergraph


def test_input_only_enums_and_input_types_take_the_common_part() -> None:
    supergraph = compose(
        [
            subgraph(
                "a",
                "enum Size { S M } input F { size: Size q: String } type Query { a(f: F): Int }",
            ),
            subgraph(
                "b",
                "enum Size { M L } input F { size: Size limit: Int } type Query { b(f: F): Int }",
            ),
        ]
    )
    assert "enum Size @join__type(graph: A) @join__type(graph: B) {\n  M" in supergraph
    assert "  S " not in supergraph
    assert "input F @join__type(graph: A) @join__type(graph: B) {\n  size: Size\n}" in supergraph


def test_override_moves_the_field_and_drops_the_old_resolver() -> None:
    supergraph = compose(
        [
            subgraph("a", 'type P @key(fields: "id") { id: ID! name: String } type Query { p: P }'),
            subgraph(
                "b", 'type P @key(fields: "id") { id: ID! name: String @override(from: "a") }'
            ),
        ]
    )
    assert '  name: String @join__field(graph: B, override: "a")\n' in supergraph


def test_overridden_key_field_stays_as_used_overridden() -> None:
    supergraph = compose(
        [
            subgraph("a", 'type P @key(fields: "id") { id: ID! } type Query { p: P }'),
            subgraph("b", 'type P @key(fields: "id") { id: ID! @override(from: "a") @shareable }'),
        ]
    )
    assert "@join__field(graph: A, usedOverridden: true)" in supergraph
    assert '@join__field(graph: B, override: "a")' in supergraph


def test_inaccessible_links_the_spec_and_hides_the_element_from_the_api() -> None:
    supergraph = compose([subgraph("a", "type Query { open: Int secret: Int @inaccessible }")])
    assert '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)' in (supergraph)
    assert "  secret: Int @inaccessible" in supergraph
    loaded = load_supergraph(supergraph)
    assert "secret" not in loaded.api_schema.query_type.fields  # type: ignore[union-attr]


def test_extensions_descriptions_deprecations_and_defaults_are_kept() -> None:
    supergraph = compose(
        [
            subgraph(
                "a",
                '''
                """A thing for sale."""
                type P @key(fields: "id") {
                  id: ID!
                  "The old name."
                  label: String @deprecated(reason: "Use name.")
                }
                type Query { ps(first: Int = 10, after: String): [P] }
                ''',
            ),
            subgraph("b", 'extend type P @key(fields: "id") { id: ID! stock: Int }'),
        ]
    )
    assert '"""A thing for sale."""\ntype P' in supergraph
    assert '"""The old name."""' in supergraph
    assert '@deprecated(reason: "Use name.")' in supergraph
    assert "ps(first: Int = 10, after: String): [P]" in supergraph
    assert '@join__type(graph: B, key: "id", extension: true)' in supergraph


def test_renamed_root_types_become_query_and_mutation() -> None:
    sdl = (
        LINK
        + "schema { query: RootQuery mutation: RootMutation } "
        + "type RootQuery { a: Int } type RootMutation { b(x: Int): Int }"
    )
    supergraph = compose([SubgraphSource("a", "http://a", sdl)])
    assert "  query: Query\n  mutation: Mutation\n" in supergraph
    assert "RootQuery" not in supergraph


INTERFACE_OBJECT_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@interfaceObject"])\n'
)


def test_interface_object_fields_reach_the_implementations_with_a_bare_join_field() -> None:
    supergraph = compose(
        [
            subgraph(
                "a",
                'interface Media @key(fields: "id") { id: ID! title: String! } '
                'type Book implements Media @key(fields: "id") { id: ID! title: String! } '
                "type Query { books: [Book] }",
            ),
            SubgraphSource(
                "b",
                "http://b",
                INTERFACE_OBJECT_LINK
                + 'type Media @key(fields: "id") @interfaceObject { id: ID! reviews: [String!]! }',
            ),
        ]
    )
    assert (
        'interface Media @join__type(graph: A, key: "id") '
        '@join__type(graph: B, key: "id", isInterfaceObject: true) { id: ID! '
        "title: String! @join__field(graph: A) reviews: [String!]! @join__field(graph: B) }"
    ) in flat(supergraph)
    assert "title: String! reviews: [String!]! @join__field }" in flat(supergraph)
    loaded = load_supergraph(supergraph)
    assert loaded.types["Media"].subgraphs["b"].is_interface_object


def test_federation_1_subgraphs_are_upgraded_like_apollo_does() -> None:
    supergraph = compose(
        [
            SubgraphSource(
                "a",
                "http://a",
                'type Query { me: User } extend type User @key(fields: "id") '
                "{ id: ID! @external nick: String }",
            ),
            SubgraphSource(
                "b",
                "http://b",
                'type Query { who: User } type User @key(fields: "id") { id: ID! nick: String }',
            ),
        ]
    )
    assert '@join__type(graph: A, key: "id") @join__type(graph: B, key: "id")' in flat(supergraph)
    assert "id: ID! nick: String }" in flat(supergraph)


def test_tags_from_every_subgraph_are_kept_with_the_tag_spec_linked() -> None:
    tag_link = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
        'import: ["@key", "@tag", "@shareable"])\n'
    )
    supergraph = compose(
        [
            SubgraphSource(
                "a",
                "http://a",
                tag_link + 'type P @key(fields: "id") @tag(name: "public") '
                '{ id: ID! price(cur: String @tag(name: "money")): Int @tag(name: "money") } '
                "type Query { p: P }",
            ),
            SubgraphSource(
                "b",
                "http://b",
                tag_link + 'type P @key(fields: "id") @tag(name: "internal") { id: ID! }',
            ),
        ]
    )
    assert '@link(url: "https://specs.apollo.dev/tag/v0.3")' in supergraph
    assert "directive @tag(name: String!) repeatable on" in supergraph
    assert '@tag(name: "public") @tag(name: "internal")' in flat(supergraph)
    assert 'price(cur: String @tag(name: "money")): Int' in supergraph
    assert "P" in load_supergraph(supergraph).api_schema.type_map


def test_cost_and_list_size_reach_the_supergraph_with_the_highest_weight() -> None:
    link = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", '
        'import: ["@key", "@shareable", "@cost", "@listSize"])\n'
    )
    catalog = SubgraphSource(
        "catalog",
        "http://catalog",
        link
        + """
        type Query {
          items(first: Int = 10 @cost(weight: 2)): [Item!]! @listSize(slicingArguments: ["first"])
        }
        type Item @key(fields: "id") @cost(weight: 3) {
          id: ID!
          rating: Int @shareable @cost(weight: 4)
        }
        """,
    )
    reviews = SubgraphSource(
        "reviews",
        "http://reviews",
        link + 'type Item @key(fields: "id") { id: ID! rating: Int @shareable @cost(weight: 9) }',
    )
    supergraph = compose([catalog, reviews])
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"])' in (
        supergraph
    )
    assert "first: Int = 10 @cost(weight: 2)" in supergraph
    assert '@listSize(slicingArguments: ["first"])' in supergraph
    costs = load_supergraph(supergraph).costs
    assert costs.type_weights == {"Item": 3}
    assert costs.field_weights == {("Item", "rating"): 9}
    assert costs.argument_weights == {("Query", "items", "first"): 2}
    assert costs.list_sizes[("Query", "items")].slicing_arguments == ("first",)


def test_access_directives_reach_the_supergraph_and_every_subgraphs_protection_holds() -> None:
    link = (
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", '
        'import: ["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy"])\n'
    )
    orders = SubgraphSource(
        "orders",
        "http://orders",
        link
        + """
        type Query { order(id: ID!): Order @authenticated }
        type Order @key(fields: "id") {
          id: ID!
          customer: String @shareable @requiresScopes(scopes: [["orders:read"], ["operator"]])
        }
        type Note @policy(policies: [["own-location"]]) { text: String }
        """,
    )
    crm = SubgraphSource(
        "crm",
        "http://crm",
        link
        + """
        type Order @key(fields: "id") {
          id: ID!
          customer: String @shareable @requiresScopes(scopes: [["pii"]])
        }
        """,
    )
    supergraph = compose([orders, crm])
    for spec in ("authenticated", "requiresScopes", "policy"):
        assert f'@link(url: "https://specs.apollo.dev/{spec}/v0.1", for: SECURITY)' in supergraph
    assert "scalar requiresScopes__Scope" in supergraph
    assert "order(id: ID!): Order @join__field(graph: ORDERS) @authenticated" in flat(supergraph)
    access = load_supergraph(supergraph).access
    assert access.fields[("Query", "order")].authenticated
    # Both subgraphs' scopes are required: orders:read or operator, and pii.
    assert set(access.fields[("Order", "customer")].scopes) == {
        frozenset({"orders:read", "pii"}),
        frozenset({"operator", "pii"}),
    }
    assert access.types["Note"].policies == (frozenset({"own-location"}),)
    assert "requiresScopes" not in str(load_supergraph(supergraph).api_schema.type_map)
