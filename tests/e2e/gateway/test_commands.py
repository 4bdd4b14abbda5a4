"""The ``retailgraph compose`` and ``retailgraph gateway`` commands, over real HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from gateway.supergraph.compose import compose_from_urls
from retailgraph.cli import app
from tests.e2e.gateway.live import endpoints, live_gateway, subgraphs_app
from tests.e2e.gateway.server import running_command
from tests.e2e.gateway.threaded import serving_in_thread

runner = CliRunner()


def subgraph_options(urls: dict[str, str]) -> list[str]:
    return [option for name, url in urls.items() for option in ("--subgraph", f"{name}={url}")]


def test_compose_writes_the_supergraph_and_check_detects_drift(tmp_path: Path) -> None:
    output = tmp_path / "schema.graphql"
    with serving_in_thread(subgraphs_app()) as base_url:
        options = subgraph_options(endpoints(base_url))
        written = runner.invoke(app, ["compose", *options, "--output", str(output)])
        fresh = runner.invoke(app, ["compose", *options, "--output", str(output), "--check"])
        output.write_text(output.read_text().replace("inStock", "inStockk"))
        drifted = runner.invoke(app, ["compose", *options, "--output", str(output), "--check"])
    assert written.exit_code == 0, written.output
    assert '@join__graph(name: "stock"' in output.read_text()
    assert fresh.exit_code == 0, fresh.output
    assert drifted.exit_code == 1
    assert "out of date" in drifted.output


def test_compose_reports_errors_by_code_and_subgraph_and_exits_1(tmp_path: Path) -> None:
    with serving_in_thread(subgraphs_app()) as base_url:
        urls = endpoints(base_url)
        clash = runner.invoke(
            app, ["compose", *subgraph_options({**urls, "copy": urls["products"]})]
        )
        unreachable = runner.invoke(
            app, ["compose", *subgraph_options({"gone": f"{base_url}/gone/graphql"})]
        )
    assert clash.exit_code == 1
    assert "INVALID_FIELD_SHARING" in clash.output
    assert "copy" in clash.output
    assert unreachable.exit_code == 1
    assert "SUBGRAPH_FETCH_FAILED" in unreachable.output
    assert "Traceback" not in clash.output + unreachable.output


def test_compose_rejects_malformed_subgraph_options() -> None:
    result = runner.invoke(app, ["compose", "--subgraph", "no-equals-sign"])
    assert result.exit_code == 1
    assert "NAME=URL" in result.output


def test_gateway_command_rejects_a_missing_supergraph(tmp_path: Path) -> None:
    result = runner.invoke(app, ["gateway", "--supergraph", str(tmp_path / "none.graphql")])
    assert result.exit_code == 1
    assert "cannot read the supergraph" in result.output


def test_gateway_command_serves_across_subgraphs_and_exits_zero_on_sigterm(
    tmp_path: Path,
) -> None:
    with live_gateway(tmp_path) as server:
        response = httpx.post(
            f"{server.url}/graphql",
            json={"query": "{ products(first: 1) { sku name inStock } }"},
            headers={"accept": "application/graphql-response+json"},
        )
        ready = httpx.get(f"{server.url}/ready")
        exit_code, output = server.terminate()
    assert response.json() == {
        "data": {"products": [{"sku": "SKU-0", "name": "Product SKU-0", "inStock": 0}]}
    }
    assert ready.status_code == 200
    assert exit_code == 0, output
    assert "Traceback" not in output


def test_gateway_command_logs_each_request_as_one_json_line_uvicorn_lines_too(
    tmp_path: Path,
) -> None:
    with live_gateway(tmp_path) as server:
        httpx.post(
            f"{server.url}/graphql",
            json={"query": "query Skus { products { sku } }"},
            headers={"x-correlation-id": "corr-command-1"},
        )
        exit_code, output = server.terminate()
    assert exit_code == 0, output
    logged = [json.loads(line) for line in output.splitlines() if line.strip()]
    [request] = [line for line in logged if line["event"] == "request"]
    assert request["operation"] == "Skus"
    assert request["correlation_id"] == "corr-command-1"
    assert request["outcome"] == "ok"
    assert any(line.get("logger", "").startswith("uvicorn") for line in logged)


def _exposures(url: str) -> tuple[httpx.Response, dict[str, Any], dict[str, Any]]:
    page = httpx.get(f"{url}/graphql", headers={"accept": "text/html"})
    planned = httpx.post(
        f"{url}/graphql",
        json={"query": "{ products { sku } }"},
        headers={"apollo-expose-query-plan": "true"},
    ).json()
    schema = httpx.post(f"{url}/graphql", json={"query": "{ __schema { queryType { name } } }"})
    return page, planned, schema.json()


def test_gateway_command_serves_no_graphiql_plans_or_introspection_unless_asked(
    tmp_path: Path,
) -> None:
    with live_gateway(tmp_path) as server:
        page, planned, schema = _exposures(server.url)
        server.terminate()
    assert "graphiql" not in page.text.lower()
    assert "apolloQueryPlan" not in (planned.get("extensions") or {})
    assert planned["data"] == {"products": [{"sku": "SKU-0"}, {"sku": "SKU-1"}]}
    assert [e["extensions"]["code"] for e in schema["errors"]] == ["INTROSPECTION_DISABLED"]

    with live_gateway(tmp_path, "--graphiql", "--expose-query-plans", "--introspection") as server:
        page, planned, schema = _exposures(server.url)
        server.terminate()
    assert "graphiql" in page.text.lower()
    assert "Fetch" in planned["extensions"]["apolloQueryPlan"]["text"]
    assert schema["data"] == {"__schema": {"queryType": {"name": "Query"}}}


def test_gateway_limits_come_from_the_settings_file_and_the_environment_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "retailgraph.toml"
    settings.write_text("[gateway.limits]\nmax_depth = 1\nmax_aliases = 0\n")
    monkeypatch.setenv("RETAILGRAPH_GATEWAY__LIMITS__MAX_DEPTH", "2")
    query = "{ products { sku } }"
    with live_gateway(tmp_path, "--config", str(settings)) as server:
        depth_two = httpx.post(f"{server.url}/graphql", json={"query": query}).json()
        aliased = httpx.post(f"{server.url}/graphql", json={"query": "{ p: products { sku } }"})
        server.terminate()
    assert depth_two["data"] == {"products": [{"sku": "SKU-0"}, {"sku": "SKU-1"}]}
    assert [e["extensions"]["code"] for e in aliased.json()["errors"]] == ["MAX_ALIASES_LIMIT"]


def test_gateway_command_refuses_invalid_settings_in_one_line(tmp_path: Path) -> None:
    settings = tmp_path / "retailgraph.toml"
    settings.write_text('[gateway.limits]\nmax_depth = "deep"\n')
    result = runner.invoke(
        app, ["gateway", "--supergraph", str(tmp_path / "s.graphql"), "--config", str(settings)]
    )
    assert result.exit_code == 1
    assert "invalid settings" in result.output
    assert "max_depth" in result.output


def test_two_worker_processes_serve_the_gateway_with_the_settings_given(tmp_path: Path) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    settings = tmp_path / "retailgraph.toml"
    settings.write_text("[gateway.limits]\nmax_aliases = 0\n")
    with serving_in_thread(subgraphs_app()) as base_url:
        supergraph.write_text(asyncio.run(compose_from_urls(endpoints(base_url))))
        # Two processes import and build the gateway side by side: on a loaded 2-core
        # machine that took 30 s once, so they get longer to become healthy.
        with running_command(
            "gateway",
            "--supergraph",
            str(supergraph),
            "--workers",
            "2",
            "--config",
            str(settings),
            startup_timeout=90.0,
        ) as gateway:
            plain = httpx.post(f"{gateway.url}/graphql", json={"query": "{ products { sku } }"})
            aliased = httpx.post(
                f"{gateway.url}/graphql", json={"query": "{ p: products { sku } }"}
            )
            status, output = gateway.terminate()
    assert plain.json()["data"]["products"][0] == {"sku": "SKU-0"}
    # The settings file reached the workers: its limit is applied there.
    assert [e["extensions"]["code"] for e in aliased.json()["errors"]] == ["MAX_ALIASES_LIMIT"]
    assert status == 0, output


def test_clients_hash_key_prints_the_hash_to_configure_for_a_key_read_on_stdin() -> None:
    from gateway.security.clients import key_hash

    hashed = runner.invoke(app, ["clients", "hash-key"], input="s3cret-key\n")
    empty = runner.invoke(app, ["clients", "hash-key"], input="\n")
    assert hashed.exit_code == 0, hashed.output
    assert hashed.output.strip() == key_hash("s3cret-key")
    assert hashed.output.startswith("sha256:")
    assert empty.exit_code == 1


def test_clients_list_shows_each_clients_rights_from_the_settings(tmp_path: Path) -> None:
    from gateway.security.clients import key_hash

    settings = tmp_path / "retailgraph.toml"
    settings.write_text(
        "[gateway.clients.acme]\n"
        f'api_key_hashes = ["{key_hash("k1")}", "{key_hash("k2")}"]\n'
        'scopes = ["orders:read"]\narbitrary_documents = false\nmax_cost = 500\n'
        "[gateway.clients.acme.rate_limit]\nquota = 100\nwindow = 60\n"
    )
    listed = runner.invoke(app, ["clients", "list", "--json", "--config", str(settings)])
    assert listed.exit_code == 0, listed.output
    rows = {row["name"]: row for row in json.loads(listed.output)}
    assert rows["acme"] == {
        "name": "acme",
        "scopes": ["orders:read"],
        "keys": 2,
        "arbitraryDocuments": False,
        "introspection": False,
        "maxCost": 500,
        "rateLimit": "100/60s",
        "locations": [],
        "manifests": [],
    }
    assert rows["anonymous"]["scopes"] == []


def test_clients_check_names_each_operation_a_schema_change_would_break(tmp_path: Path) -> None:
    good = tmp_path / "acme.json"
    good.write_text(json.dumps({"a1": 'query Card { product(sku: "X") { name } }'}))
    broken = tmp_path / "legacy.json"
    broken.write_text(json.dumps({"b1": 'query Old { product(sku: "X") { colour } }'}))

    passed = runner.invoke(app, ["clients", "check", str(good), "--client", "acme"])
    failed = runner.invoke(app, ["clients", "check", str(broken), "--client", "legacy"])

    assert passed.exit_code == 0, passed.output
    assert "1 operations, all valid" in passed.output
    assert failed.exit_code == 1
    assert "legacy: operation Old (id b1)" in failed.output
    assert "colour" in failed.output


def test_compose_fails_when_the_new_supergraph_would_break_a_partners_manifest(
    tmp_path: Path,
) -> None:
    output = tmp_path / "schema.graphql"
    manifest = tmp_path / "acme.json"
    settings = tmp_path / "retailgraph.toml"
    settings.write_text(
        f'[gateway.clients.acme]\narbitrary_documents = false\nmanifests = ["{manifest}"]\n'
    )
    with serving_in_thread(subgraphs_app()) as base_url:
        options = [*subgraph_options(endpoints(base_url)), "--output", str(output)]
        manifest.write_text(json.dumps({"a1": 'query Card { product(sku: "X") { name inStock } }'}))
        runner.invoke(app, ["compose", *options])
        fits = runner.invoke(app, ["compose", *options, "--check", "--config", str(settings)])
        manifest.write_text(json.dumps({"a1": 'query Card { product(sku: "X") { name stock } }'}))
        breaks = runner.invoke(app, ["compose", *options, "--check", "--config", str(settings)])

    assert fits.exit_code == 0, fits.output
    assert breaks.exit_code == 1
    assert "acme: operation Card (id a1)" in breaks.output
    assert "stock" in breaks.output


def test_the_gateway_refuses_to_start_with_a_manifest_its_supergraph_cannot_run(
    tmp_path: Path,
) -> None:
    supergraph = Path(__file__).parents[3] / "schema.graphql"
    manifest = tmp_path / "acme.json"
    manifest.write_text(json.dumps({"b1": 'query Old { product(sku: "X") { colour } }'}))
    settings = tmp_path / "retailgraph.toml"
    # A relative path is read from the settings file's folder.
    settings.write_text('[gateway.clients.acme]\nmanifests = ["acme.json"]\n')

    result = runner.invoke(
        app, ["gateway", "--supergraph", str(supergraph), "--config", str(settings)]
    )

    assert result.exit_code == 1
    assert "acme: operation Old (id b1)" in result.output
    assert "Traceback" not in result.output
