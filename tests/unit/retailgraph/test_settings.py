"""Settings come from the file, the environment over it, and options over both; the
configuration guide lists every setting with its real default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.settings import CostSettings, GatewaySettings, LimitSettings
from retailgraph.settings import SettingsError, load_settings

GUIDE = (Path(__file__).parents[3] / "docs" / "configuration.md").read_text()


def _documented_default(name: str) -> str:
    for line in GUIDE.splitlines():
        if line.startswith(f"| `{name}` |"):
            return line.split("|")[2].strip().strip("`")
    raise AssertionError(f"docs/configuration.md has no row for {name}")


@pytest.mark.parametrize("section", [GatewaySettings, LimitSettings, CostSettings])
def test_the_guide_lists_every_setting_with_its_default(section: type[BaseModel]) -> None:
    defaults = section()
    for name, info in section.model_fields.items():
        if info.annotation in (LimitSettings, CostSettings):
            continue  # a section of its own
        documented = _documented_default(name)
        value = getattr(defaults, name)
        if isinstance(value, dict):
            assert documented == "none", name
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
    ],
)
def test_invalid_settings_are_refused(tmp_path: Path, content: str) -> None:
    config = tmp_path / "retailgraph.toml"
    config.write_text(content)
    with pytest.raises(SettingsError):
        load_settings(config)


def test_a_missing_settings_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError):
        load_settings(tmp_path / "none.toml")
