"""The pod use cases behind PodsService: create, get, list, delete, logs, credentials.

Called by transport/pods_servicer.py with an authenticated Principal. Writes desired state
through the repositories (domain/ports.py), then asks the spawner to reconcile (a
level-triggered command); if that publish fails the pod is still recorded, and health's resync
publishes it again later. Permissions are checked and changed by domain/access.py.
Volume and snapshot mounts being added or changed are checked by a MountAuthorizer
(domain/volumes.py) before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from services.api.domain.access import Access
from services.api.domain.derivation import Resolver
from services.api.domain.exec_credentials import CredentialedRunner
from services.api.domain.execution import CommandRunner, ExecReport, ExecRequest, run_commands
from services.api.domain.images import image_allowed
from services.api.domain.log_pieces import PodLogsStream, stream_logs
from services.api.domain.paging import POD_TOKEN_SCHEME, pod_page, token_after
from services.api.domain.pod_template import fold_pod_template
from services.api.domain.ports import ApiStore, CatalogStore, ReconcileRequester
from services.api.domain.principal import Principal
from services.api.domain.quota_errors import refusals
from services.api.domain.requested_status import requested_on_create, requested_on_update
from services.api.domain.validation import (
    POD_ID_RE,
    Limits,
    PodRequest,
    PodUpdate,
    UpdatePlan,
    validate_new_pod,
    validate_update,
)
from services.api.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.outcomes import PodsError
from services.common.pods_model import (
    Level,
    PodChange,
    PodRecord,
    PodSpec,
    RequestedStatus,
    Status,
    VolumeMountSpec,
)
from services.common.quotas_model import Quota
from services.common.records import AlreadyExistsError as StoreAlreadyExists
from services.common.runtime.types import PodKey
from services.common.secretbox import SecretBox
from services.common.templates import Credentials, generate_credentials

log = logging.getLogger(__name__)

MAX_PREVIOUS_RUNS = 2  # the spawner keeps three runs of logs
RUNNING = (Status.REQUESTED, Status.CREATING, Status.AVAILABLE, Status.SPAWNER_SETUP)
ON, OFF = RequestedStatus.ON, RequestedStatus.OFF
VERBS = {ON: "start", OFF: "stop", RequestedStatus.RESTART: "restart"}


class MountAuthorizer(Protocol):
    """Checks that a caller may mount volumes and snapshots (domain/volumes.py)."""

    async def authorize_mounts(
        self, who: Principal, mounts: Mapping[str, VolumeMountSpec]
    ) -> None: ...

    async def authorize_start(
        self, who: Principal, owner: str, mounts: Mapping[str, VolumeMountSpec]
    ) -> None: ...


@dataclass(frozen=True)
class Changed:
    """A pod after a change, and a sentence for the caller saying what happened."""

    record: PodRecord
    message: str


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
        store: ApiStore,
        reconciler: ReconcileRequester,
        secrets: SecretBox,
        limits: Limits,
        log_limit_bytes: int,
        clock: Callable[[], datetime],
        runner: CommandRunner,
        mounts: MountAuthorizer,
        quota: Quota | None = None,
    ) -> None:
        self._quota = quota  # per-user defaults; None: no quotas
        self._runner = runner
        self._mounts = mounts
        self._store = store
        self._access = Access(store, clock, reconciler)
        self._resolver = Resolver(store, limits)
        self._reconciler = reconciler
        self._secrets = secrets
        self._limits = limits
        self._log_limit = log_limit_bytes
        self._clock = clock

    async def create(self, who: Principal, request: PodRequest) -> PodRecord:
        """Records the pod; it is started unless `status_requested` is OFF (then STOPPED)."""
        image, template = fold_pod_template(request.image, request.template, request.pod_template)
        request = replace(request, image=image, template=template, pod_template="")
        request, templates = await self._resolver.for_pod(who, request)
        spec = validate_new_pod(request, templates, self._limits)
        requested = requested_on_create(request.status_requested)
        await check_image_allowed(self._store.catalog, who.tenant_id, spec.image, spec.template)
        await self._mounts.authorize_mounts(who, spec.volume_mounts)
        key = PodKey(who.tenant_id, request.pod_id)
        credentials = generate_credentials(templates.get(spec.template), request.pod_id)
        encrypted = self._secrets.encrypt(credentials.to_json())  # every pod has them (Tapis)
        try:
            with refusals():
                record = await self._store.pods.create_pod(
                    key,
                    owner=who.username,
                    spec=spec,
                    credentials_encrypted=encrypted,
                    now=self._clock(),
                    quota=self._quota,
                    requested=requested,
                )
        except StoreAlreadyExists:
            raise AlreadyExistsError(f"pod_id '{request.pod_id}' already exists") from None
        await self._request(key, "create")
        return record

    async def get(self, who: Principal, pod_id: str) -> PodRecord:
        return await self._authorize(who, pod_id, Level.READ)

    async def changes(self, who: Principal, pod_id: str, after: int | None) -> list[PodChange]:
        """The pod's recorded changes after `after` (its latest alone for None or a change
        no longer kept), authorized like GetPod."""
        record = await self._authorize(who, pod_id, Level.READ)
        return await self._store.changes.pod_changes(record.key, after)

    async def readable_changes(self, who: Principal, after: int) -> list[PodChange]:
        """The changes after `after` of the pods the caller may read now (a batch, oldest
        first; the permission filter is in the query)."""
        reader = None if who.is_admin else who.username
        return await self._store.changes.tenant_changes(who.tenant_id, after, reader)

    async def readable_ids(self, who: Principal) -> set[str]:
        """The ids of the pods the caller may read (what ListPods lists, ids only)."""
        reader = None if who.is_admin else who.username
        return set(await self._store.pods.readable_ids(who.tenant_id, reader))

    async def readable_mark(self, who: Principal) -> object:
        """A cheap mark that moves when the set of pods the caller may read changes (see
        PodRepository.readable_mark for the one case it can miss)."""
        reader = None if who.is_admin else who.username
        return await self._store.pods.readable_mark(who.tenant_id, reader)

    async def changes_of(
        self, who: Principal, readable: Collection[str], after: int
    ) -> list[PodChange]:
        """The changes after `after` of the pods named in `readable` (ids readable_ids
        gave the caller)."""
        return await self._store.changes.changes_of(who.tenant_id, readable, after)

    async def latest_changes(self, who: Principal, readable: Collection[str]) -> list[PodChange]:
        """The current state of each pod named in `readable` (ids readable_ids gave the caller)."""
        return await self._store.changes.latest_changes(who.tenant_id, readable)

    async def last_change_id(self, who: Principal) -> int:
        """The number of the latest change in the caller's tenant (a cursor to read after)."""
        return await self._store.changes.last_change_id(who.tenant_id)

    async def list_pods(self, who: Principal) -> list[PodRecord]:
        if who.is_admin:
            return await self._store.pods.list_pods(who.tenant_id)
        return await self._store.pods.readable_pods(who.tenant_id, who.username)

    async def list_page(
        self, who: Principal, size: int = 0, token: str = ""
    ) -> tuple[list[PodRecord], str]:
        """A page of the pods the caller may read (all of them, as Tapis, when neither
        `size` nor `token` is given) and the token of the next page ("" on the last)."""
        page = pod_page(size, token, lambda pod_id: POD_ID_RE.fullmatch(pod_id) is not None)
        reader = None if who.is_admin else who.username
        limit = None if page.limit is None else page.limit + 1  # one more: is there a next?
        records = await self._store.pods.pods_page(who.tenant_id, reader, page.after, limit)
        if page.limit is None or len(records) <= page.limit:
            return records, ""
        records = records[: page.limit]
        return records, token_after(records[-1].key.pod_id, POD_TOKEN_SCHEME)

    async def delete(self, who: Principal, pod_id: str) -> PodRecord:
        await self._authorize(who, pod_id, Level.ADMIN)
        record = await self._store.pods.request_deletion(
            PodKey(who.tenant_id, pod_id), self._clock()
        )
        if record is None:
            raise NotFoundError(f"pod '{pod_id}' not found")
        await self._request(record.key, "delete")
        return record

    async def logs(self, who: Principal, pod_id: str, previous: int = 0) -> PodLogsView:
        record = await self._logs_record(who, pod_id, previous)
        text = await self._store.logs.read_logs(record.key, self._log_limit, previous)
        return PodLogsView(logs=text, action_logs=record.action_logs)

    async def logs_stream(self, who: Principal, pod_id: str, previous: int = 0) -> PodLogsStream:
        """What `logs` returns, the logs as pieces read while they are consumed (REST)."""
        record = await self._logs_record(who, pod_id, previous)
        logs = self._store.logs
        return await stream_logs(logs, record.key, record.action_logs, self._log_limit, previous)

    async def _logs_record(self, who: Principal, pod_id: str, previous: int) -> PodRecord:
        record = await self._authorize(who, pod_id, Level.READ)
        if not 0 <= previous <= MAX_PREVIOUS_RUNS:
            raise InvalidArgumentError("previous", f"must be 0 to {MAX_PREVIOUS_RUNS}")
        return record

    async def current_logs(self, who: Principal, pod_id: str) -> tuple[int, str]:
        """The current run's number and output so far (FollowPodLogs), authorized like logs."""
        record = await self._authorize(who, pod_id, Level.READ)
        run, _ = await self._store.logs.log_position(record.key) or (record.run, "")
        return run, await self._store.logs.read_logs(record.key, self._log_limit)

    async def log_mark(self, who: Principal, pod_id: str) -> object:
        """Where the current run's output stands (run and read cursor), authorized like logs:
        it changes when output is added, so a follower reads the output only then."""
        record = await self._authorize(who, pod_id, Level.READ)
        return await self._store.logs.log_position(record.key)

    async def credentials(self, who: Principal, pod_id: str) -> Credentials:
        record = await self._authorize(who, pod_id, Level.USER)
        credentials = await self._credentials_of(record)
        if credentials is None:
            raise InvalidArgumentError(
                "pod_id",
                f"pod '{pod_id}' has no credentials: it was created before every pod got them",
            )
        return credentials

    async def _credentials_of(self, record: PodRecord) -> Credentials | None:
        encrypted = await self._store.pods.credentials(record.key)
        return (
            None if encrypted is None else Credentials.from_json(self._secrets.decrypt(encrypted))
        )

    # -- lifecycle and updates -------------------------------------------------------------

    # Start, stop and restart need ADMIN, as in Tapis; an update (USER, as in Tapis) may ask
    # for the same with status_requested.

    async def start(
        self, who: Principal, pod_id: str, grab_latest_template_tag: bool = False
    ) -> Changed:
        return await self._ask(who, pod_id, ON, grab_latest_template_tag)

    async def stop(self, who: Principal, pod_id: str) -> Changed:
        return await self._ask(who, pod_id, OFF)

    async def restart(
        self, who: Principal, pod_id: str, grab_latest_template_tag: bool = False
    ) -> Changed:
        return await self._ask(who, pod_id, RequestedStatus.RESTART, grab_latest_template_tag)

    async def _ask(
        self, who: Principal, pod_id: str, requested: RequestedStatus, grab_latest: bool = False
    ) -> Changed:
        """Start, stop or restart (ADMIN); with `grab_latest`, the pod first moves to the
        newest version of its template tag, applied at once only to a running pod being
        started (a restart applies it anyway)."""
        record = await self._authorize(who, pod_id, Level.ADMIN)
        moved = ""
        if grab_latest:
            running = requested is ON and record.status_requested is ON
            running = running and record.status in RUNNING
            record, moved = await self._to_latest_tag(who, record, reapply=running)
        return _noted(await self._lifecycle(who, record, requested), moved)

    async def _to_latest_tag(
        self, who: Principal, record: PodRecord, *, reapply: bool
    ) -> tuple[PodRecord, str]:
        """The pod moved to the newest version of its template tag (domain/derivation.py),
        applied at once when `reapply`, and a sentence saying so ("" when nothing moved)."""
        spec = await self._resolver.latest_spec(who, record.key.pod_id, record.spec)
        if spec is None:
            return record, ""
        await check_image_allowed(self._store.catalog, who.tenant_id, spec.image, spec.template)
        await self._authorize_new_mounts(who, record, spec)
        why = f"template moved to {spec.template} by {who.username}"
        updated = await self._store_spec(record, spec, reapply=reapply, why=why)
        return updated, f" Its template moved to {spec.template}."

    async def _lifecycle(
        self, who: Principal, record: PodRecord, requested: RequestedStatus
    ) -> Changed:
        pod_id = record.key.pod_id
        if requested is ON and record.status_requested is ON and record.status in RUNNING:
            return Changed(record, f"Pod '{pod_id}' is already {record.status.value}.")
        if requested is OFF and record.status_requested is OFF:
            return Changed(record, f"Pod '{pod_id}' is already stopping or stopped.")
        if requested is not OFF:
            await self._mounts.authorize_start(who, record.owner, record.spec.volume_mounts)
        return await self._want(who, record, requested, VERBS[requested])

    async def update(self, who: Principal, update: PodUpdate) -> Changed:
        """Changes the pod's spec and, if asked (status_requested), starts, stops or restarts
        it, in one write."""
        record = await self._authorize(who, update.pod_id, Level.USER)
        requested = requested_on_update(update.status_requested)
        plan = validate_update(record.spec, update, self._limits)
        if not plan.changed:
            if requested is not None:
                return await self._lifecycle(who, record, requested)
            return Changed(
                record, f"Pod '{update.pod_id}' is unchanged: the update changes nothing."
            )
        if requested is ON and record.status_requested is ON:
            requested = None  # already asked to run: the change is applied as usual
        elif requested is OFF and record.status_requested is OFF:
            requested = None
        starting = requested is not None and requested is not OFF
        await self._authorize_new_mounts(who, record, plan.spec, starting=starting)
        reapply = plan.needs_restart and record.status_requested is not OFF and requested is None
        verb = VERBS[requested] if requested is not None else "update"
        updated = await self._store_spec(
            record,
            plan.spec,
            reapply=reapply,
            why=f"updated by {who.username}: {', '.join(plan.changed)}",
            requested=requested,
            requested_why=f"{verb} requested by {who.username}",
        )
        return Changed(updated, _update_message(update.pod_id, plan, reapply, requested))

    async def _store_spec(
        self,
        record: PodRecord,
        spec: PodSpec,
        *,
        reapply: bool,
        why: str,
        requested: RequestedStatus | None = None,
        requested_why: str = "",
    ) -> PodRecord:
        """Records a changed spec (held to the owner's quota), and a new desired state when
        `requested`; the spawner is asked to apply it at once when `reapply` or `requested`."""
        with refusals():
            updated = await self._store.pods.update_spec(
                record.key,
                spec,
                self._clock(),
                reapply=reapply,
                why=why,
                quota=self._quota,
                requested=requested,
                requested_why=requested_why,
            )
        if updated is None:
            raise NotFoundError(f"pod '{record.key.pod_id}' not found")
        if reapply or requested is not None:
            await self._request(updated.key, VERBS[requested] if requested else "update")
        return updated

    async def _authorize_new_mounts(
        self, who: Principal, record: PodRecord, spec: PodSpec, *, starting: bool = False
    ) -> None:
        """Checks the mounts `spec` adds to the pod's, for the caller and the pod's owner (all
        of the spec's mounts for the owner when the pod is `starting`)."""
        added = {
            object_id: mount
            for object_id, mount in spec.volume_mounts.items()
            if record.spec.volume_mounts.get(object_id) != mount
        }
        await self._mounts.authorize_mounts(who, added)
        if starting:  # the whole new set of mounts, with the owner's permission
            await self._mounts.authorize_start(who, record.owner, spec.volume_mounts)
        elif record.owner != who.username:  # the pod mounts with its owner's permission too
            await self._mounts.authorize_start(who, record.owner, added)

    async def _want(
        self, who: Principal, record: PodRecord, requested: RequestedStatus, verb: str
    ) -> Changed:
        with refusals():
            updated = await self._store.pods.set_requested(
                record.key,
                requested,
                self._clock(),
                f"{verb} requested by {who.username}",
                self._quota,
            )
        if updated is None:
            raise NotFoundError(f"pod '{record.key.pod_id}' not found")
        await self._request(updated.key, verb)
        return Changed(updated, f"Pod '{record.key.pod_id}': {verb} requested.")

    async def exec(self, who: Principal, pod_id: str, request: ExecRequest) -> ExecReport:
        """Runs commands in the pod; ADMIN, as in Tapis (a command can do anything the pod's
        own process can, including reading its credentials)."""
        record = await self._authorize(who, pod_id, Level.ADMIN)
        if record.status is not Status.AVAILABLE:
            raise FailedPreconditionError(
                f"pod '{pod_id}' is {record.status.value}; commands run only in an AVAILABLE pod"
            )
        credentials = await self._credentials_of(record)
        runner = (
            self._runner if credentials is None else CredentialedRunner(self._runner, credentials)
        )
        return await run_commands(runner, record.key, who.username, request, wall_clock=self._clock)

    # -- permissions -----------------------------------------------------------------------

    async def permissions(self, who: Principal, pod_id: str) -> list[tuple[str, Level]]:
        record = await self._authorize(who, pod_id, Level.USER)  # USER, as in Tapis
        return await self._access.grants(record.key)

    async def set_permission(
        self, who: Principal, pod_id: str, user: str, level: str
    ) -> list[tuple[str, Level]]:
        record = await self._authorize(who, pod_id, Level.ADMIN)
        return await self._access.grant(who, record.key, user, level)

    async def delete_permission(
        self, who: Principal, pod_id: str, user: str
    ) -> list[tuple[str, Level]]:
        record = await self._authorize(who, pod_id, Level.ADMIN)
        return await self._access.revoke(who, record.key, user)

    async def _authorize(self, who: Principal, pod_id: str, needed: Level) -> PodRecord:
        """The pod if the caller holds `needed` on it (domain/access.py)."""
        return await self._access.pod(who, pod_id, needed)

    async def _request(self, key: PodKey, reason: str) -> None:
        try:
            await self._reconciler.request_reconcile(key, reason)
        except PodsError as exc:
            # Desired state is recorded; health's resync republishes stuck pods.
            log.warning("could not publish %s command for %s: %s", reason, key, exc)


def _noted(changed: Changed, note: str) -> Changed:
    return Changed(changed.record, changed.message + note) if note else changed


def _update_message(
    pod_id: str, plan: UpdatePlan, reapplied: bool, requested: RequestedStatus | None
) -> str:
    fields = ", ".join(plan.changed)
    if reapplied:
        return f"Pod '{pod_id}' updated ({fields}); it is being restarted to apply them."
    if requested is not None:
        return f"Pod '{pod_id}' updated ({fields}); {VERBS[requested]} requested."
    if plan.needs_restart:
        return f"Pod '{pod_id}' updated ({fields}); they apply when the pod is next started."
    return f"Pod '{pod_id}' updated ({fields}); no restart is needed."


async def check_image_allowed(
    catalog: CatalogStore, tenant_id: str, image: str, template: str
) -> None:
    """PermissionDeniedError unless the tenant's allow-list (domain/images.py) allows `image`
    (`template`: the template it comes from, named in the message; "" for none)."""
    rules = [r.image for r in await catalog.list_image_rules(tenant_id)]
    if not image_allowed(image, rules):
        source = f" (of template '{template}')" if template else ""
        raise PermissionDeniedError(
            f"image '{image}'{source} is not on this tenant's allow-list; allowed: "
            + ", ".join(rules[:10])
        )
