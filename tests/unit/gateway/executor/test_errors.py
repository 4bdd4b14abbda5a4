from __future__ import annotations

from typing import Any

import pytest

from gateway.planner.plan import QueryPlan
from tests.unit.gateway.executor.fakes import FakeSubgraphs, answer, failing, run
from tests.unit.gateway.executor.test_entities import users_then_names

USERS = [{"__typename": "User", "id": str(i)} for i in range(3)]


async def test_entity_error_paths_become_the_clients_paths() -> None:
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": USERS}),
        accounts=answer(
            {"_entities": [{"name": "a"}, None, {"name": "c"}]},
            [
                {
                    "message": "user 1 is hidden",
                    "path": ["_entities", 1, "name"],
                    "extensions": {"code": "FORBIDDEN", "reason": "privacy"},
                }
            ],
        ),
    )

    result = await run("{ users { name } }", users_then_names(), subgraphs)

    assert result.data == {"users": [{"name": "a"}, {"name": None}, {"name": "c"}]}
    assert [e.to_dict() for e in result.errors] == [
        {
            "message": "user 1 is hidden",
            "path": ["users", 1, "name"],
            "extensions": {"reason": "privacy", "serviceName": "accounts", "code": "FORBIDDEN"},
        }
    ]


async def test_root_fetch_error_paths_are_kept_and_get_a_default_code() -> None:
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": None}, [{"message": "boom", "path": ["users"]}]),
    )

    result = await run("{ users { id } }", QueryPlan(users_then_names().node.nodes[0]), subgraphs)  # type: ignore[union-attr]

    assert result.data == {"users": None}
    assert result.errors[0].path == ("users",)
    assert result.errors[0].code == "DOWNSTREAM_SERVICE_ERROR"
    assert result.errors[0].extensions == {"serviceName": "reviews"}


async def test_failing_subgraph_gives_partial_data_and_a_coded_error() -> None:
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": USERS}),
        accounts=failing("SUBREQUEST_HTTP_ERROR", "HTTP fetch failed from 'accounts': 503"),
    )

    result = await run("{ users { id name } }", users_then_names(), subgraphs)

    assert result.data == {"users": [{"id": str(i), "name": None} for i in range(3)]}
    assert [(e.code, e.extensions["serviceName"]) for e in result.errors] == [
        ("SUBREQUEST_HTTP_ERROR", "accounts")
    ]


async def test_failing_root_subgraph_nulls_the_data_it_should_have_given() -> None:
    subgraphs = FakeSubgraphs(reviews=failing("SUBREQUEST_TIMEOUT", "too slow"))

    result = await run("{ users { id name } }", users_then_names(), subgraphs)

    assert result.data == {"users": None}
    assert [e.code for e in result.errors] == ["SUBREQUEST_TIMEOUT"]


async def test_wrong_number_of_entities_is_a_malformed_response() -> None:
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": USERS}),
        accounts=answer({"_entities": [{"name": "only one"}]}),
    )

    result = await run("{ users { id name } }", users_then_names(), subgraphs)

    assert result.data == {"users": [{"id": str(i), "name": None} for i in range(3)]}
    assert [e.code for e in result.errors] == ["SUBREQUEST_MALFORMED_RESPONSE"]


@pytest.mark.parametrize(
    ("root", "accounts"),
    [
        ({"users": "oops"}, {"data": {"_entities": []}}),
        ({"users": [1, "x", None, []]}, {"data": {"_entities": []}}),
        ({"users": {"not": "a list"}}, {"data": {"_entities": []}}),
        ({"users": [{"__typename": "User", "id": {"deep": ["x"]}}]}, {"data": None}),
        ({"users": USERS}, {"data": {"_entities": ["x", 3, []]}}),
        ({"users": USERS}, {"data": {"_entities": "nope"}, "errors": "not a list"}),
        ({"users": USERS}, {"data": [], "errors": [{"path": "x"}, 7, {"extensions": 1}]}),
        ({"users": USERS}, {"errors": [{"message": {"not": "text"}, "path": ["_entities", 99]}]}),
    ],
)
async def test_malformed_subgraph_answers_never_raise(
    root: dict[str, Any], accounts: dict[str, Any]
) -> None:
    subgraphs = FakeSubgraphs(reviews=answer(root), accounts=lambda query, variables: accounts)

    result = await run("{ users { id name } }", users_then_names(), subgraphs)

    assert result.data is not None
    assert all(e.code for e in result.errors)


async def test_a_fetcher_defect_becomes_an_error_not_an_exception() -> None:
    def broken(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("bug")

    subgraphs = FakeSubgraphs(reviews=answer({"users": USERS}), accounts=broken)

    result = await run("{ users { id name } }", users_then_names(), subgraphs)

    assert result.data == {"users": [{"id": str(i), "name": None} for i in range(3)]}
    assert "KeyError" in result.errors[0].message


async def test_a_failed_fetch_is_logged_with_the_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subgraphs = FakeSubgraphs(
        reviews=answer({"users": USERS}),
        accounts=failing("SUBREQUEST_TIMEOUT", "too slow"),
    )

    await run(
        "{ users { name } }", users_then_names(), subgraphs, headers={"X-Correlation-ID": "c-9"}
    )

    assert "accounts SUBREQUEST_TIMEOUT" in caplog.text
    assert "c-9" in caplog.text
