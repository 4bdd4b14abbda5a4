"""Subgraph SDLs for composition tests, in the shape ``_service { sdl }`` serves them."""

from __future__ import annotations

from gateway.supergraph.compose import SubgraphSource

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", '
    'import: ["@key", "@shareable", "@external", "@provides", "@requires", "@override", '
    '"@inaccessible"])\n'
)


def subgraph(name: str, sdl: str) -> SubgraphSource:
    return SubgraphSource(name, f"http://127.0.0.1:4200/{name}", LINK + sdl)


# The Guild's gateway benchmark (accounts, inventory, products, reviews).
BENCHMARK = [
    subgraph(
        "accounts",
        """
        type Query { me: User user(id: ID!): User users: [User] }
        type User @key(fields: "id") { id: ID! name: String username: String birthday: Int }
        """,
    ),
    subgraph(
        "inventory",
        """
        type Product @key(fields: "upc") {
          upc: String!
          weight: Int @external
          price: Int @external
          inStock: Boolean
          shippingEstimate: Int @requires(fields: "price weight")
        }
        """,
    ),
    subgraph(
        "products",
        """
        type Query { topProducts(first: Int = 5): [Product] }
        type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int }
        """,
    ),
    subgraph(
        "reviews",
        """
        type Review @key(fields: "id") {
          id: ID!
          body: String
          product: Product
          author: User @provides(fields: "username")
        }
        type User @key(fields: "id") { id: ID! username: String @external reviews: [Review] }
        type Product @key(fields: "upc") { upc: String! reviews: [Review] }
        """,
    ),
]
