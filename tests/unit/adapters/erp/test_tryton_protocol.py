"""How the Tryton adapter speaks JSON-RPC and maps Tryton's answers to the port's errors."""

from __future__ import annotations

import base64
import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.processes import free_port
from erp.port import ErpRateLimited, ErpRejected, ErpUnavailable
from erp.tryton.erp import TrytonErp

Handler = Callable[[dict[str, Any]], web.Response]
Serve = Callable[[Callable[[web.Request], Awaitable[web.Response]]], Awaitable[str]]


def rpc_result(request: dict[str, Any], result: Any) -> web.Response:
    return web.json_response({"id": request["id"], "result": result})


class FakeTryton:
    """Answers login and preferences; everything else goes to `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.logins = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    async def __call__(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        if body["method"] == "common.db.login":
            self.logins += 1
            return rpc_result(body, [1, f"session-{self.logins}", None])
        if body["method"] == "model.res.user.get_preferences":
            return rpc_result(body, {"company": 7})
        return self.handler(body)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serves a handler over HTTP on a local port; the URL of its database's RPC root."""
    servers: list[TestServer] = []

    async def start(handler: Callable[[web.Request], Awaitable[web.Response]]) -> str:
        async def rpc(request: web.Request) -> web.Response:
            return await handler(request)

        app = web.Application()
        app.router.add_post("/db/rpc/", rpc)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("/"))

    yield start
    for server in servers:
        await server.close()


async def make_erp(serve: Serve, handler: Handler) -> tuple[TrytonErp, FakeTryton]:
    fake = FakeTryton(handler)
    erp = TrytonErp(await serve(fake), "db", "admin", "secret")
    return erp, fake


async def test_calls_carry_the_session_and_the_company_context(serve: Serve) -> None:
    erp, fake = await make_erp(serve, lambda body: rpc_result(body, []))
    await erp.call("sale.sale.search_read", [], 0, None, None, ["id"])
    await erp.close()
    last = fake.requests[-1]
    assert last["method"] == "model.sale.sale.search_read"
    assert last["params"][-1] == {"company": 7, "language": "en"}
    token = fake.headers[-1]["Authorization"].removeprefix("Session ")
    assert base64.b64decode(token).decode() == "admin:1:session-1"


async def test_decimals_and_datetimes_round_trip_in_tryton_encoding(serve: Serve) -> None:
    moment = {
        "__class__": "datetime", "year": 2026, "month": 1, "day": 2, "hour": 3,
        "minute": 4, "second": 5, "microsecond": 6,
    }  # fmt: skip
    erp, fake = await make_erp(
        serve,
        lambda body: rpc_result(
            body, [{"price": {"__class__": "Decimal", "decimal": "1.10"}, "at": moment}]
        ),
    )
    (row,) = await erp.call("x.search_read", [("price", "=", Decimal("1.10"))])
    await erp.close()
    assert row == {
        "price": Decimal("1.10"),
        "at": datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),
    }
    assert fake.requests[-1]["params"][0] == [
        ["price", "=", {"__class__": "Decimal", "decimal": "1.10"}]
    ]


async def test_user_error_is_a_permanent_rejection_with_tryton_message(serve: Serve) -> None:
    erp, _ = await make_erp(
        serve,
        lambda body: web.json_response(
            {"id": body["id"], "error": ["UserError", ["The sale has no address.", "", ""]]},
        ),
    )
    with pytest.raises(ErpRejected, match="The sale has no address"):
        await erp.call("sale.sale.quote", [1])
    await erp.close()


async def test_server_crash_is_retryable(serve: Serve) -> None:
    erp, _ = await make_erp(
        serve, lambda body: web.json_response({"id": body["id"], "error": ["boom", "trace"]})
    )
    with pytest.raises(ErpUnavailable):
        await erp.call("sale.sale.quote", [1])
    await erp.close()


async def test_too_many_requests_keeps_retry_after(serve: Serve) -> None:
    erp, _ = await make_erp(
        serve, lambda body: web.Response(status=429, headers={"Retry-After": "3"})
    )
    with pytest.raises(ErpRateLimited) as error:
        await erp.call("sale.sale.search_read", [])
    await erp.close()
    assert error.value.retry_after == 3.0


async def test_expired_session_logs_in_again_once(serve: Serve) -> None:
    answers = iter([web.Response(status=401), None])

    def handler(body: dict[str, Any]) -> web.Response:
        return next(answers) or rpc_result(body, ["ok"])

    erp, fake = await make_erp(serve, handler)
    assert await erp.call("sale.sale.search_read", []) == ["ok"]
    await erp.close()
    assert fake.logins == 2


async def test_unreachable_server_is_retryable() -> None:
    # a port nothing listens on: the connection is refused
    erp = TrytonErp(f"http://127.0.0.1:{free_port()}", "db", "admin", "x")
    with pytest.raises(ErpUnavailable) as error:
        await erp.find_sale("RG-1")
    await erp.close()
    assert error.value.retryable


async def test_wrong_password_is_rejected_not_retried(serve: Serve) -> None:
    async def deny(request: web.Request) -> web.Response:
        return web.Response(status=403)

    erp = TrytonErp(await serve(deny), "db", "admin", "x")
    with pytest.raises(ErpRejected):
        await erp.find_sale("RG-1")
    await erp.close()
