"""The network subgraph client (aiohttp) against a real socket server that misbehaves on
request."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway.executor import FetchFailed, HttpFetcher, HttpOptions, SubgraphOptions

BODY = b'{"query":"{me{id}}","variables":{}}'
OK = b'{"data":{"me":{"id":"1"}}}'

Responder = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request (its head and body); returns whether to keep the connection."""


class Server:
    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self.respond(request, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def json_ok(request: bytes, writer: asyncio.StreamWriter) -> bool:
    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(OK), OK))
    return True


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Responder], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(respond: Responder) -> Server:
        server = Server(respond)
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(listening)
        server.port = listening.sockets[0].getsockname()[1]
        return server

    yield start
    for listening in servers:
        listening.close()


def fetcher_for(server: Server, timeout: float = 5) -> HttpFetcher:
    return HttpFetcher(
        {"accounts": f"http://127.0.0.1:{server.port}/accounts"},
        HttpOptions(subgraphs={"accounts": SubgraphOptions(timeout=timeout)}),
    )


async def test_fetches_reuse_one_keep_alive_connection(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    server = await serve(json_ok)
    fetcher = fetcher_for(server)

    answers = [await fetcher.fetch("accounts", BODY, {"x-correlation-id": "c"}) for _ in range(5)]
    await fetcher.aclose()

    assert answers == [{"data": {"me": {"id": "1"}}}] * 5
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /accounts HTTP/1.1\r\n")
    assert b"x-correlation-id: c\r\n" in server.requests[0]
    assert server.requests[0].endswith(BODY)


async def test_concurrent_fetches_open_parallel_connections(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    async def slowly(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        return await json_ok(request, writer)

    server = await serve(slowly)
    fetcher = fetcher_for(server)

    await asyncio.gather(*(fetcher.fetch("accounts", BODY, {}) for _ in range(4)))
    await fetcher.aclose()

    assert server.connections == 4


async def test_a_connection_the_server_closed_is_replaced_transparently(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    async def once(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await json_ok(request, writer)
        return False  # the server drops the connection after each answer, silently

    server = await serve(once)
    fetcher = fetcher_for(server)

    first = await fetcher.fetch("accounts", BODY, {})
    await asyncio.sleep(0.05)
    second = await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert first == second == {"data": {"me": {"id": "1"}}}
    assert server.connections == 2


async def test_chunked_answers_are_reassembled(serve: Callable[..., Awaitable[Server]]) -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        head, tail = OK[:10], OK[10:]
        writer.write(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(head), head, len(tail), tail)
        )
        return True

    fetcher = fetcher_for(await serve(chunked))
    answer = await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert answer == {"data": {"me": {"id": "1"}}}


async def test_a_slow_answer_times_out_and_its_connection_is_not_reused(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    calls = 0

    async def slow_first(request: bytes, writer: asyncio.StreamWriter) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(0.3)
        return await json_ok(request, writer)

    server = await serve(slow_first)
    fetcher = fetcher_for(server, timeout=0.1)

    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, {})
    answer = await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_TIMEOUT"
    assert answer == {"data": {"me": {"id": "1"}}}
    assert server.connections == 2


async def test_garbage_instead_of_http_is_an_http_error(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    async def garbage(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"\x00\x01 not http at all\r\n\r\n")
        return False

    fetcher = fetcher_for(await serve(garbage))
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_HTTP_ERROR"


async def test_a_refused_connection_is_an_http_error(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    server = await serve(json_ok)
    fetcher = HttpFetcher({"accounts": "http://127.0.0.1:1/graphql"})

    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_HTTP_ERROR"
    assert server.connections == 0


async def test_header_values_cannot_split_the_request(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    server = await serve(json_ok)
    fetcher = fetcher_for(server)

    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, {"authorization": "x\r\nhost: evil"})
    answer = await fetcher.fetch("accounts", BODY, {"authorization": "fine"})
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_HTTP_ERROR"
    assert answer == {"data": {"me": {"id": "1"}}}
    assert all(b"evil" not in request for request in server.requests)


def drop_the_second_request() -> Responder:
    calls = 0

    async def respond(request: bytes, writer: asyncio.StreamWriter) -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            return False  # the connection breaks before any answer
        return await json_ok(request, writer)

    return respond


async def test_a_query_is_sent_again_when_a_reused_connection_breaks(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    server = await serve(drop_the_second_request())
    fetcher = fetcher_for(server)

    await fetcher.fetch("accounts", BODY, {})
    answer = await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert answer == {"data": {"me": {"id": "1"}}}
    assert len(server.requests) == 3


async def test_a_mutation_is_never_sent_twice(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve(drop_the_second_request())
    fetcher = fetcher_for(server)

    await fetcher.fetch("accounts", BODY, {}, mutation=True)
    with pytest.raises(FetchFailed) as failed:
        await fetcher.fetch("accounts", BODY, {}, mutation=True)
    await fetcher.aclose()

    assert failed.value.code == "SUBREQUEST_HTTP_ERROR"
    assert len(server.requests) == 2


async def test_an_answer_delimited_by_closing_the_connection_is_read_whole(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    async def until_close(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + OK)
        await writer.drain()
        return False

    server = await serve(until_close)
    fetcher = fetcher_for(server)

    answers = [await fetcher.fetch("accounts", BODY, {}) for _ in range(2)]
    await fetcher.aclose()

    assert answers == [{"data": {"me": {"id": "1"}}}] * 2
    assert server.connections == 2


async def test_cookies_a_subgraph_sets_are_never_sent_back(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    async def with_cookie(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nset-cookie: session=secret; Path=/\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(OK), OK)
        )
        return True

    server = await serve(with_cookie)
    fetcher = fetcher_for(server)

    for _ in range(2):
        await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert b"secret" not in server.requests[1]


async def test_a_compressed_answer_is_decoded(serve: Callable[..., Awaitable[Server]]) -> None:
    async def gzipped(request: bytes, writer: asyncio.StreamWriter) -> bool:
        body = gzip.compress(OK)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )
        return True

    fetcher = fetcher_for(await serve(gzipped))
    answer = await fetcher.fetch("accounts", BODY, {})
    await fetcher.aclose()

    assert answer == {"data": {"me": {"id": "1"}}}
