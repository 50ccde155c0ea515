"""The seams of the api's domain: what it needs from the database (one Protocol per
repository, holding only the methods the domain calls), from the command bus, and from the
token signer of the built-in identity.

Implemented by services/common/db/repositories (bundled by services/common/db/database.py as
`Repositories`, which satisfies `ApiStore`), the NATS bus wired in services/api/server.py
(commands out, pod changes in), and services/api/tokens.py (TokenIssuer);
services/api/server.py passes the concrete objects. Importing this module imports no database,
messaging or crypto library.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.common.log_window import LogWindow
from services.common.pods_model import Level, PodChange, PodRecord, PodSpec, RequestedStatus
from services.common.quotas_model import Quota, QuotaView
from services.common.records import ImageRule, Revocation, StorageKey, TemplateKey
from services.common.runtime.types import PodKey
from services.common.storage.types import SnapshotKey, VolumeKey
from services.common.templates import TemplateDef, TemplateTagRecord
from services.common.volumes_model import SnapshotRecord, VolumeRecord


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token."""

    token: str
    expires_at: datetime
    expires_in: int
    jti: str


class TokenSigner(Protocol):
    """Signs access tokens for the built-in identity (services/api/tokens.py:TokenIssuer)."""

    def issue(self, tenant_id: str, username: str, now: datetime) -> IssuedToken: ...


class ReconcileRequester(Protocol):
    """Asks the spawner to reconcile a pod (the NATS command bus in production)."""

    async def request_reconcile(self, key: PodKey, reason: str) -> None: ...


class Closable(Protocol):
    """Something to close when done (a subscription)."""

    async def close(self) -> None: ...


class PodChangeFeed(Protocol):
    """Tells of each change of any pod, in order, from now on: the pod events health
    publishes, read through one ordered consumer (services/common/messaging/nats_bus.py,
    MessageBus.follow_pod_changes). Feeds domain/watch.py's Wakeups."""

    async def follow_pod_changes(self, on_change: Callable[[PodKey], None]) -> Closable: ...


class PodChangeStore(Protocol):
    """The recorded changes of pods, oldest first (repositories/pod_changes.py)."""

    async def pod_changes(self, key: PodKey, after: int | None) -> list[PodChange]: ...

    async def tenant_changes(
        self, tenant_id: str, after: int, reader: str | None = None
    ) -> list[PodChange]: ...

    async def changes_of(
        self, tenant_id: str, pod_ids: Collection[str], after: int
    ) -> list[PodChange]: ...

    async def latest_changes(self, tenant_id: str, pod_ids: Collection[str]) -> list[PodChange]: ...

    async def last_change_id(self, tenant_id: str) -> int: ...


class PodStore(Protocol):
    """Pod records: desired state and reads."""

    async def create_pod(
        self,
        key: PodKey,
        *,
        owner: str,
        spec: PodSpec,
        credentials_encrypted: str | None,
        now: datetime,
        quota: Quota | None = None,
        requested: RequestedStatus = RequestedStatus.ON,
    ) -> PodRecord: ...

    async def request_deletion(self, key: PodKey, now: datetime) -> PodRecord | None: ...

    async def list_pods(self, tenant_id: str, owner: str | None = None) -> list[PodRecord]: ...

    async def readable_pods(self, tenant_id: str, username: str) -> list[PodRecord]: ...

    async def pods_page(
        self, tenant_id: str, reader: str | None, after: str = "", limit: int | None = None
    ) -> list[PodRecord]: ...

    async def readable_ids(self, tenant_id: str, reader: str | None) -> list[str]: ...

    async def readable_mark(self, tenant_id: str, reader: str | None) -> tuple[int, int]: ...

    async def credentials(self, key: PodKey) -> str | None: ...

    async def set_requested(
        self,
        key: PodKey,
        requested: RequestedStatus,
        now: datetime,
        why: str,
        quota: Quota | None = None,
    ) -> PodRecord | None: ...

    async def update_spec(
        self,
        key: PodKey,
        spec: PodSpec,
        now: datetime,
        *,
        reapply: bool,
        why: str,
        quota: Quota | None = None,
        requested: RequestedStatus | None = None,
        requested_why: str = "",
    ) -> PodRecord | None: ...

    async def pod_and_level(
        self, key: PodKey, username: str
    ) -> tuple[PodRecord, Level | None] | None: ...

    async def pods_mounting(self, key: StorageKey) -> list[PodRecord]: ...


class LogStore(Protocol):
    """Pod logs, as GetPodLogs reads them, and where their current run stands."""

    async def read_logs(self, key: PodKey, limit_bytes: int, previous: int = 0) -> str: ...

    async def log_window(self, key: PodKey, limit_bytes: int, previous: int = 0) -> LogWindow: ...

    async def read_log_batch(self, key: PodKey, ids: Sequence[int]) -> list[tuple[int, str]]: ...

    async def log_position(self, key: PodKey) -> tuple[int, str] | None: ...


class GrantStore(Protocol):
    """Grants on pods, volumes, snapshots and templates."""

    async def permissions(self, key: PodKey) -> list[tuple[str, Level]]: ...

    async def set_permission(self, key: PodKey, username: str, level: Level) -> None: ...

    async def delete_permission(self, key: PodKey, username: str) -> bool: ...

    async def storage_permission(self, key: StorageKey, username: str) -> Level | None: ...

    async def storage_permissions(self, key: StorageKey) -> list[tuple[str, Level]]: ...

    async def set_storage_permission(
        self,
        key: StorageKey,
        username: str,
        level: Level,
        revoked: Revocation | None = None,
    ) -> None: ...

    async def delete_storage_permission(
        self, key: StorageKey, username: str, revoked: Revocation | None = None
    ) -> bool: ...

    async def template_level(self, key: TemplateKey, username: str) -> Level | None: ...

    async def template_levels(
        self, tenant_id: str, username: str, template_id: str | None = None
    ) -> dict[str, Level]: ...

    async def template_permissions(self, key: TemplateKey) -> list[tuple[str, Level]]: ...

    async def set_template_permission(
        self, key: TemplateKey, username: str, level: Level
    ) -> None: ...

    async def delete_template_permission(self, key: TemplateKey, username: str) -> bool: ...


class CatalogStore(Protocol):
    """Templates and the image allow-list."""

    async def list_templates(self, tenant_id: str) -> list[TemplateDef]: ...

    async def get_template(self, tenant_id: str, template_id: str) -> TemplateDef | None: ...

    async def create_template(
        self,
        tenant_id: str,
        template: TemplateDef,
        now: datetime,
        *,
        public: bool = False,
    ) -> TemplateDef: ...

    async def replace_template(
        self, tenant_id: str, template: TemplateDef, now: datetime
    ) -> TemplateDef | None: ...

    async def delete_template(self, tenant_id: str, template_id: str) -> bool: ...

    async def list_image_rules(self, tenant_id: str) -> list[ImageRule]: ...

    async def add_image_rule(
        self, tenant_id: str, image: str, description: str, added_by: str, now: datetime
    ) -> ImageRule: ...

    async def get_image_rule(self, tenant_id: str, image: str) -> ImageRule | None: ...

    async def add_image_rules(
        self,
        tenant_id: str,
        rules: Sequence[tuple[str, str]],
        added_by: str,
        now: datetime,
        skip_existing: bool,
    ) -> tuple[list[ImageRule], list[str]]: ...

    async def delete_image_rule(self, tenant_id: str, image: str) -> bool: ...


class TemplateTagStore(Protocol):
    """Template versions (tags)."""

    async def add_tag(self, tenant_id: str, tag: TemplateTagRecord) -> TemplateTagRecord | None: ...

    async def list_tags(
        self,
        tenant_id: str,
        template_ids: Sequence[str],
        tag: str | None = None,
        tag_timestamp: str | None = None,
    ) -> list[TemplateTagRecord]: ...


class StorageRecordStore(Protocol):
    """Volume and snapshot records."""

    async def create_volume(
        self, record: VolumeRecord, quota: Quota | None = None
    ) -> VolumeRecord: ...

    async def get_volume(self, key: VolumeKey) -> VolumeRecord | None: ...

    async def list_volumes(self, tenant_id: str) -> list[VolumeRecord]: ...

    async def readable_volumes(self, tenant_id: str, username: str) -> list[VolumeRecord]: ...

    async def update_volume(
        self,
        key: VolumeKey,
        now: datetime,
        *,
        description: str | None = None,
        size_bytes: int | None = None,
    ) -> VolumeRecord | None: ...

    async def delete_volume(self, key: VolumeKey) -> bool: ...

    async def create_snapshot(
        self, record: SnapshotRecord, quota: Quota | None = None
    ) -> SnapshotRecord: ...

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotRecord | None: ...

    async def list_snapshots(self, tenant_id: str) -> list[SnapshotRecord]: ...

    async def readable_snapshots(self, tenant_id: str, username: str) -> list[SnapshotRecord]: ...

    async def update_snapshot(
        self, key: SnapshotKey, now: datetime, *, description: str
    ) -> SnapshotRecord | None: ...

    async def delete_snapshot(self, key: SnapshotKey) -> bool: ...


class QuotaStore(Protocol):
    """Quota overrides and views."""

    async def quota(self, tenant_id: str, username: str, defaults: Quota) -> QuotaView: ...

    async def set_quota(
        self, tenant_id: str, username: str, overrides: dict[str, int | None], defaults: Quota
    ) -> QuotaView: ...


class ApiStore(Protocol):
    """The repositories the api's domain uses, built once by services/api/server.py."""

    @property
    def pods(self) -> PodStore: ...

    @property
    def changes(self) -> PodChangeStore: ...

    @property
    def logs(self) -> LogStore: ...

    @property
    def grants(self) -> GrantStore: ...

    @property
    def catalog(self) -> CatalogStore: ...

    @property
    def storage(self) -> StorageRecordStore: ...

    @property
    def quotas(self) -> QuotaStore: ...

    @property
    def template_tags(self) -> TemplateTagStore: ...
