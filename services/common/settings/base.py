"""The machinery of the settings models: `SettingsGroup` (the pydantic-settings base of
every concern's model), how a PODS_* variable's text becomes a typed value, and
`SettingsError`. Used by models.py; nothing else reads the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AliasGenerator,
    BeforeValidator,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_IDENTITY_MODES = ("off", "on", "local")
ENV_PREFIX = "PODS_"


class SettingsError(ValueError):
    """An environment variable holds a value we cannot use."""


def variable(name: str) -> str:
    """The environment variable of the setting `name`, unless its field names another."""
    return ENV_PREFIX + name.upper()


# ---------------------------------------------------------------- parsing of variables


def _users(raw: object) -> object:
    """PODS_DEV_USERS: `user:password,...`."""
    if not isinstance(raw, str):
        return raw
    users: dict[str, str] = {}
    if not raw.strip():
        return users
    for item in raw.split(","):
        name, sep, password = item.strip().partition(":")
        if not sep or not name or not password:
            raise SettingsError(f"PODS_DEV_USERS entries must be user:password, got {item!r}")
        users[name] = password
    return users


def _names(raw: object) -> object:
    """A comma-separated list of names."""
    if not isinstance(raw, str):
        return raw
    return frozenset(name.strip() for name in raw.split(",") if name.strip())


def _dev_identity(raw: object) -> object:
    """PODS_DEV_IDENTITY: unset, 0 or off; 1 or on; local."""
    if not isinstance(raw, str):
        return raw
    value = raw.strip().lower()
    modes = {"": "off", "0": "off", "off": "off", "1": "on", "on": "on", "local": "local"}
    if value not in modes:
        raise SettingsError(f"PODS_DEV_IDENTITY must be 0, 1 or local, got {raw!r}")
    return modes[value]


def _stripped(raw: object) -> object:
    return raw.strip() if isinstance(raw, str) else raw


def _int(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _float(name: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true or false), got {value!r}")


_PARSERS: dict[object, Callable[[str, str], object]] = {int: _int, float: _float, bool: _bool}

Users = Annotated[Mapping[str, str], NoDecode, BeforeValidator(_users)]
NameSet = Annotated[frozenset[str], NoDecode, BeforeValidator(_names)]
DevIdentity = Annotated[str, BeforeValidator(_dev_identity)]
Stripped = Annotated[str, BeforeValidator(_stripped)]


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source, over a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return dict(self._env)


class SettingsGroup(BaseSettings):
    """Base of the settings models: frozen, one PODS_* variable per field. Constructing a
    model reads no environment (`Settings()` is the defaults); `from_env` does."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        case_sensitive=True,
        validate_by_name=True,
        validate_by_alias=True,
        alias_generator=AliasGenerator(validation_alias=variable),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def variable_of(cls, name: str) -> str:
        """The environment variable of the field `name`."""
        alias = cls.model_fields[name].validation_alias
        return alias if isinstance(alias, str) else variable(name)

    @field_validator("*", mode="before")
    @classmethod
    def _parse_text(cls, value: object, info: ValidationInfo) -> object:
        """Text from the environment as the field's type (an empty number or switch means
        its default); other values pass as they are."""
        if not isinstance(value, str) or info.field_name is None:
            return value
        name = info.field_name
        field = cls.model_fields[name]
        parse = _PARSERS.get(field.annotation)
        if field.annotation is Path:
            return Path(value)
        if parse is None:
            return value
        empty = not value.strip() if parse is _bool else value == ""
        return field.default if empty else parse(cls.variable_of(name), value)

    @classmethod
    def _read(cls, env: Mapping[str, str]) -> dict[str, Any]:
        return _MappingSource(cls, env)()


def _message(model: type[SettingsGroup], error: ErrorDetails) -> str:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, SettingsError):
        return str(cause)
    loc = error["loc"][0] if error["loc"] else ""
    name = str(loc)
    if name not in model.model_fields:
        name = next((f for f in model.model_fields if model.variable_of(f) == loc), name)
    var = model.variable_of(name) if name in model.model_fields else name
    if error["type"] == "greater_than_equal":
        return f"{var} must be at least {error['ctx']['ge']}, got {error['input']}"
    return f"{var}: {error['msg']}, got {error['input']!r}"


_Model = TypeVar("_Model", bound=SettingsGroup)


def validated(model: type[_Model], values: Mapping[str, Any]) -> _Model:
    """The model from `values`; SettingsError naming every variable that is wrong."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise SettingsError("; ".join(_message(model, e) for e in exc.errors())) from None
