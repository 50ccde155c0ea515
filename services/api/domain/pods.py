"""The pod use cases behind PodsService: create, get, list, delete, logs, credentials.

Called by transport/pods_servicer.py with an authenticated Principal. Writes desired state
through the Store, then asks the spawner to reconcile (a level-triggered command); if that
publish fails the pod is still recorded, and health's resync publishes it again later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.api.domain.validation import Limits, PodRequest, validate_new_pod, validate_pod_id
from services.api.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    NotFoundError,
)
from services.common.db.store import AlreadyExistsError as StoreAlreadyExists
from services.common.db.store import Store
from services.common.outcomes import PodsError
from services.common.pods_model import PodRecord
from services.common.runtime.types import PodKey
from services.common.secretbox import SecretBox
from services.common.templates import Credentials, Template, generate_credentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a verified user of a tenant; admins may act on every pod."""

    tenant_id: str
    username: str
    is_admin: bool = False


class ReconcileRequester(Protocol):
    """Asks the spawner to reconcile a pod (the NATS command bus in production)."""

    async def request_reconcile(self, key: PodKey, reason: str) -> None: ...


@dataclass(frozen=True)
class PodLogsView:
    """What GetPodLogs returns."""

    logs: str
    action_logs: tuple[str, ...]


class Pods:
    """Pod use cases with object-level permission checks."""

    def __init__(
        self,
        *,
        store: Store,
        reconciler: ReconcileRequester,
        secrets: SecretBox,
        templates: Mapping[str, Template],
        limits: Limits,
        log_limit_bytes: int,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._reconciler = reconciler
        self._secrets = secrets
        self._templates = templates
        self._limits = limits
        self._log_limit = log_limit_bytes
        self._clock = clock

    async def create(self, who: Principal, request: PodRequest) -> PodRecord:
        spec = validate_new_pod(request, self._templates, self._limits)
        key = PodKey(who.tenant_id, request.pod_id)
        encrypted = None
        if spec.template:
            credentials = generate_credentials(self._templates[spec.template], request.pod_id)
            encrypted = self._secrets.encrypt(credentials.to_json())
        try:
            record = await self._store.create_pod(
                key,
                owner=who.username,
                spec=spec,
                credentials_encrypted=encrypted,
                now=self._clock(),
            )
        except StoreAlreadyExists:
            raise AlreadyExistsError(f"pod_id '{request.pod_id}' already exists") from None
        await self._request(key, "create")
        return record

    async def get(self, who: Principal, pod_id: str) -> PodRecord:
        return await self._readable(who, pod_id)

    async def list(self, who: Principal) -> list[PodRecord]:
        owner = None if who.is_admin else who.username
        return await self._store.list_pods(who.tenant_id, owner)

    async def delete(self, who: Principal, pod_id: str) -> PodRecord:
        await self._readable(who, pod_id)
        record = await self._store.request_deletion(PodKey(who.tenant_id, pod_id), self._clock())
        if record is None:
            raise NotFoundError(f"pod '{pod_id}' not found")
        await self._request(record.key, "delete")
        return record

    async def logs(self, who: Principal, pod_id: str) -> PodLogsView:
        record = await self._readable(who, pod_id)
        text = await self._store.read_logs(record.key, self._log_limit)
        return PodLogsView(logs=text, action_logs=record.action_logs)

    async def credentials(self, who: Principal, pod_id: str) -> Credentials:
        record = await self._readable(who, pod_id)
        encrypted = await self._store.credentials(record.key)
        if encrypted is None:
            raise InvalidArgumentError(
                "pod_id", f"pod '{pod_id}' has no credentials (only templated pods have them)"
            )
        return Credentials.from_json(self._secrets.decrypt(encrypted))

    async def _readable(self, who: Principal, pod_id: str) -> PodRecord:
        """The pod if the caller may see it. Other users' pods are reported as not found,
        so that their existence does not leak."""
        validate_pod_id(pod_id)
        record = await self._store.get_pod(PodKey(who.tenant_id, pod_id))
        if record is None or not (who.is_admin or record.owner == who.username):
            raise NotFoundError(f"pod '{pod_id}' not found")
        return record

    async def _request(self, key: PodKey, reason: str) -> None:
        try:
            await self._reconciler.request_reconcile(key, reason)
        except PodsError as exc:
            # Desired state is recorded; health's resync republishes stuck pods.
            log.warning("could not publish %s command for %s: %s", reason, key, exc)
