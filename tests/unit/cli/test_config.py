"""The saved login: written for its owner only, overridden by the environment."""

from __future__ import annotations

import stat
from pathlib import Path

from services.cli.config import DEFAULT_URL, Profile, config_path, load, save


def test_the_login_is_saved_with_mode_0600_and_read_back(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}

    path = save(Profile("https://pods.example.org", "jwt", "/ca.pem"), env)

    assert path == tmp_path / "pods" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load(env) == Profile("https://pods.example.org", "jwt", "/ca.pem")


def test_an_existing_file_is_tightened_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    path.chmod(0o644)

    save(Profile(), {"PODS_CONFIG": str(path)})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {"PODS_CONFIG": str(tmp_path / "c.json")}
    save(Profile("http://saved", "old"), env)

    profile = load({**env, "PODS_URL": "http://other", "PODS_TOKEN": "new"})

    assert profile == Profile("http://other", "new", "")


def test_without_a_file_the_defaults(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "x")}

    assert load(env) == Profile(DEFAULT_URL, "", "")
    assert config_path(env) == tmp_path / "x" / "pods" / "config.json"
