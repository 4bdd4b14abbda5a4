"""What every command does with the settings: the ``--config`` option, and loading them
or stopping with the reason in one line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from retailgraph.settings import Settings, SettingsError, load_settings

ConfigOption = Annotated[
    Path | None,
    typer.Option(help="Settings file (default: $RETAILGRAPH_CONFIG, or ./retailgraph.toml)."),
]


def settings_or_exit(config: Path | None = None, **overrides: Any) -> Settings:
    """The settings, or the reason they are invalid as one line and exit status 1."""
    try:
        return load_settings(config, **overrides)
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
