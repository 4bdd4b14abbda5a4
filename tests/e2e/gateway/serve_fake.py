"""Serve the gateway's HTTP front door over the fake engine on an inherited socket.

``python -m tests.e2e.gateway.serve_fake FD``: the parent binds the socket (port 0), so
there is no race for a free port.
"""

from __future__ import annotations

import sys

from gateway.app import create_app
from gateway.server import serve
from tests.unit.gateway.http.fake_engine import FakeEngine

if __name__ == "__main__":
    serve(create_app(FakeEngine()), fd=int(sys.argv[1]), log_level="warning")
