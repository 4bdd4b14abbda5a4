"""The alert rules shipped for Prometheus load, and fire on the series they are meant for
(Debian's promtool, from the prometheus package). Without promtool the test skips, except
under CI=true, where it fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "deploy"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    command = shutil.which("promtool")
    if command is None:
        message = "promtool (Debian's prometheus package) is needed for the alert rules"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run(
        [command, *args],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_alert_rules_are_valid_prometheus_rules() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout


def test_each_alert_fires_on_the_series_it_watches_and_not_before() -> None:
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_dashboard_plots_only_metrics_the_docs_list() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "retailgraph.json").read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    operations = (Path(__file__).parents[2] / "docs" / "operations.md").read_text()
    assert expressions
    for expression in expressions:
        names = {word for word in _words(expression) if word.startswith("retailgraph_")}
        assert names, expression
        for name in names:
            base = name.removesuffix("_count").removesuffix("_bucket").removesuffix("_sum")
            assert f"| `{base}` |" in operations, f"{base} is plotted but not in docs/operations.md"


def _words(expression: str) -> list[str]:
    word = []
    words = []
    for character in expression + " ":
        if character.isalnum() or character == "_":
            word.append(character)
        elif word:
            words.append("".join(word))
            word = []
    return words
