"""A subgraph's technical metrics: its requests by operation and outcome, and their time.

The families are process-global, in Prometheus' default registry, and labelled by
subgraph: the embedded mode serves the four subgraphs in one process. An operation is
named by the request's ``operationName``, which the gateway sends with every fetch of a
named operation (``Op__products__0``, after its client's name); the document is not
parsed again for it. Those names follow the clients':
the first ``max_operation_names`` distinct names are told apart, later ones and
anonymous operations count as ``other``, as on the gateway.
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Histogram

OTHER = "other"
OK = "ok"
# Executed, with errors in the answer.
ERRORS = "errors"
# Refused before execution (no query, an operation GET may not run).
REFUSED = "refused"
MAX_OPERATION_NAMES = 100
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@functools.cache
def _families() -> tuple[Counter, Histogram]:
    """Registered once per process: a second registration of a name is an error."""
    requests = Counter(
        "retailgraph_subgraph_requests",
        "GraphQL requests a subgraph served, by subgraph, operation and outcome (ok, "
        "errors, refused); its internal endpoints' calls as operation internal/<name>.",
        ("subgraph", "operation", "outcome"),
    )
    seconds = Histogram(
        "retailgraph_subgraph_request_duration_seconds",
        "Time a subgraph took to execute a GraphQL request, by subgraph.",
        ("subgraph",),
        buckets=_LATENCY_BUCKETS,
    )
    return requests, seconds


class SubgraphMetrics:
    """One subgraph's; keeps the label children it bound and the names it let in."""

    def __init__(self, subgraph: str, max_operation_names: int = MAX_OPERATION_NAMES) -> None:
        requests, seconds = _families()
        self._subgraph = subgraph
        self._requests = requests
        self._children: dict[tuple[str, str], Counter] = {}
        self._seconds = seconds.labels(subgraph)
        self._operations: set[str] = set()
        self._max_operation_names = max_operation_names

    def request(self, operation: str | None, outcome: str, seconds: float) -> None:
        key = (self._operation(operation), outcome)
        counter = self._children.get(key)
        if counter is None:
            counter = self._children[key] = self._requests.labels(self._subgraph, *key)
        counter.inc()
        self._seconds.observe(seconds)

    def _operation(self, name: str | None) -> str:
        if name is None:
            return OTHER
        if name in self._operations:
            return name
        if len(self._operations) < self._max_operation_names:
            self._operations.add(name)
            return name
        return OTHER
