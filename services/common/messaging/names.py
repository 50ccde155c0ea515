"""Stream names and subjects of one deployment's pod commands and events; pure.

Callers: the NATS adapter (nats_bus.py) names its streams, subjects and lease bucket with
`Names`; tests use it to reach the same streams.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.runtime.types import PodKey
from services.common.settings import SettingsError

SPAWNER_CONSUMER = "spawner"  # the durable pull consumer the spawners share

_DEPLOYMENT_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")  # a slug, as runtime naming


@dataclass(frozen=True)
class Names:
    """Stream names and subjects of one deployment.

    Deployment ids are slugs (lowercase letters, digits, inner '-'; as in runtime naming);
    stream names upper-case them and turn '-' into '_', which cannot collide because ids
    never contain '_' or upper-case letters."""

    deployment_id: str

    def __post_init__(self) -> None:
        if not _DEPLOYMENT_RE.fullmatch(self.deployment_id):
            raise SettingsError(
                "PODS_DEPLOYMENT_ID must be lowercase letters, digits and inner '-' "
                "(at most 100 characters), "
                f"got {self.deployment_id!r}"
            )

    @property
    def _stream_prefix(self) -> str:
        return "PODS_" + self.deployment_id.upper().replace("-", "_")

    @property
    def commands_stream(self) -> str:
        return f"{self._stream_prefix}_COMMANDS"

    @property
    def events_stream(self) -> str:
        return f"{self._stream_prefix}_EVENTS"

    @property
    def leases_bucket(self) -> str:
        return f"{self._stream_prefix}_LEASES"

    @property
    def commands_subjects(self) -> str:
        return f"pods.{self.deployment_id}.commands.>"

    @property
    def events_subjects(self) -> str:
        return f"pods.{self.deployment_id}.events.>"

    def command_subject(self, key: PodKey) -> str:
        return f"pods.{self.deployment_id}.commands.{key.tenant_id}.{key.pod_id}"

    def event_subject(self, key: PodKey) -> str:
        return f"pods.{self.deployment_id}.events.{key.tenant_id}.{key.pod_id}"
