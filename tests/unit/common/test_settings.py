"""Settings.from_env: every PODS_* variable is read into its field, bad values raise
SettingsError naming the variable, empty and unset ones keep defaults, derived defaults
follow the values they derive from, and constructing Settings reads no environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.settings import (
    GROUPS,
    DatabaseSettings,
    MessagingSettings,
    Settings,
    SettingsError,
)

FIELDS = sorted(Settings.model_fields)

# A valid text per field type, and the value it becomes.
SAMPLES: dict[object, tuple[str, object]] = {
    int: ("7", 7),
    float: ("2.5", 2.5),
    bool: ("1", True),
    str: ("some-text", "some-text"),
    Path: ("/srv/pods", Path("/srv/pods")),
}
SPECIAL: dict[str, tuple[str, object]] = {
    "dev_identity": ("local", "local"),
    "dev_users": ("ann:pw1, bob:pw2", {"ann": "pw1", "bob": "pw2"}),
    "admin_users": ("ann, bob,,", frozenset({"ann", "bob"})),
    "jwt_admin_users": ("carl", frozenset({"carl"})),
    "cors_origins": (
        "https://a.example.org, http://localhost:3000",
        frozenset({"https://a.example.org", "http://localhost:3000"}),
    ),
    "jwt_issuer": (" https://issuer ", "https://issuer"),
    "jwt_public_key_file": (" /k.pem ", "/k.pem"),
    "jwt_jwks_url": (" https://keys ", "https://keys"),
    "jwt_audience": (" pods ", "pods"),
    "log_format": ("json", "json"),
    "docker_network_mode": ("per-pod", "per-pod"),
}
NUMBERS = [n for n in FIELDS if Settings.model_fields[n].annotation in (int, float)]
SWITCHES = [n for n in FIELDS if Settings.model_fields[n].annotation is bool]
AT_LEAST_ONE = ["pod_pids_limit", "exec_max_per_pod", "exec_max_per_user", "exec_max_total"]


def sample(name: str) -> tuple[str, object]:
    if name in SPECIAL:
        return SPECIAL[name]
    return SAMPLES[Settings.model_fields[name].annotation]


def test_every_field_has_a_variable_and_a_description() -> None:
    variables = [Settings.variable_of(name) for name in FIELDS]
    assert all(v.startswith("PODS_") for v in variables)
    assert len(set(variables)) == len(variables)
    assert all(Settings.model_fields[name].description for name in FIELDS)


def test_the_groups_make_up_settings_and_each_field_is_in_one() -> None:
    grouped = [name for group in GROUPS for name in group.model_fields]
    assert sorted(grouped) == FIELDS
    assert all(issubclass(Settings, group) for group in GROUPS)


def test_variables_keep_their_historic_names() -> None:
    renamed = {
        "default_cpu_limit_millis": "PODS_DEFAULT_CPU_LIMIT",
        "default_mem_limit_mib": "PODS_DEFAULT_MEM_LIMIT",
        "max_cpu_millis": "PODS_MAX_CPU",
        "max_mem_mib": "PODS_MAX_MEM",
        "volume_size_default_mib": "PODS_VOLUME_SIZE_DEFAULT",
        "volume_size_max_mib": "PODS_VOLUME_SIZE_MAX",
        "quota_cpu_millis": "PODS_QUOTA_CPU",
        "quota_mem_mib": "PODS_QUOTA_MEM",
        "quota_storage_mib": "PODS_QUOTA_STORAGE",
    }
    assert {name: Settings.variable_of(name) for name in renamed} == renamed
    assert Settings.variable_of("nats_url") == "PODS_NATS_URL"


@pytest.mark.parametrize("name", FIELDS)
def test_every_variable_is_read(name: str) -> None:
    text, value = sample(name)
    settings = Settings.from_env({Settings.variable_of(name): text})
    assert getattr(settings, name) == value


@pytest.mark.parametrize("name", NUMBERS)
def test_a_number_that_is_not_one_is_refused_by_name(name: str) -> None:
    variable = Settings.variable_of(name)
    kind = "an integer" if Settings.model_fields[name].annotation is int else "a number"
    with pytest.raises(SettingsError, match=f"^{variable} must be {kind}, got 'lots'$"):
        Settings.from_env({variable: "lots"})


@pytest.mark.parametrize("name", NUMBERS + SWITCHES)
def test_an_empty_number_or_switch_keeps_its_default(name: str) -> None:
    blank = "  " if name in SWITCHES else ""
    settings = Settings.from_env({Settings.variable_of(name): blank})
    assert getattr(settings, name) == Settings.model_fields[name].default


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize(
    ("text", "value"), [("1", True), ("TRUE", True), ("yes", True), ("on", True), ("0", False)]
)
def test_switches_read_the_usual_spellings(name: str, text: str, value: bool) -> None:
    assert getattr(Settings.from_env({Settings.variable_of(name): text}), name) is value


@pytest.mark.parametrize("name", SWITCHES)
def test_a_switch_that_is_not_one_is_refused_by_name(name: str) -> None:
    variable = Settings.variable_of(name)
    with pytest.raises(SettingsError, match=f"^{variable} must be 1 or 0 .*got 'maybe'$"):
        Settings.from_env({variable: "Maybe"})


@pytest.mark.parametrize("name", AT_LEAST_ONE)
def test_limits_must_be_at_least_one(name: str) -> None:
    variable = Settings.variable_of(name)
    assert getattr(Settings.from_env({variable: "1"}), name) == 1
    with pytest.raises(SettingsError, match=f"^{variable} must be at least 1, got 0$"):
        Settings.from_env({variable: "0"})


def test_identity_variables_are_checked() -> None:
    with pytest.raises(SettingsError, match="PODS_DEV_IDENTITY must be 0, 1 or local"):
        Settings.from_env({"PODS_DEV_IDENTITY": "maybe"})
    with pytest.raises(SettingsError, match="PODS_DEV_USERS entries must be user:password"):
        Settings.from_env({"PODS_DEV_USERS": "ann:pw,bob"})
    modes = {"": "off", "0": "off", "OFF": "off", "1": "on", "on": "on", " local ": "local"}
    for text, mode in modes.items():
        assert Settings.from_env({"PODS_DEV_IDENTITY": text}).dev_identity == mode


def test_every_wrong_variable_is_named() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"PODS_API_PORT": "x", "PODS_ACK_WAIT": "y", "PODS_GATEWAY_TLS": "z"})
    for variable in ("PODS_API_PORT", "PODS_ACK_WAIT", "PODS_GATEWAY_TLS"):
        assert variable in str(caught.value)


def test_an_empty_text_variable_is_kept_as_given() -> None:
    assert Settings.from_env({"PODS_RUNTIME": ""}).runtime == ""
    assert Settings.from_env({"PODS_K8S_NAMESPACE": ""}).k8s_namespace == ""


def test_unset_variables_keep_the_defaults() -> None:
    settings = Settings.from_env({})
    derived = {"gateway_config_dir", "spawner_address"}
    defaults = Settings()
    for name in set(FIELDS) - derived:
        assert getattr(settings, name) == getattr(defaults, name), name
    assert settings.gateway_config_dir == str(Path("data") / "gateway")
    assert settings.spawner_address == "127.0.0.1:50052"
    assert settings.public_url == "http://localhost:8080"
    assert settings.nats_url == "nats://127.0.0.1:4333"
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")


def test_derived_defaults_follow_what_they_derive_from() -> None:
    settings = Settings.from_env(
        {
            "PODS_GATEWAY_TLS": "1",
            "PODS_GATEWAY_PORT": "9443",
            "PODS_NATS_PORT": "4999",
            "PODS_DATA_DIR": "/srv/pods",
            "PODS_SPAWNER_PORT": "6000",
        }
    )
    assert settings.public_url == "https://localhost:9443"
    assert settings.nats_url == "nats://127.0.0.1:4999"
    assert settings.gateway_config_dir == "/srv/pods/gateway"
    assert settings.spawner_address == "127.0.0.1:6000"
    assert settings.effective_database_url == "sqlite+aiosqlite:////srv/pods/pods.db"


def test_given_values_win_over_derived_defaults() -> None:
    given = {
        "PODS_PUBLIC_URL": "https://pods.example.org",
        "PODS_NATS_URL": "nats://nats:4222",
        "PODS_GATEWAY_CONFIG_DIR": "/etc/envoy",
        "PODS_SPAWNER_ADDRESS": "spawner:50052",
        "PODS_DATABASE_URL": "postgresql+asyncpg://u@db/pods",
    }
    settings = Settings.from_env({**given, "PODS_GATEWAY_PORT": "1", "PODS_NATS_PORT": "2"})
    assert settings.public_url == "https://pods.example.org"
    assert settings.nats_url == "nats://nats:4222"
    assert settings.gateway_config_dir == "/etc/envoy"
    assert settings.spawner_address == "spawner:50052"
    assert settings.effective_database_url == "postgresql+asyncpg://u@db/pods"


def test_constructing_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PODS_RUNTIME", "kubernetes")
    monkeypatch.setenv("PODS_API_PORT", "1234")
    assert Settings().runtime == "docker"
    assert DatabaseSettings().data_dir == Path("data")
    assert Settings.from_env().runtime == "kubernetes"
    assert Settings.from_env().api_port == 1234


def test_settings_are_frozen_and_each_concern_stands_alone() -> None:
    settings = Settings(nats_url="nats://a:1", deployment_id="prod")
    with pytest.raises(ValueError, match="frozen"):
        settings.nats_url = "nats://b:2"  # type: ignore[misc]
    assert isinstance(settings, MessagingSettings)
    assert MessagingSettings(ack_wait=3).ack_wait == 3.0
    with pytest.raises(ValueError, match="nats_url"):
        DatabaseSettings(nats_url="x")  # type: ignore[call-arg]


def test_a_log_format_other_than_text_or_json_is_refused() -> None:
    assert Settings.from_env({}).log_format == "text"
    with pytest.raises(SettingsError, match="PODS_LOG_FORMAT"):
        Settings.from_env({"PODS_LOG_FORMAT": "yaml"})
