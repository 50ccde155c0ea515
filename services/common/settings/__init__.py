"""Settings for every process, read once from the environment (PODS_* variables).

Each process calls `Settings.from_env()` at start-up and passes the result down; nothing else
reads the environment. Defaults are the embedded single-machine stack. Settings are grouped by
concern, one pydantic-settings model each (models.py: `DatabaseSettings`,
`MessagingSettings`, ...); `Settings` is all of them at once, so `settings.nats_url` works and
a function that needs one concern can ask for just its model. base.py holds the machinery
(`SettingsGroup`, parsing of variables, `SettingsError`). The README's configuration table is
generated from the models (scripts/gen_settings_doc.py; scripts/check fails when it is stale).
"""

from services.common.settings.base import DEV_IDENTITY_MODES, SettingsError, SettingsGroup
from services.common.settings.health import HealthSettings, RestartSettings
from services.common.settings.models import (
    GROUPS,
    DatabaseSettings,
    ExecSettings,
    GatewaySettings,
    IdentitySettings,
    MessagingSettings,
    PodSettings,
    ProcessSettings,
    QuotaSettings,
    RuntimeSettings,
    Settings,
    SiteSettings,
    VolumeSettings,
)

__all__ = [
    "DEV_IDENTITY_MODES",
    "GROUPS",
    "DatabaseSettings",
    "ExecSettings",
    "GatewaySettings",
    "HealthSettings",
    "IdentitySettings",
    "MessagingSettings",
    "PodSettings",
    "ProcessSettings",
    "QuotaSettings",
    "RestartSettings",
    "RuntimeSettings",
    "Settings",
    "SettingsError",
    "SettingsGroup",
    "SiteSettings",
    "VolumeSettings",
]
