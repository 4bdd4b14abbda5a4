"""``retailgraph explain``: prints the plan of a query against a supergraph file."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from retailgraph.cli import app
from tests.unit.gateway.planner.support import SHOP_SDL

runner = CliRunner()


def _supergraph_file(tmp_path: Path) -> str:
    path = tmp_path / "supergraph.graphql"
    path.write_text(SHOP_SDL)
    return str(path)


def test_explain_prints_the_plan_in_apollo_text_format(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["explain", "--supergraph", _supergraph_file(tmp_path), "{ me { name } }"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith('QueryPlan {\n  Fetch(service: "accounts") {')


def test_explain_reads_a_query_file_and_prints_json(tmp_path: Path) -> None:
    query = tmp_path / "query.graphql"
    query.write_text("query A { me { name } } query B { order(id: 1) { quantity } }")
    result = runner.invoke(
        app,
        [
            "explain",
            "--supergraph",
            _supergraph_file(tmp_path),
            str(query),
            "--operation",
            "B",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["node"]["serviceName"] == "orders"


def test_explain_reports_an_invalid_query_without_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", "--supergraph", _supergraph_file(tmp_path), "{ nope }"])
    assert result.exit_code == 1
    assert "Cannot query field 'nope'" in result.output
    assert "Traceback" not in result.output
