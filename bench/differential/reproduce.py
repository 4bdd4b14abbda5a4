"""Runs the minimal reproductions of ``reproductions.json`` through every gateway.

    .venv/bin/python -m bench.differential.reproduce            # print each gateway's answer
    .venv/bin/python -m bench.differential.reproduce --update   # and record them in the file

Each case names its supergraph, operation and variables, which gateway is wrong, and what
a right answer is; ``observed`` holds what each gateway answered when last recorded.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench import processes
from bench.differential.__main__ import Running
from bench.differential.gateways import DIFFERENTIAL_GATEWAYS
from bench.differential.generator import Operation
from bench.differential.mock_server import MockServer
from bench.differential.supergraphs import build

REPRODUCTIONS = Path(__file__).parent / "reproductions.json"
GATEWAYS = ("ours", "apollo", "hive", "hive-js")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="Record the answers.")
    parser.add_argument("--case", help="Only the case with this id.")
    args = parser.parse_args(argv)
    document = json.loads(REPRODUCTIONS.read_text())
    cases = [c for c in document["cases"] if args.case in (None, c["id"])]
    run_dir = Path(tempfile.mkdtemp(prefix="differential-reproduce-"))
    for name in sorted({c["supergraph"] for c in cases}):
        _run(name, [c for c in cases if c["supergraph"] == name], run_dir)
    for case in cases:
        print(f"===== {case['id']} ({case['supergraph']}; wrong: {', '.join(case['wrong'])})")
        print(case["query"])
        for gateway, answer in case["observed"].items():
            print(f"-- {gateway}: {json.dumps(answer)}")
    if args.update:
        REPRODUCTIONS.write_text(json.dumps(document, indent=2) + "\n")
    return 0


def _run(name: str, cases: list[dict[str, Any]], run_dir: Path) -> None:
    port = processes.free_port()
    supergraph = build(name, f"http://127.0.0.1:{port}")
    path = run_dir / f"{name}.graphql"
    path.write_text(supergraph.sdl)
    with MockServer(supergraph.subgraphs, port), httpx.Client(timeout=60) as client:
        running = [Running(DIFFERENTIAL_GATEWAYS[g], path, run_dir) for g in GATEWAYS]
        try:
            for case in cases:
                operation = Operation(case["query"], case.get("variables") or {})
                case["observed"] = {
                    gateway.gateway.name: _without_status(gateway.ask(client, operation))
                    for gateway in running
                }
        finally:
            for gateway in running:
                gateway.stop()


def _without_status(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "status"}


if __name__ == "__main__":
    sys.exit(main())
