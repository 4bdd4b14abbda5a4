"""``/metrics``: the process's Prometheus metrics, in the text exposition format.

One process serves the default registry, so collectors that other parts of the process
register there (``retailgraph run``'s business KPIs) are served too. Several worker
processes (``retailgraph gateway --workers N``) each write their values to files in one
folder, prometheus_client's multiprocess mode; any worker answers ``/metrics`` with the
sum over the folder. prometheus_client takes that folder from the environment variable
``PROMETHEUS_MULTIPROC_DIR`` when it is imported, so the supervisor sets it before it
starts the workers (``multiprocess_folder``); our own code is handed the folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def metrics_endpoint(
    multiprocess: Path | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    """The default registry's metrics, or with ``multiprocess`` (the workers' folder) the
    sum of every worker's."""
    registry = REGISTRY
    if multiprocess is not None:
        registry = CollectorRegistry(auto_describe=True)
        # prometheus_client leaves its multiprocess module untyped.
        MultiProcessCollector(registry, path=str(multiprocess))  # type: ignore[no-untyped-call]

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


def worker_stopped(multiprocess: Path) -> None:
    """Forgets this worker's live gauges (its open connections) as it stops."""
    mark_process_dead(os.getpid(), str(multiprocess))  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def multiprocess_folder() -> Iterator[Path]:
    """A fresh folder for the workers' metrics, named to the workers they start.

    The environment is prometheus_client's only way in: it picks its multiprocess values
    when it is imported, in each worker, before any code of ours runs there. The
    variable is set for the workers' lifetime (they inherit it when spawned) and the
    folder removed after them, so a restart never sums stale values.
    """
    with tempfile.TemporaryDirectory(prefix="retailgraph-metrics-") as folder:
        os.environ[MULTIPROCESS_VARIABLE] = folder
        try:
            yield Path(folder)
        finally:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
