"""Settings come from the file, the environment over it, and options over both; the
configuration guide lists every setting with its real default."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel

from erp.settings import ErpSettings, PostingWorkerSettings, ReconcileSettings, TrytonSettings
from gateway.settings import (
    AnonymousSettings,
    ClientSettings,
    ConsoleSettings,
    CostSettings,
    GatewaySettings,
    IdentityProviderSettings,
    LimitSettings,
    MetricsSettings,
    ProxySettings,
    RateLimitSettings,
)
from retailgraph.settings import (
    DatabaseSettings,
    LoggingSettings,
    PricingSettings,
    RedisSettings,
    SalesSettings,
    Settings,
    SettingsError,
    SubgraphSettings,
    TracingSettings,
    WorkerMetricsSettings,
    load_settings,
)

GUIDE = (Path(__file__).parents[3] / "docs" / "configuration.md").read_text()


SECTIONS: dict[str, type[BaseModel]] = {
    "The sections": Settings,
    "`[database]`": DatabaseSettings,
    "`[redis]`": RedisSettings,
    "`[erp]`": ErpSettings,
    "`[erp.tryton]`": TrytonSettings,
    "`[erp.worker]`": PostingWorkerSettings,
    "`[erp.reconcile]`": ReconcileSettings,
    "`[gateway]`": GatewaySettings,
    "`[gateway.limits]`": LimitSettings,
    "`[gateway.cost]`": CostSettings,
    "`[gateway.proxy]`": ProxySettings,
    "`[gateway.metrics]`": MetricsSettings,
    "`[gateway.console]`": ConsoleSettings,
    "`[gateway.clients.<name>]`": ClientSettings,
    "`[gateway.clients.<name>.rate_limit]`": RateLimitSettings,
    "`[gateway.anonymous]`": AnonymousSettings,
    "`[gateway.identity_provider]`": IdentityProviderSettings,
    "`[subgraphs]`": SubgraphSettings,
    "`[metrics]`": WorkerMetricsSettings,
    "`[sales]`": SalesSettings,
    "`[pricing]`": PricingSettings,
    "`[logging]`": LoggingSettings,
    "`[tracing]`": TracingSettings,
}


def _documented_default(heading: str, name: str) -> str:
    """The default the guide gives ``name`` in the table under ``heading``."""
    under = re.split(r"^#+ ", GUIDE, flags=re.MULTILINE)
    [section] = [part for part in under if part.startswith(heading + "\n")]
    for line in section.splitlines():
        if line.startswith(f"| `{name}` |"):
            return line.split("|")[2].strip().strip("`")
    raise AssertionError(f"docs/configuration.md has no row for {name} under {heading}")


@pytest.mark.parametrize(("heading", "section"), SECTIONS.items())
def test_the_guide_lists_every_setting_with_its_default(
    heading: str, section: type[BaseModel], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    defaults = section.model_construct()
    inherited = ClientSettings.model_fields if section is AnonymousSettings else {}
    for name, info in section.model_fields.items():
        if name in inherited:
            continue  # described once, for every client
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            continue  # a section of its own
        documented = _documented_default(heading, name)
        if info.is_required():
            assert documented == "required", name
            continue
        value = getattr(defaults, name)
        if value is None or value in ({}, ()):
            assert documented == "none", name
        elif isinstance(value, Decimal):
            assert documented == str(value), name
        elif isinstance(value, Path):
            assert value == Path.home() / ".local" / "share" / "retailgraph"
            assert documented == "~/.local/share/retailgraph", name
        else:
            assert documented == json.dumps(value), name


def test_the_environment_overrides_the_file_and_options_override_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "retailgraph.toml"
    config.write_text(
        '[gateway]\ngraphiql = true\n[gateway.limits]\nmax_depth = 7\nmax_fields = "off"\n'
        '[gateway.cost]\nmode = "measure"\nmax_cost = 10\n'
    )
    monkeypatch.setenv("RETAILGRAPH_GATEWAY__COST__MAX_COST", "123")
    settings = load_settings(config, gateway={"limits": {"max_depth": 9}}).gateway
    assert settings.graphiql is True
    assert settings.limits.max_depth == 9
    assert settings.limits.max_fields is None
    assert settings.limits.max_aliases == LimitSettings().max_aliases
    assert (settings.cost.mode, settings.cost.max_cost) == ("measure", 123)


def test_the_settings_file_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text("[gateway.limits]\nmax_aliases = 0\n")
    monkeypatch.setenv("RETAILGRAPH_CONFIG", str(config))
    assert load_settings().gateway.limits.max_aliases == 0


@pytest.mark.parametrize(
    "content",
    [
        "[gateway.limits]\nmax_depth = -1\n",
        "[gateway.limits]\nmax_deepness = 3\n",
        '[gateway.cost]\nmode = "sometimes"\n',
        "[gateway\n",
        '[sales]\nchannels = ["web", "Web Shop"]\n',
        '[sales]\nchannels = ["web", "web"]\n',
        "[sales]\nchannels = []\n",
        '[sales]\ncurrencies = ["EUR", "euro"]\n',
    ],
)
def test_invalid_settings_are_refused(tmp_path: Path, content: str) -> None:
    config = tmp_path / "retailgraph.toml"
    config.write_text(content)
    with pytest.raises(SettingsError):
        load_settings(config)


def test_the_channels_and_currencies_sold_in_are_the_settings_own(tmp_path: Path) -> None:
    config = tmp_path / "retailgraph.toml"
    config.write_text('[sales]\nchannels = ["web", "zalando"]\ncurrencies = ["EUR", "CHF"]\n')
    sales = load_settings(config).sales.vocabulary()
    assert (sales.channels, sales.currencies) == (("web", "zalando"), ("EUR", "CHF"))
    assert sales.sells_in("zalando")
    assert not sales.sells_in("store")


def test_a_missing_settings_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        load_settings(tmp_path / "none.toml")


def test_the_usual_deployment_variables_set_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/retail")
    monkeypatch.setenv("ORDERS_DATABASE_URL", "postgresql://db/orders")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("TRYTON_PASSWORD", "s3cret")
    monkeypatch.setenv("PRICING_SUBGRAPH_URL", "http://pricing:4002/graphql")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    monkeypatch.setenv("NO_PROXY", ".cluster.local")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    settings = load_settings()
    assert settings.database.url == "postgresql://db/retail"
    assert settings.database.domains == {"orders": "postgresql://db/orders"}
    assert settings.redis.url == "redis://cache:6379/0"
    assert settings.erp.tryton.password is not None
    assert settings.erp.tryton.password.get_secret_value() == "s3cret"
    assert settings.peers == {"pricing": "http://pricing:4002/graphql"}
    assert settings.gateway.proxy.https == "http://proxy:3128"
    assert settings.gateway.proxy.no_proxy == ".cluster.local"
    assert settings.tracing.endpoint == "http://collector:4318"


def test_a_retailgraph_variable_wins_over_the_usual_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://usual:6379/0")
    monkeypatch.setenv("RETAILGRAPH_REDIS__URL", "redis://ours:6379/0")
    assert load_settings().redis.url == "redis://ours:6379/0"


def test_an_invalid_setting_is_named_and_a_secret_is_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETAILGRAPH_ERP__KIND", "sap")
    with pytest.raises(SettingsError, match=r"erp.kind: Input should be 'simulator' or 'tryton'"):
        load_settings()
