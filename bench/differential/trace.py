"""One operation through each gateway, with the subgraph requests each one made.

    .venv/bin/python -m bench.differential.trace catalog query.graphql [--variables '{}']

For studying a difference: which subgraph each gateway asked, with what, and what it
answered.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import httpx

from bench import processes
from bench.differential.__main__ import _ask, _start
from bench.differential.gateways import DIFFERENTIAL_GATEWAYS
from bench.differential.generator import Operation
from bench.differential.mock_server import MockServer
from bench.differential.supergraphs import build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("supergraph")
    parser.add_argument("query", type=Path)
    parser.add_argument("--variables", default="{}")
    parser.add_argument("--gateways", default="ours,apollo,hive")
    args = parser.parse_args(argv)
    operation = Operation(args.query.read_text(), json.loads(args.variables))
    run_dir = Path(tempfile.mkdtemp(prefix="differential-trace-"))
    port = processes.free_port()
    supergraph = build(args.supergraph, f"http://127.0.0.1:{port}")
    path = run_dir / f"{args.supergraph}.graphql"
    path.write_text(supergraph.sdl)
    with MockServer(supergraph.subgraphs, port) as mocks, httpx.Client(timeout=60) as client:
        for name in args.gateways.split(","):
            started, url = _start(DIFFERENTIAL_GATEWAYS[name], path, run_dir)
            try:
                mocks.log.clear()
                try:
                    answer = _ask(client, url, operation)
                except httpx.HTTPError as error:
                    answer = {"data": None, "errors": [{"message": f"no answer: {error!r}"}]}
            finally:
                started.stop()
            print(f"===== {name}")
            for exchange in mocks.log:
                print(f"--> {exchange.subgraph}: {exchange.request['query']}")
                if exchange.request.get("variables"):
                    print(f"    variables: {json.dumps(exchange.request['variables'])}")
                print(f"<-- {json.dumps(exchange.answer)}")
            print(f"answer: {json.dumps(answer)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
