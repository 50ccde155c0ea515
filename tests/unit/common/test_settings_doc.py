"""The README's configuration table is generated from the settings models
(scripts/gen_settings_doc.py): it is up to date, it lists every variable with its default and
description, and `--check` fails once a model changes without regenerating the README."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import Field

from services.common.settings import GROUPS, Settings, SettingsGroup

REPO = Path(__file__).resolve().parents[3]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_settings_doc", REPO / "scripts" / "gen_settings_doc.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _script()


class ExtraSettings(SettingsGroup):
    """A concern added after the README was generated."""

    brand_new: int = Field(3, description="a setting the README does not know yet")


def test_the_readme_table_is_up_to_date() -> None:
    assert gen.main(["--check"]) == 0


def test_every_variable_is_in_the_table_with_its_default_and_meaning() -> None:
    table = gen.render()
    for name, field in Settings.model_fields.items():
        assert f"| `{Settings.variable_of(name)}` |" in table
        assert field.description is not None
        assert field.description.replace("|", "\\|") in table
    assert "| `PODS_DEFAULT_CPU_LIMIT` | 2000 |" in table
    assert "| `PODS_GATEWAY_TLS` | 0 |" in table
    assert "| `PODS_RUNTIME` | `docker` |" in table
    assert "| `PODS_NATS_URL` | `nats://127.0.0.1:<nats port>` |" in table


def test_check_fails_when_a_model_changes_without_regenerating(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text((REPO / "README.md").read_text())
    assert gen.main(["--check", "--readme", str(readme)]) == 0
    changed = (*GROUPS, ExtraSettings)
    assert "PODS_BRAND_NEW" in gen.render(changed)
    stale = gen.updated(readme.read_text(), gen.render(changed))
    readme.write_text(stale)
    assert gen.main(["--check", "--readme", str(readme)]) == 1
    assert gen.main(["--readme", str(readme)]) == 0  # regenerates
    assert gen.main(["--check", "--readme", str(readme)]) == 0
    assert "PODS_BRAND_NEW" not in readme.read_text()


def test_a_readme_without_markers_is_an_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no table here\n")
    with pytest.raises(SystemExit, match="markers"):
        gen.main(["--check", "--readme", str(readme)])
