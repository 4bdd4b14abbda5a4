"""Hand-written supergraphs in Apollo's format, and planning them to printed plans.

``supergraph(graphs, types)`` adds the parts every supergraph repeats (the @link schema
header, the join/link definitions, the join__Graph enum) around type definitions written
exactly as Apollo's composition prints them.
"""

# ruff: noqa: E501 (supergraph SDL is kept as Apollo prints it, one directive per line)

from __future__ import annotations

from textwrap import dedent

from graphql import parse, validate

from gateway.planner import build_plan, print_plan
from gateway.supergraph import Supergraph, load_supergraph

_HEADER = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)
{
  query: Query%(mutation)s%(subscription)s
}

directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__FieldSet

scalar join__FieldValue

scalar link__Import

enum link__Purpose {
  SECURITY
  EXECUTION
}

enum join__Graph {
%(graphs)s
}
"""


def supergraph_sdl(graphs: list[str], types: str) -> str:
    """A supergraph with subgraphs ``graphs`` (lower-case names) and these type definitions."""
    enum = "\n".join(
        f'  {name.upper()} @join__graph(name: "{name}", url: "http://{name}.test/graphql")'
        for name in graphs
    )
    body = dedent(types)
    header = _HEADER % {
        "graphs": enum,
        "mutation": "\n  mutation: Mutation" if "type Mutation" in body else "",
        "subscription": "\n  subscription: Subscription" if "type Subscription" in body else "",
    }
    return header + body


def load(graphs: list[str], types: str) -> Supergraph:
    return load_supergraph(supergraph_sdl(graphs, types))


def plan_text(supergraph: Supergraph, query: str, operation_name: str | None = None) -> str:
    """The printed plan; the query must be valid against the API schema, as in the gateway."""
    document = parse(query)
    errors = validate(supergraph.api_schema, document)
    assert not errors, errors
    return print_plan(build_plan(supergraph, document, operation_name))


def expected(text: str) -> str:
    return dedent(text).strip("\n")


SHOP_SDL = supergraph_sdl(
    ["accounts", "orders", "products"],
    """
    type Query
      @join__type(graph: ACCOUNTS)
      @join__type(graph: ORDERS)
      @join__type(graph: PRODUCTS)
    {
      me: User @join__field(graph: ACCOUNTS)
      product(id: ID!): Product @join__field(graph: PRODUCTS)
      order(id: ID!): Order @join__field(graph: ORDERS)
    }

    type Mutation
      @join__type(graph: ACCOUNTS)
      @join__type(graph: ORDERS)
      @join__type(graph: PRODUCTS)
    {
      login(name: String!): User @join__field(graph: ACCOUNTS)
      placeOrder(productId: ID!, quantity: Int!): Order @join__field(graph: ORDERS)
      cancelOrder(id: ID!): Order @join__field(graph: ORDERS)
      renameProduct(id: ID!, name: String!): Product @join__field(graph: PRODUCTS)
    }

    type Subscription @join__type(graph: ORDERS) {
      orderPlaced: Order
    }

    type User
      @join__type(graph: ACCOUNTS, key: "id")
      @join__type(graph: ORDERS, key: "id")
    {
      id: ID!
      name: String @join__field(graph: ACCOUNTS)
      orders: [Order] @join__field(graph: ORDERS)
    }

    type Order @join__type(graph: ORDERS, key: "id") {
      id: ID!
      quantity: Int
      buyer: User
      product: Product
    }

    type Product
      @join__type(graph: ORDERS, key: "id", resolvable: false)
      @join__type(graph: PRODUCTS, key: "id")
    {
      id: ID!
      name: String @join__field(graph: PRODUCTS)
      price: Int @join__field(graph: PRODUCTS)
    }
    """,
)

SHOP = load_supergraph(SHOP_SDL)
