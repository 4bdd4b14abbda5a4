"""Ready-made WebSocket frames: the bytes websockets itself would write."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from gateway.subscriptions.frames import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65_535, 65_536, 70_000])
def test_a_text_frame_is_what_websockets_writes_for_a_server_text_message(size: int) -> None:
    payload = b"x" * size

    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])

    assert text_frame(payload) == expected
