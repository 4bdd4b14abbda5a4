"""RetailGraph's settings: one TOML file, environment variables over it, defaults under.

This module is the only code that reads the environment. The file is ``--config PATH``,
else ``RETAILGRAPH_CONFIG``, else ``retailgraph.toml`` in the working directory when there
is one. Every setting can be overridden by an environment variable named by its path:
``[gateway.limits] max_depth`` is ``RETAILGRAPH_GATEWAY__LIMITS__MAX_DEPTH``. The usual
deployment variables are read too (``CONVENTIONAL``): ``DATABASE_URL``, ``REDIS_URL``,
``TRYTON_URL`` and the rest. Command-line options override all of them.
``docs/configuration.md`` lists every setting with its default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from domains.pricing.model import DEFAULT_MAX_PRICE_CHANGE_PERCENT
from erp.settings import ErpSettings
from gateway.settings import ClientSettings, GatewaySettings
from kernel.channels import (
    DEFAULT_CHANNELS,
    DEFAULT_CURRENCIES,
    MAX_CHANNELS,
    MAX_CURRENCIES,
    OWN_CHANNELS,
    SalesVocabulary,
)

CONFIG_VARIABLE = "RETAILGRAPH_CONFIG"
DEFAULT_CONFIG = Path("retailgraph.toml")


class SettingsError(Exception):
    """The settings file or an environment variable holds something invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def user_data_dir() -> Path:
    """The user's data folder for RetailGraph: ``$XDG_DATA_HOME/retailgraph``, by default
    ``~/.local/share/retailgraph``, whatever the current directory."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "retailgraph"


class DatabaseSettings(_Section):
    """Where each domain keeps its tables: its own URL, else the shared one, else its
    SQLite file in ``data_dir`` (the embedded default)."""

    url: str | None = None
    # Domain name -> URL, for domains that keep their tables apart.
    domains: dict[str, str] = Field(default_factory=dict)
    data_dir: Path = Field(default_factory=user_data_dir)
    # Create and upgrade the tables when a process starts. Unset: ``retailgraph run`` and
    # ``retailgraph demo`` do, other processes expect ``retailgraph db upgrade`` to have
    # been run as a release step.
    migrate_on_start: bool | None = None
    # Connections each process keeps per PostgreSQL database, opened as needed and then
    # kept. Every process of a deployment holds up to this many: their sum must stay under
    # the server's max_connections (100 by default).
    pool_size: int = Field(default=30, ge=1, le=1000)
    # Days each domain's outbox keeps an event after relaying it to the bus, then deletes
    # it; events not relayed yet are always kept.
    outbox_keep_days: int = Field(default=7, ge=1, le=3650)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, folder: Path) -> Path:
        # Fixed when the settings are read, so every later step finds the same folder.
        return folder.expanduser().resolve()


class RedisSettings(_Section):
    """Redis, when there is one: the event bus (Redis Streams), the cache and the ERP
    rate-limit bucket live there. Without it, each process keeps them in memory."""

    url: str | None = None


class SubgraphSettings(_Section):
    """What every domain subgraph process shares."""

    # The gateway's ``[gateway] identity_secret``: a subgraph believes the caller the
    # gateway names only when it is signed with it. Unset: every request is anonymous
    # (``retailgraph run`` makes one secret up for its gateway and subgraphs alike).
    identity_secret: SecretStr | None = Field(default=None, min_length=32)

    def identity_key(self) -> bytes | None:
        secret = self.identity_secret
        return None if secret is None else secret.get_secret_value().encode()


class WorkerMetricsSettings(_Section):
    """Prometheus metrics of the processes that serve no HTTP of their own (the gateway
    and the subgraphs serve ``/metrics`` beside GraphQL)."""

    # The port ``retailgraph worker erp`` and ``worker stock`` serve ``/metrics`` on;
    # unset: none.
    worker_port: int | None = Field(default=None, gt=0, lt=65536)
    # The interface it listens on.
    worker_host: str = "127.0.0.1"


class SalesSettings(_Section):
    """The channels the retailer sells through and the currencies it prices in. Every
    process of a deployment must read the same lists: a channel one domain does not know
    is refused there."""

    channels: tuple[str, ...] = Field(default=DEFAULT_CHANNELS, max_length=MAX_CHANNELS)
    currencies: tuple[str, ...] = Field(default=DEFAULT_CURRENCIES, max_length=MAX_CURRENCIES)

    @model_validator(mode="after")
    def _well_formed(self) -> SalesSettings:
        self.vocabulary()
        return self

    def vocabulary(self) -> SalesVocabulary:
        return SalesVocabulary(self.channels, self.currencies)


class PricingSettings(_Section):
    """Rules of the pricing domain that are the retailer's to set."""

    # The channels that must share each SKU's base price: an override in one of them that
    # differs from what the others pay counts in the price-parity KPI. A retailer that
    # prices its stores apart sets ["web", "app"]; a marketplace keeps its own price list.
    parity_channels: tuple[str, ...] = Field(default=OWN_CHANNELS, min_length=1, max_length=32)
    # A price list row that moves a price by more than this many percent of the price in
    # effect is held for an operator's approval (reject code HELD_FOR_APPROVAL), not
    # applied: a decimal point slipped in the ERP must not reach the shelves.
    max_price_change_percent: Decimal = Field(
        default=DEFAULT_MAX_PRICE_CHANGE_PERCENT, gt=0, le=100_000
    )

    def domain_options(self) -> dict[str, Any]:
        """What the pricing domain's ``start`` takes from these settings."""
        return {"max_price_change_percent": self.max_price_change_percent}


LogFormat = Literal["json", "console"]
LogLevel = Literal["debug", "info", "warning", "error"]


class LoggingSettings(_Section):
    """How a process writes its log lines (docs/operations.md, "Logs")."""

    # ``json``: one JSON object a line, for a log collector; ``console``: lines for a
    # person at a terminal. Unset: ``console`` for ``retailgraph run``, ``json`` for
    # every other process.
    format: LogFormat | None = None
    # The least severe lines written; ``warning`` drops the line per request.
    level: LogLevel = "info"


class TracingSettings(_Section):
    """OpenTelemetry tracing, off unless an endpoint is given (docs/operations.md)."""

    # The OTLP/HTTP collector, ``http://collector:4318`` (the spans go to ``/v1/traces``
    # there); also ``OTEL_EXPORTER_OTLP_ENDPOINT``. Unset: no spans are made at all.
    endpoint: str | None = None
    # The share of new traces kept (a request that arrives with a sampled
    # ``traceparent`` follows its caller's choice).
    sample_ratio: float = Field(default=1.0, ge=0, le=1)
    # Put before every process's service name (``retailgraph-gateway``, ...).
    service_prefix: str = "retailgraph"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RETAILGRAPH_",
        env_nested_delimiter="__",
        # RETAILGRAPH_CONFIG and RETAILGRAPH_DATA_DIR are read by name, below.
        extra="ignore",
        frozen=True,
    )

    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    erp: ErpSettings = Field(default_factory=ErpSettings)
    subgraphs: SubgraphSettings = Field(default_factory=SubgraphSettings)
    metrics: WorkerMetricsSettings = Field(default_factory=WorkerMetricsSettings)
    sales: SalesSettings = Field(default_factory=SalesSettings)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    # Subgraph name -> URL of the peers a domain subgraph calls (orders' checkout calls
    # pricing and inventory); ``retailgraph subgraph`` defaults them to their own ports.
    peers: dict[str, str] = Field(default_factory=dict)


# The deployment variables read besides RETAILGRAPH_<PATH>, and the setting each one sets.
CONVENTIONAL: dict[str, tuple[tuple[str, ...], Callable[[str], Any]]] = {
    "DATABASE_URL": (("database", "url"), str),
    "RETAILGRAPH_DATA_DIR": (("database", "data_dir"), str),
    "REDIS_URL": (("redis", "url"), str),
    "TRYTON_URL": (("erp", "tryton", "url"), str),
    "TRYTON_DATABASE": (("erp", "tryton", "database"), str),
    "TRYTON_USER": (("erp", "tryton", "user"), str),
    "TRYTON_PASSWORD": (("erp", "tryton", "password"), str),
    "TRYTON_WAREHOUSE": (("erp", "tryton", "warehouse"), str),
    "HTTP_PROXY": (("gateway", "proxy", "http"), str),
    "http_proxy": (("gateway", "proxy", "http"), str),
    "HTTPS_PROXY": (("gateway", "proxy", "https"), str),
    "https_proxy": (("gateway", "proxy", "https"), str),
    "NO_PROXY": (("gateway", "proxy", "no_proxy"), str),
    "no_proxy": (("gateway", "proxy", "no_proxy"), str),
    "OTEL_EXPORTER_OTLP_ENDPOINT": (("tracing", "endpoint"), str),
}
# ``<NAME>_DATABASE_URL`` and ``<NAME>_SUBGRAPH_URL``, for each domain or peer NAME.
CONVENTIONAL_SUFFIXES = {"_DATABASE_URL": ("database", "domains"), "_SUBGRAPH_URL": ("peers",)}


class _ConventionalVariables(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in self._environ.items():
            if not value:
                continue
            if name in CONVENTIONAL:
                path, parse = CONVENTIONAL[name]
                _put(found, path, parse(value))
                continue
            for suffix, path in CONVENTIONAL_SUFFIXES.items():
                if name.endswith(suffix) and len(name) > len(suffix) and name != "DATABASE_URL":
                    _put(found, (*path, name[: -len(suffix)].lower()), value)
        return found


def _put(into: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        into = into.setdefault(part, {})
    into[path[-1]] = value


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """The settings from ``config`` (or the default file), the environment, ``overrides``."""
    path = config or _configured_path()
    if path is not None and not path.is_file():
        raise SettingsError(f"no settings file at {path}")

    class FromSources(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [
                init_settings,
                env_settings,
                _ConventionalVariables(settings_cls, os.environ),
            ]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    try:
        settings = Settings.model_validate(FromSources(**overrides).model_dump())
    except ValidationError as error:
        raise SettingsError(f"invalid settings: {_described(error)}") from None
    except ValueError as error:
        raise SettingsError(f"invalid settings: {error}") from None
    return settings if path is None else _files_beside(settings, path.parent)


_C = TypeVar("_C", bound=ClientSettings)


def _files_beside(settings: Settings, folder: Path) -> Settings:
    """``settings`` with the clients' relative manifest paths read from ``folder``, the
    settings file's: a deployment ships the file and its manifests side by side."""
    gateway = settings.gateway

    def beside(client: _C) -> _C:
        paths = tuple(str(folder / p) for p in client.manifests)  # an absolute p stays
        return client.model_copy(update={"manifests": paths})

    clients = {name: beside(client) for name, client in gateway.clients.items()}
    gateway = gateway.model_copy(
        update={"clients": clients, "anonymous": beside(gateway.anonymous)}
    )
    return settings.model_copy(update={"gateway": gateway})


def _described(error: ValidationError) -> str:
    """Each problem as ``path: what is wrong (got value)``, secrets left out."""
    problems = []
    for problem in error.errors(include_url=False):
        path = ".".join(str(part) for part in problem["loc"])
        given = problem.get("input")
        shown = "" if isinstance(given, dict | list) or "password" in path else f" (got {given!r})"
        problems.append(f"{path}: {problem['msg']}{shown}")
    return "; ".join(problems)


def _configured_path() -> Path | None:
    named = os.environ.get(CONFIG_VARIABLE)
    if named:
        return Path(named)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
