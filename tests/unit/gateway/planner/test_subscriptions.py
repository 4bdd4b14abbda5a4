"""Subscriptions: the primary fetch opens the subscription on the field's owner; the rest
is an entity plan that runs on every event."""

from __future__ import annotations

from graphql import parse

from gateway.planner import build_plan
from gateway.planner.plan import Fetch, SubscriptionNode
from tests.unit.gateway.planner.support import SHOP as SUPERGRAPH
from tests.unit.gateway.planner.support import expected, plan_text


def test_subscription_primary_fetch_is_a_subscription_operation() -> None:
    plan = build_plan(SUPERGRAPH, parse("subscription { orderPlaced { id } }"), None)
    assert isinstance(plan.node, SubscriptionNode)
    assert isinstance(plan.node.primary, Fetch)
    assert plan.node.primary.operation_kind == "subscription"
    assert plan.node.primary.operation == "subscription{orderPlaced{id}}"
    assert plan.node.rest is None


def test_subscription_event_fields_from_other_subgraphs_are_the_rest_of_the_plan() -> None:
    plan = plan_text(
        SUPERGRAPH,
        """
        subscription OnOrder {
          orderPlaced {
            quantity
            buyer {
              name
            }
            product {
              name
            }
          }
        }
        """,
        "OnOrder",
    )
    assert plan == expected(
        """
        QueryPlan {
          Subscription {
            Primary: {
              Fetch(service: "orders") {
                {
                  orderPlaced {
                    quantity
                    buyer {
                      __typename
                      id
                    }
                    product {
                      __typename
                      id
                    }
                  }
                }
              },
            },
            Rest: {
              Parallel {
                Flatten(path: "orderPlaced.buyer") {
                  Fetch(service: "accounts") {
                    {
                      ... on User {
                        __typename
                        id
                      }
                    } =>
                    {
                      ... on User {
                        name
                      }
                    }
                  },
                },
                Flatten(path: "orderPlaced.product") {
                  Fetch(service: "products") {
                    {
                      ... on Product {
                        __typename
                        id
                      }
                    } =>
                    {
                      ... on Product {
                        name
                      }
                    }
                  },
                },
              },
            },
          },
        }
        """
    )
