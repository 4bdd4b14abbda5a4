"""The gateways compared: ours, and the reference gateways from npm (installed at run
time into their folders' node_modules, never committed)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.gateway import GATEWAYS, Gateway
from bench.subgraphs.data import REPO_ROOT

HIVE_ROUTER_DIR = Path(__file__).parent / "peers" / "hive-router"

# Every operation limit and demand control off, as in the benchmark's ours-unbounded:
# generated operations are wide and deep, and the references bound neither.
_OURS_ENV = {**GATEWAYS["ours-unbounded"].env, "RETAILGRAPH_LOGGING__LEVEL": "warning"}

DIFFERENTIAL_GATEWAYS = {
    "ours": Gateway(
        name="ours",
        label="RetailGraph gateway",
        command=(
            f"{REPO_ROOT / '.venv/bin/retailgraph'} gateway --supergraph {{supergraph}}"
            " --host 127.0.0.1 --port {port}"
        ),
        env=_OURS_ENV,
    ),
    "apollo": GATEWAYS["apollo"],
    # Hive Gateway with Hive Router's Rust query planner.
    "hive": Gateway(
        name="hive",
        label="Hive Gateway 2.15.1, router runtime 1.4.23 (Rust query planner)",
        command=(
            f"{HIVE_ROUTER_DIR / 'node_modules/.bin/hive-gateway'} supergraph {{supergraph}}"
            " --hive-router-runtime --host 127.0.0.1 --port {port} --fork 1"
            " --disable-websockets"
        ),
        env={"NODE_ENV": "production"},
        npm_dir=HIVE_ROUTER_DIR,
    ),
    # Hive Gateway with its default, JavaScript (stitching) runtime.
    "hive-js": replace(GATEWAYS["hive"], name="hive-js"),
}
