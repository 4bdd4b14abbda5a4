from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from gateway.executor import FetchFailed, HttpFetcher, HttpOptions, SubgraphOptions
from gateway.executor.headers import subgraph_headers

BODY = b'{"query":"{me{id}}","variables":{}}'
HEADERS = {"content-type": "application/json"}

Handler = Callable[[Request], Awaitable[Response]]


def fetcher_with(handler: Handler, options: HttpOptions | None = None) -> HttpFetcher:
    """A fetcher whose ``accounts`` subgraph is ``handler``, called in process."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    options = options or HttpOptions()
    sub = options.subgraphs.get("accounts", SubgraphOptions())
    in_process = SubgraphOptions(url="http://accounts.test/graphql", app=app, timeout=sub.timeout)
    return HttpFetcher(
        {"accounts": "http://unreachable.invalid/graphql"},
        replace(options, subgraphs={"accounts": in_process}),
    )


def answering(response: Response) -> Handler:
    async def handler(request: Request) -> Response:
        return response

    return handler


async def test_fetch_posts_the_body_to_the_subgraph_url_and_decodes_the_answer() -> None:
    seen: list[tuple[str, bytes, str]] = []

    async def handler(request: Request) -> Response:
        seen.append((str(request.url), await request.body(), request.headers["x-correlation-id"]))
        return JSONResponse({"data": {"me": {"id": "1"}}})

    fetcher = fetcher_with(handler)
    response = await fetcher.fetch("accounts", BODY, {**HEADERS, "x-correlation-id": "c-1"})
    await fetcher.aclose()

    assert response == {"data": {"me": {"id": "1"}}}
    assert seen == [("http://accounts.test/graphql", BODY, "c-1")]


async def test_slow_subgraph_times_out_with_its_own_timeout() -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(5)
        return JSONResponse({"data": {}})

    options = HttpOptions(default_timeout=10, subgraphs={"accounts": SubgraphOptions(timeout=0.05)})
    fetcher = fetcher_with(handler, options)
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, HEADERS)
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_TIMEOUT"
    assert "accounts" in failed.value.message


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (Response("oops", status_code=500), "SUBREQUEST_HTTP_ERROR"),
        (Response("<html>not json</html>"), "SUBREQUEST_MALFORMED_RESPONSE"),
        (JSONResponse([1, 2]), "SUBREQUEST_MALFORMED_RESPONSE"),
        (JSONResponse({"hello": 1}), "SUBREQUEST_MALFORMED_RESPONSE"),
    ],
)
async def test_unusable_answers_fail_with_a_clear_code(response: Response, code: str) -> None:
    fetcher = fetcher_with(answering(response))
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, HEADERS)
    await fetcher.aclose()

    assert failed.value.code == code


async def test_unknown_subgraph_is_an_http_error() -> None:
    fetcher = fetcher_with(answering(JSONResponse({"data": {}})))
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("inventory", BODY, HEADERS)
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_HTTP_ERROR"


async def test_subgraph_given_as_an_app_is_called_in_process() -> None:
    received: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        received.append(message["body"])
        body = orjson.dumps({"data": {"path": scope["path"]}})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    fetcher = HttpFetcher(
        {"accounts": "http://unreachable.invalid/"},
        HttpOptions(subgraphs={"accounts": SubgraphOptions(app=app)}),
    )
    response = await fetcher.fetch("accounts", BODY, HEADERS)
    await fetcher.aclose()

    assert response == {"data": {"path": "/graphql"}}
    assert received == [BODY]


async def test_in_process_app_that_crashes_is_an_http_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("bug in the subgraph")

    fetcher = HttpFetcher({}, HttpOptions(subgraphs={"accounts": SubgraphOptions(app=app)}))
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, HEADERS)
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_HTTP_ERROR"


def test_subgraph_headers_forward_the_correlation_id_and_allowed_headers_only() -> None:
    headers = subgraph_headers(
        {"X-Correlation-ID": "abc", "Authorization": "Bearer t", "Cookie": "s=1"}
    )

    assert headers["x-correlation-id"] == "abc"
    assert headers["authorization"] == "Bearer t"
    assert "cookie" not in headers


def test_subgraph_headers_drop_values_that_would_split_the_request() -> None:
    headers = subgraph_headers(
        {"Authorization": "Bearer t\r\nhost: evil", "X-Correlation-ID": "c\nx: y"}
    )

    assert "authorization" not in headers
    assert "\n" not in headers["x-correlation-id"]


def test_subgraph_headers_generate_a_correlation_id_when_missing() -> None:
    first = subgraph_headers({})["x-correlation-id"]
    second = subgraph_headers({})["x-correlation-id"]

    assert first
    assert first != second


async def test_a_4xx_graphql_answer_passes_the_subgraphs_errors_on() -> None:
    body = {"errors": [{"message": "Unknown field", "extensions": {"code": "BAD"}}]}
    fetcher = fetcher_with(answering(JSONResponse(body, status_code=400)))

    response = await fetcher.fetch("accounts", BODY, HEADERS)
    await fetcher.aclose()

    assert response == body
