"""Starting a real gateway process (uvicorn) for end-to-end tests, and stopping it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]

    def terminate(self, timeout: float = 10.0) -> tuple[int, str]:
        """SIGTERM, then wait; returns the exit code and what the process wrote."""
        self.process.send_signal(signal.SIGTERM)
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
            raise AssertionError(f"no exit within {timeout}s of SIGTERM:\n{out.decode()}") from None
        return self.process.returncode, out.decode(errors="replace")


@contextlib.contextmanager
def running_server(
    module: str, *args: str, startup_timeout: float = 30.0
) -> Iterator[RunningServer]:
    """Run ``python -m module FD *args`` on a socket bound here to a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    fd = sock.fileno()
    argv = [sys.executable, "-m", module, str(fd), *args]
    with _running(argv, port, (fd,), startup_timeout, sock.close) as server:
        yield server


@contextlib.contextmanager
def running_command(*args: str, startup_timeout: float = 30.0) -> Iterator[RunningServer]:
    """Run ``retailgraph *args --host 127.0.0.1 --port P`` on a free port."""
    port = free_port()
    argv = [sys.executable, "-m", "retailgraph.cli", *args, "--host", "127.0.0.1"]
    with _running([*argv, "--port", str(port)], port, (), startup_timeout) as server:
        yield server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _running(
    argv: list[str],
    port: int,
    pass_fds: tuple[int, ...],
    startup_timeout: float,
    after_start: Callable[[], None] | None = None,
) -> Iterator[RunningServer]:
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        pass_fds=pass_fds,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if after_start is not None:
        after_start()
    server = RunningServer(f"http://127.0.0.1:{port}", process)
    try:
        _wait_until_healthy(server, startup_timeout)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _wait_until_healthy(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            out = server.process.stdout.read().decode() if server.process.stdout else ""
            raise AssertionError(f"the server exited during startup:\n{out}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/health", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not become healthy in time")
