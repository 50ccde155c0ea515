"""The start-up rule for identities: closed by default, well-known passwords only on a stack
reachable from this machine alone, an external issuer only with its keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.api.identity_config import check_identity, identity_problems, is_loopback
from services.common.settings import Settings, SettingsError
from services.devstack.identity import local_identity_env


def settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_with_nothing_configured_the_api_refuses_to_start() -> None:
    assert settings().dev_identity == "off" and not settings().dev_users
    with pytest.raises(SettingsError, match="no identity is configured"):
        check_identity(settings())


def test_the_default_password_is_refused_outside_the_local_stack() -> None:
    users = {"PODS_DEV_USERS": "testuser:testpass"}
    cluster = {"PODS_BIND_ADDRESS": "0.0.0.0", "PODS_PUBLIC_URL": "https://pods.example.org"}
    assert identity_problems(settings(PODS_DEV_IDENTITY="local", **users)) == []
    (problem,) = identity_problems(settings(PODS_DEV_IDENTITY="local", **users, **cluster))
    assert "PODS_DEV_IDENTITY=local" in problem and "0.0.0.0" in problem
    (problem,) = identity_problems(
        settings(PODS_DEV_IDENTITY="local", PODS_PUBLIC_URL="http://pods.example.org", **users)
    )
    assert "pods.example.org" in problem
    (problem,) = identity_problems(settings(PODS_DEV_IDENTITY="1", **users))
    assert "testuser" in problem and "testpass" not in problem  # never print a password


def test_outside_the_local_stack_passwords_must_be_long_and_unknown() -> None:
    strong = "alice:correct-horse-battery,bob:another-long-secret"
    assert identity_problems(settings(PODS_DEV_IDENTITY="1", PODS_DEV_USERS=strong)) == []
    (problem,) = identity_problems(
        settings(PODS_DEV_IDENTITY="1", PODS_DEV_USERS="alice:correct-horse-battery,bob:short")
    )
    assert "bob" in problem and "alice" not in problem


def test_the_built_in_identity_needs_users() -> None:
    (problem,) = identity_problems(settings(PODS_DEV_IDENTITY="1"))
    assert "PODS_DEV_USERS" in problem


def test_an_external_issuer_needs_its_keys(tmp_path: Path) -> None:
    (problem,) = identity_problems(settings(PODS_JWT_ISSUER="https://idp"))
    assert "PODS_JWT_JWKS_URL" in problem
    assert (
        identity_problems(
            settings(PODS_JWT_ISSUER="https://idp", PODS_JWT_JWKS_URL="https://idp/jwks")
        )
        == []
    )
    (problem,) = identity_problems(
        settings(PODS_JWT_ISSUER="https://idp", PODS_JWT_PUBLIC_KEY_FILE=str(tmp_path / "no"))
    )
    assert "cannot be read" in problem
    (problem,) = identity_problems(
        settings(PODS_JWT_ISSUER="https://idp", PODS_JWT_JWKS_URL="file:///etc/passwd")
    )
    assert "http(s)" in problem


def test_issuer_settings_without_an_issuer_are_named() -> None:
    problems = identity_problems(
        settings(
            PODS_JWT_AUDIENCE="pods",
            PODS_JWT_ADMIN_USERS="root",
            PODS_DEV_IDENTITY="1",
            PODS_DEV_USERS="alice:correct-horse-battery",
        )
    )
    assert problems == ["PODS_JWT_AUDIENCE, PODS_JWT_ADMIN_USERS given without PODS_JWT_ISSUER"]


def test_the_external_issuer_cannot_be_the_built_in_one() -> None:
    problems = identity_problems(
        settings(
            PODS_DEV_IDENTITY="local",
            PODS_DEV_USERS="a:b",
            PODS_JWT_ISSUER="http://localhost:8080/v3/tokens",
            PODS_JWT_JWKS_URL="http://x",
        )
    )
    assert any("built-in identity's own issuer" in p for p in problems)


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="PODS_DEV_IDENTITY must be 0, 1 or local"):
        settings(PODS_DEV_IDENTITY="yes")
    with pytest.raises(SettingsError, match="PODS_DEV_USERS entries"):
        settings(PODS_DEV_USERS="nopassword")
    problems = identity_problems(
        settings(
            PODS_JWT_ISSUER="https://idp",
            PODS_JWT_JWKS_URL="https://idp/jwks",
            PODS_LOGIN_USER_FAILURES="0",
            PODS_LOGIN_BLOCK_SECONDS="7200",
        )
    )
    assert len(problems) == 2


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("pods.localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_local_stack_enables_the_readme_user_unless_told_otherwise() -> None:
    assert local_identity_env({}) == {
        "PODS_DEV_IDENTITY": "local",
        "PODS_DEV_USERS": "testuser:testpass",
    }
    assert local_identity_env({"PODS_DEV_IDENTITY": "0"}) == {"PODS_DEV_USERS": "testuser:testpass"}
    assert local_identity_env({"PODS_DEV_USERS": "me:pw"}) == {"PODS_DEV_IDENTITY": "local"}
