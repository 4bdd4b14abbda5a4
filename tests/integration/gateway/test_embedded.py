"""The engine in the embedded mode: a real subgraph app (adapters.graphql) called in process."""

from __future__ import annotations

from typing import Any

import strawberry

from adapters.graphql.subgraph import FederatedSchema, subgraph_app
from gateway.executor import SubgraphOptions
from gateway.federated import FederatedEngine
from kernel import correlation
from kernel.errors import InvalidInput
from tests.unit.gateway.planner.support import supergraph_sdl

SUPERGRAPH = supergraph_sdl(
    ["echo"],
    """
    type Query @join__type(graph: ECHO) {
      correlation: String @join__field(graph: ECHO)
      refuse: String @join__field(graph: ECHO)
    }
    """,
)


@strawberry.type
class Query:
    @strawberry.field
    def correlation(self) -> str | None:
        return correlation.current()

    @strawberry.field
    def refuse(self) -> str | None:
        raise InvalidInput("not today")


async def context() -> dict[str, Any]:
    return {}


def embedded_engine() -> FederatedEngine:
    app = subgraph_app(FederatedSchema(query=Query), context)
    return FederatedEngine(SUPERGRAPH, subgraphs={"echo": SubgraphOptions(app=app)})


async def test_the_subgraph_sees_the_clients_correlation_id() -> None:
    engine = embedded_engine()

    result = await engine.execute(
        engine.prepare("{ correlation }", None), None, {"X-Correlation-ID": "order-42"}
    )
    await engine.aclose()

    assert result.data == {"correlation": "order-42"}


async def test_a_domain_error_keeps_its_code_and_names_the_subgraph() -> None:
    engine = embedded_engine()

    result = await engine.execute(engine.prepare("{ correlation refuse }", None), None, {})
    await engine.aclose()

    assert result.data is not None
    assert result.data["refuse"] is None
    assert result.data["correlation"]  # one was generated for the request
    assert [(e.message, e.code, e.path, e.extensions["serviceName"]) for e in result.errors] == [
        ("not today", "BAD_USER_INPUT", ("refuse",), "echo")
    ]
