"""RetailGraph's settings: one TOML file, environment variables over it, defaults under.

The file is ``--config PATH``, else ``RETAILGRAPH_CONFIG``, else ``retailgraph.toml`` in
the working directory when there is one. Every setting can be overridden by an
environment variable named by its path: ``[gateway.limits] max_depth`` is
``RETAILGRAPH_GATEWAY__LIMITS__MAX_DEPTH``. Command-line options override both.
``docs/configuration.md`` lists every setting with its default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from gateway.settings import GatewaySettings

CONFIG_VARIABLE = "RETAILGRAPH_CONFIG"
DEFAULT_CONFIG = Path("retailgraph.toml")


class SettingsError(Exception):
    """The settings file or an environment variable holds something invalid."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RETAILGRAPH_",
        env_nested_delimiter="__",
        # Other RETAILGRAPH_* variables (the ERP's, say) are read where they are used.
        extra="ignore",
        frozen=True,
    )

    gateway: GatewaySettings = GatewaySettings()


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """The settings from ``config`` (or the default file), the environment, ``overrides``."""
    path = config or _configured_path()
    if path is not None and not path.is_file():
        raise SettingsError(f"no settings file at {path}")

    class FromFile(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(sources)

    try:
        return Settings.model_validate(FromFile(**overrides).model_dump())
    except (ValidationError, ValueError) as error:
        raise SettingsError(f"invalid settings: {error}") from None


def _configured_path() -> Path | None:
    named = os.environ.get(CONFIG_VARIABLE)
    if named:
        return Path(named)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
