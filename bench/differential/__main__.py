"""Differential test: our gateway's answers against reference gateways' on generated
operations, over mock subgraphs.

    .venv/bin/python -m bench.differential --queries 300
    .venv/bin/python -m bench.differential --supergraphs catalog --gateways ours,apollo

For each supergraph: serve its mock subgraphs, compose it, start every gateway on it,
send each generated operation to all of them, and compare each reference's answer with
ours. Prints the agreement per supergraph and writes every differing operation, with
all the answers, to ``--out`` (one JSON object a line).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench import processes
from bench.differential.compare import difference
from bench.differential.gateways import DIFFERENTIAL_GATEWAYS
from bench.differential.generator import Operation, operations
from bench.differential.mock_server import MockServer
from bench.differential.supergraphs import NAMES, build
from bench.gateway import Gateway, _answers, _ensure_npm
from bench.subgraphs.data import REPO_ROOT
from gateway.supergraph import load_supergraph


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    gateways = [DIFFERENTIAL_GATEWAYS[name] for name in args.gateways.split(",")]
    if gateways[0].name != "ours":
        raise SystemExit("the first gateway is the one compared: ours")
    for gateway in gateways:
        if gateway.npm_dir is not None:
            _ensure_npm(gateway.npm_dir)
    run_dir = Path(tempfile.mkdtemp(prefix="differential-"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summaries = []
    with args.out.open("w") as out:
        for name in args.supergraphs.split(","):
            summaries.append(_run_supergraph(name, gateways, args, run_dir, out))
    print(_table(summaries, [g.name for g in gateways[1:]]))
    print(f"differing operations: {args.out}; logs: {run_dir}")
    return 0


def _run_supergraph(
    name: str, gateways: list[Gateway], args: argparse.Namespace, run_dir: Path, out: Any
) -> dict[str, Any]:
    port = processes.free_port()
    supergraph = build(name, f"http://127.0.0.1:{port}")
    path = run_dir / f"{name}.graphql"
    path.write_text(supergraph.sdl)
    drawn = operations(load_supergraph(supergraph.sdl).api_schema, args.queries, args.seed)
    summary: dict[str, Any] = {"supergraph": name, "queries": len(drawn)}
    with MockServer(supergraph.subgraphs, port):
        running = [Running(gateway, path, run_dir) for gateway in gateways]
        try:
            kinds: dict[str, Counter[str]] = {g.name: Counter() for g in gateways[1:]}
            both_differ = 0
            leaves = 0
            with ThreadPoolExecutor(len(running)) as pool, httpx.Client(timeout=60) as client:
                for operation in drawn:
                    answers = list(
                        pool.map(
                            Running.ask,
                            running,
                            [client] * len(running),
                            [operation] * len(running),
                        )
                    )
                    found = {
                        gateway.name: difference(answers[0], answer)
                        for gateway, answer in zip(gateways[1:], answers[1:], strict=True)
                    }
                    leaves += _leaves(answers[0].get("data"))
                    for gateway_name, diff in found.items():
                        kinds[gateway_name][diff.kind if diff else "agree"] += 1
                    if any(found.values()):
                        if all(found.values()):
                            both_differ += 1
                        _write(out, name, operation, gateways, answers, found)
        finally:
            for gateway in running:
                gateway.stop()
        # How much data the operations brought back: a run of nulls would agree vacuously.
        summary["non_null_leaves_per_query"] = round(leaves / max(len(drawn), 1), 1)
        summary["crashes"] = {g.gateway.name: g.crashes for g in running if g.crashes}
    summary["kinds"] = {g: dict(c) for g, c in kinds.items()}
    summary["all_references_differ"] = both_differ
    print(f"{name}: {json.dumps(summary)}", flush=True)
    return summary


class Running:
    """A gateway under test, started again whenever an operation brings it down."""

    def __init__(self, gateway: Gateway, supergraph: Path, run_dir: Path) -> None:
        self.gateway = gateway
        self.supergraph = supergraph
        self.run_dir = run_dir
        self.crashes = 0
        self.process, self.url = _start(gateway, supergraph, run_dir, 0)

    def ask(self, client: httpx.Client, operation: Operation) -> dict[str, Any]:
        try:
            answer = _ask(client, self.url, operation)
        except httpx.HTTPError as error:
            answer = {"data": None, "errors": [{"message": f"no answer: {error!r}"}], "status": 0}
            # A gateway that dropped the connection may be on its way down: let it finish,
            # so that the crash is counted against this operation, not the next.
            processes.wait_until(lambda: not self.process.alive(), timeout=3)
        if not self.process.alive():
            self.crashes += 1
            answer = {"data": None, "errors": [{"message": "the gateway crashed"}], "status": 0}
            self.process, self.url = _start(
                self.gateway, self.supergraph, self.run_dir, self.crashes
            )
        return answer

    def stop(self) -> None:
        self.process.stop()


def _start(
    gateway: Gateway, supergraph: Path, run_dir: Path, attempt: int = 0
) -> tuple[processes.Started, str]:
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}{gateway.path}"
    started = processes.start(
        f"{gateway.name}-{supergraph.stem}" + (f"-{attempt}" if attempt else ""),
        gateway.command.format(supergraph=supergraph, port=port),
        cpu=None,
        log_dir=run_dir,
        cwd=REPO_ROOT,
        env=gateway.env,
    )
    if not processes.wait_until(lambda: _answers(url, {}) or not started.alive(), timeout=120):
        started.stop()
        raise SystemExit(f"{gateway.name} did not answer at {url}:\n{started.log_tail()}")
    if not started.alive():
        raise SystemExit(f"{gateway.name} exited on {supergraph.stem}:\n{started.log_tail()}")
    return started, url


def _ask(client: httpx.Client, url: str, operation: Operation) -> dict[str, Any]:
    response = client.post(
        url,
        json={"query": operation.query, "variables": operation.variables},
        headers={"accept": "application/json"},
    )
    try:
        body = response.json()
    except ValueError:
        return {"data": None, "errors": [{"message": f"HTTP {response.status_code}, not JSON"}]}
    if not isinstance(body, dict):
        return {"data": None, "errors": [{"message": "not a JSON object"}]}
    body["status"] = response.status_code
    return body


def _leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_leaves(v) for v in value.values())
    if isinstance(value, list):
        return sum(_leaves(v) for v in value)
    return 0 if value is None else 1


def _write(
    out: Any,
    supergraph: str,
    operation: Operation,
    gateways: list[Gateway],
    answers: list[dict[str, Any]],
    found: dict[str, Any],
) -> None:
    record = {
        "supergraph": supergraph,
        "query": operation.query,
        "variables": operation.variables,
        "differences": {
            name: None
            if diff is None
            else {"kind": diff.kind, "path": diff.path, "detail": diff.detail}
            for name, diff in found.items()
        },
        "answers": {g.name: a for g, a in zip(gateways, answers, strict=True)},
    }
    out.write(json.dumps(record) + "\n")


def _table(summaries: list[dict[str, Any]], references: list[str]) -> str:
    header = "| Supergraph | Queries | " + " | ".join(f"Agree with {r}" for r in references)
    header += " | All references differ |"
    lines = [header, "|---" * (len(references) + 3) + "|"]
    for summary in summaries:
        cells = []
        for reference in references:
            kinds = summary["kinds"][reference]
            cells.append(f"{kinds.get('agree', 0)}/{summary['queries']}")
        lines.append(
            f"| {summary['supergraph']} | {summary['queries']} | "
            + " | ".join(cells)
            + f" | {summary['all_references_differ']} |"
        )
    lines.append("")
    for summary in summaries:
        if summary["crashes"]:
            lines.append(
                f"{summary['supergraph']}: gateways restarted after a crash {summary['crashes']}"
            )
        for reference in references:
            kinds = {k: v for k, v in summary["kinds"][reference].items() if k != "agree"}
            if kinds:
                lines.append(f"{summary['supergraph']} vs {reference}: {kinds}")
    return "\n".join(lines)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--supergraphs", default=",".join(NAMES))
    parser.add_argument(
        "--gateways", default="ours,apollo,hive", help="ours first; of ours,apollo,hive,hive-js"
    )
    parser.add_argument("--queries", type=int, default=300, help="Per supergraph.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "var" / "differential" / "differences.jsonl"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
