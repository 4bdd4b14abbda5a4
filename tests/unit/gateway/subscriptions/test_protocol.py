"""Reading graphql-transport-ws client messages."""

from __future__ import annotations

import pytest

from gateway.subscriptions.protocol import (
    BAD_REQUEST,
    Complete,
    ConnectionInit,
    Ping,
    Pong,
    ProtocolViolation,
    Subscribe,
    next_frame,
    next_prefix,
    parse_message,
)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ('{"type":"connection_init"}', ConnectionInit(None)),
        ('{"type":"connection_init","payload":{"apiKey":"k"}}', ConnectionInit({"apiKey": "k"})),
        ('{"type":"ping","payload":null}', Ping(None)),
        ('{"type":"pong"}', Pong()),
        ('{"type":"complete","id":"7"}', Complete("7")),
        (
            '{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":{"x":1}}}',
            Subscribe("1", "{ a }", None, {"x": 1}, None),
        ),
        (
            b'{"type":"subscribe","id":"1","payload":{"query":"{ a }","operationName":"A"}}',
            Subscribe("1", "{ a }", "A", None, None),
        ),
    ],
)
def test_valid_client_messages_are_read(frame: str | bytes, message: object) -> None:
    assert parse_message(frame) == message


@pytest.mark.parametrize(
    "frame",
    [
        "",
        "null",
        '{"type":"connection_ack"}',
        '{"type":"error","id":"1","payload":[]}',
        '{"type":"subscribe","id":"","payload":{"query":"{ a }"}}',
        '{"type":"subscribe","id":1,"payload":{"query":"{ a }"}}',
        '{"type":"subscribe","id":"1","payload":{"query":"{ a }","variables":[]}}',
        '{"type":"subscribe","id":"1","payload":{"query":"{ a }","operationName":3}}',
        '{"type":"complete"}',
        '{"type":"ping","payload":"hi"}',
        '{"type":7}',
    ],
)
def test_invalid_client_messages_are_a_4400_violation(frame: str) -> None:
    with pytest.raises(ProtocolViolation) as raised:
        parse_message(frame)

    assert raised.value.code == BAD_REQUEST


def test_a_next_frame_embeds_the_encoded_payload() -> None:
    assert next_frame(next_prefix('a"b'), b'{"data":1}') == (
        b'{"id":"a\\"b","type":"next","payload":{"data":1}}'
    )
