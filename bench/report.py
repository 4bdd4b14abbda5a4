"""Medians, ratios and the written results of a gateway benchmark run; where every
benchmark writes its latest results."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

METRICS = (
    "rps",
    "cpu_ms_per_request",
    "latency_p50_ms",
    "latency_p99_ms",
    "subgraph_requests_per_request",
    "rss_mb",
)


class Named(Protocol):
    name: str
    label: str


def one_line(result: dict[str, Any]) -> str:
    return (
        f"round {result.get('round', '?')} {result['gateway']:>8}: "
        f"{result['rps']:8.1f} req/s  {result['cpu_ms_per_request']:7.2f} CPU ms/req  "
        f"p50 {result['latency_p50_ms']:7.1f} ms  p99 {result['latency_p99_ms']:7.1f} ms  "
        f"RSS {result['rss_mb']:6.1f} MiB  "
        f"{result['subgraph_requests_per_request']:5.1f} subgraph req/req  "
        f"errors {result['errors']}"
    )


def summarise(
    rounds: list[dict[str, Any]], gateways: Sequence[Named], setup: dict[str, Any]
) -> dict[str, Any]:
    medians: dict[str, dict[str, Any]] = {}
    for gateway in gateways:
        mine = [result for result in rounds if result["gateway"] == gateway.name]
        medians[gateway.name] = {
            "label": gateway.label,
            **{metric: statistics.median(result[metric] for result in mine) for metric in METRICS},
            "requests_per_cpu_second": statistics.median(
                1000 / result["cpu_ms_per_request"] for result in mine
            ),
            "errors": sum(result["errors"] for result in mine),
            "key_order_matches": all(result["key_order_matches"] for result in mine),
        }
    summary: dict[str, Any] = {"setup": setup, "medians": medians}
    if "ours" in medians and "apollo" in medians:
        ours, apollo = medians["ours"], medians["apollo"]
        summary["ratios_ours_over_apollo"] = {
            "rps": ours["rps"] / apollo["rps"],
            "cpu_ms_per_request": ours["cpu_ms_per_request"] / apollo["cpu_ms_per_request"],
            "requests_per_cpu_second": ours["requests_per_cpu_second"]
            / apollo["requests_per_cpu_second"],
        }
    if "ours" in medians:
        # What each variant of ours costs beside the plain one, from the same run.
        base = medians["ours"]["cpu_ms_per_request"]
        summary["cpu_over_ours"] = {
            name: median["cpu_ms_per_request"] / base
            for name, median in medians.items()
            if name.startswith("ours-")
        }
    return summary


def markdown(summary: dict[str, Any]) -> str:
    lines = [
        "| Gateway | RPS | CPU ms per request | Requests per CPU-second | p50 ms | p99 ms "
        "| Subgraph requests per request | RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for median in summary["medians"].values():
        lines.append(
            f"| {median['label']} | {median['rps']:.1f} | {median['cpu_ms_per_request']:.2f} "
            f"| {median['requests_per_cpu_second']:.1f} | {median['latency_p50_ms']:.1f} "
            f"| {median['latency_p99_ms']:.1f} | {median['subgraph_requests_per_request']:.1f} "
            f"| {median['rss_mb']:.0f} |"
        )
    ratios = summary.get("ratios_ours_over_apollo")
    if ratios:
        lines.append(
            f"| **ours / Apollo** | **{ratios['rps']:.2f}x** "
            f"| **{ratios['cpu_ms_per_request']:.2f}x** "
            f"| **{ratios['requests_per_cpu_second']:.2f}x** | | | | |"
        )
    for name, ratio in summary.get("cpu_over_ours", {}).items():
        lines.append(f"| **{name} / ours, CPU per request** | | **{ratio:.3f}x** | | | | | |")
    setup = summary["setup"]
    lines.append("")
    lines.append(
        f"Medians of {setup['rounds']} rounds of {setup['duration_s']} s "
        f"({setup['warmup_s']} s warm-up), {setup['connections']} connections, "
        f"{setup['date']}."
    )
    return "\n".join(lines)


def write(summary: dict[str, Any], rounds: list[dict[str, Any]], results_dir: Path) -> None:
    write_latest("gateway", summary, markdown(summary), {"rounds": rounds}, results_dir)


def write_latest(
    bench: str,
    summary: dict[str, Any],
    table: str,
    details: dict[str, Any],
    results_dir: Path,
) -> None:
    """The run with ``details`` goes to runs/ (not committed); the latest summary, as JSON
    and as the ``table`` in Markdown, sits beside it."""
    runs = results_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stamp = summary["setup"]["date"].replace(":", "").replace("-", "")
    full = {**summary, **details}
    (runs / f"{bench}-{stamp}.json").write_text(json.dumps(full, indent=2) + "\n")
    (results_dir / f"{bench}-latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    (results_dir / f"{bench}-latest.md").write_text(table + "\n")
