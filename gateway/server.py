"""Serving the gateway with uvicorn: fast loop and parser when present, no access log.

uvicorn's own signal handling gives the graceful shutdown: on SIGTERM it stops accepting,
finishes in-flight requests and runs the app's lifespan shutdown (which closes the
engine's HTTP pools). uvicorn then re-raises the signal to the handler it found at start;
a SIGTERM we asked for is a clean stop, so that handler lets the process exit with 0.
"""

from __future__ import annotations

import gc
import signal
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from gateway.http.params import Limits
from gateway.http.read_timeout import ReadTimeoutHttpProtocol
from gateway.subscriptions.frames import FrameWritingProtocol


def uvicorn_options() -> dict[str, Any]:
    return {
        "http": ReadTimeoutHttpProtocol,
        "loop": "uvloop" if _has_uvloop() else "asyncio",
        "access_log": False,
        "log_level": "info",
        "timeout_graceful_shutdown": 10,
        "lifespan": "on",
        # Subscription frames are small and go to thousands of sockets: compressing each
        # one per socket, for clients that offer it as browsers do, took 72 KB of memory
        # per subscriber instead of 35 and 120 ms of CPU per event instead of 91
        # (bench/subscriptions.py --deflate, 2,500 subscribers).
        "ws_per_message_deflate": False,
        # Offers the app ready-made frame writes (gateway/subscriptions/frames.py).
        "ws": FrameWritingProtocol,
        # A worker answers the supervisor's health pings only once its imports are done;
        # they took 9.5 s on a busy 2-core host (load 5), past uvicorn's 5 s, and the
        # supervisor killed and restarted every worker in a loop.
        "timeout_worker_healthcheck": 60,
    }


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def tune_garbage_collector() -> None:
    """Run the cyclic garbage collector far less often than Python's default.

    A subscription event sent to thousands of sockets allocates a burst of short-lived
    objects (frames, coroutines, futures); at the default threshold of 700 the burst sets
    off collections that walk the objects of every open connection, and they cost more CPU
    than the sends themselves (``bench/subscriptions.py`` at 5,000 subscribers: 258 ms of
    gateway CPU per stock movement with the default, 137 ms with this). Reference counting
    still frees everything that is not in a cycle at once.
    """
    gc.set_threshold(50_000, 20, 100)


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    workers: int = 1,
    fd: int | None = None,
    factory: bool = False,
    log_level: str = "info",
    max_message_bytes: int = Limits().max_body_bytes,
    logging_configured: bool = False,
) -> None:
    """Run until SIGTERM or SIGINT.

    ``workers > 1`` runs that many processes on one socket; ``app`` is then a picklable
    factory (``factory=True``) or an import string, since each process builds its own.
    ``max_message_bytes``: the server refuses bigger WebSocket frames (1009) before they
    are buffered whole. ``logging_configured``: the process has set its logging up, and
    uvicorn's own lines go through it rather than through handlers of uvicorn's."""
    options = {**uvicorn_options(), "log_level": log_level, "ws_max_size": max_message_bytes}
    if logging_configured:
        options["log_config"] = None
    tune_garbage_collector()
    signal.signal(signal.SIGTERM, _stopped_on_request)
    if fd is not None:
        uvicorn.run(app, fd=fd, factory=factory, **options)
    elif workers > 1:
        # uvicorn.run insists on an import string here; its supervisor does not: it hands
        # the config, app factory included, to each worker process.
        config = uvicorn.Config(
            app, host=host, port=port, workers=workers, factory=factory, **options
        )
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.run(app, host=host, port=port, factory=factory, **options)


def _stopped_on_request(signum: int, frame: FrameType | None) -> None:
    """Runs only after uvicorn's graceful shutdown has finished."""
