"""The `Store`: every read and write of pod rows (and of the volume, snapshot, template and
image rows), as small transactional operations.

Used by services/api (desired state, volumes and snapshots), services/spawner (applied
generation, removal) and services/health (observed status, logs). Each method is one
transaction; conditional updates keep concurrent writers from undoing each other's work.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.common.db import quotas
from services.common.db.codec import (
    aware,
    container_from_json,
    container_to_json,
    spec_from_json,
    spec_to_json,
    template_from_json,
    template_to_json,
)
from services.common.db.models import (
    ImageRuleRow,
    PodLogChunk,
    PodPermissionRow,
    PodRow,
    SnapshotRow,
    StoragePermissionRow,
    TemplateRow,
    UserQuotaRow,
    VolumeRow,
)
from services.common.db.quotas import Quota, QuotaView
from services.common.db.unavailable import translated
from services.common.outcomes import PodsError
from services.common.pods_model import (
    ContainerStatus,
    Level,
    MountType,
    PodRecord,
    PodSpec,
    RequestedStatus,
    Status,
)
from services.common.restarts import RestartPolicy
from services.common.runtime.types import PodKey, StorageKind
from services.common.storage.types import SnapshotKey, VolumeKey
from services.common.templates import TemplateDef
from services.common.volumes_model import SnapshotRecord, VolumeRecord

MAX_ACTION_LOGS = 200
_WRITE = "pods_write"  # execution option and session info key of write transactions
_AT_REST = (Status.STOPPED.value, Status.COMPLETE.value, Status.ERROR.value)


class AlreadyExistsError(PodsError):
    """A pod with that id already exists in the tenant."""


@dataclass(frozen=True)
class ImageRule:
    """An allow-list entry."""

    image: str
    description: str
    added_by: str
    creation_ts: datetime


class LastAdminError(PodsError):
    """The change would leave a pod, volume, snapshot or template without an ADMIN."""


@dataclass(frozen=True, order=True)
class TemplateKey:
    """A template, as the grants table keys it."""

    tenant_id: str
    template_id: str


# Objects with READ/USER/ADMIN grants in the storage_permissions table (besides pods).
StorageObjectKey = VolumeKey | SnapshotKey | TemplateKey
EVERYONE = "*"  # a grant to every user of the tenant


def _enable_sqlite_concurrency(engine: AsyncEngine) -> None:
    """WAL and a busy timeout let the api, spawner and health processes share one file.

    Transactions are begun by us, not by the driver: pysqlite would only begin one at the
    first write, so a read-modify-write (read the row, then update it) read outside the
    transaction and overwrote what another process wrote in between (a lost update). Write
    transactions begin IMMEDIATE, taking the write lock first (waiting up to busy_timeout);
    reads begin a plain deferred transaction (one consistent snapshot, no lock)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _record(row: PodRow) -> PodRecord:
    creation = aware(row.creation_ts)
    update_ts = aware(row.update_ts)
    changed = aware(row.status_changed_ts)
    assert creation and update_ts and changed
    return PodRecord(
        key=PodKey(row.tenant_id, row.pod_id),
        owner=row.owner,
        spec=spec_from_json(row.spec),
        status_requested=RequestedStatus(row.status_requested),
        status=Status(row.status),
        status_container=container_from_json(row.status_container),
        generation=row.generation,
        observed_generation=row.observed_generation,
        deletion_requested=row.deletion_requested,
        has_credentials=row.credentials_encrypted is not None,
        action_logs=tuple(row.action_logs),
        creation_ts=creation,
        update_ts=update_ts,
        status_changed_ts=changed,
        start_instance_ts=aware(row.start_instance_ts),
        time_to_stop_ts=aware(row.time_to_stop_ts),
        run=row.log_run,
        ended_run=row.ended_run,
        restart_count=row.restart_count,
        crash_streak=row.crash_streak,
        last_exit_reason=row.last_exit_reason,
        restart_due_ts=aware(row.restart_due_ts),
    )


def _template(row: TemplateRow) -> TemplateDef:
    return template_from_json(
        row.template_id, row.definition, row.owner, row.creation_ts, row.update_ts
    )


def _image_rule(row: ImageRuleRow) -> ImageRule:
    created = aware(row.creation_ts)
    assert created is not None
    return ImageRule(
        image=row.image, description=row.description, added_by=row.added_by, creation_ts=created
    )


def _volume(row: VolumeRow) -> VolumeRecord:
    creation, update_ts = aware(row.creation_ts), aware(row.update_ts)
    assert creation and update_ts
    return VolumeRecord(
        key=VolumeKey(row.tenant_id, row.volume_id),
        owner=row.owner,
        description=row.description,
        size_limit_mib=row.size_limit_mib,
        size_bytes=row.size_bytes,
        creation_ts=creation,
        update_ts=update_ts,
    )


def _snapshot(row: SnapshotRow) -> SnapshotRecord:
    creation, update_ts = aware(row.creation_ts), aware(row.update_ts)
    assert creation and update_ts
    return SnapshotRecord(
        key=SnapshotKey(row.tenant_id, row.snapshot_id),
        owner=row.owner,
        description=row.description,
        size_limit_mib=row.size_limit_mib,
        source_volume_id=row.source_volume_id,
        source_volume_path=row.source_volume_path,
        size_bytes=row.size_bytes,
        creation_ts=creation,
        update_ts=update_ts,
    )


def _storage_ref(key: StorageObjectKey) -> tuple[str, str, str]:
    """(tenant, kind, object id) of a volume or snapshot, as the grants table keys it."""
    if isinstance(key, VolumeKey):
        return key.tenant_id, StorageKind.VOLUME.value, key.volume_id
    if isinstance(key, TemplateKey):
        return key.tenant_id, "template", key.template_id
    return key.tenant_id, StorageKind.SNAPSHOT.value, key.snapshot_id


def _describe(key: StorageObjectKey) -> str:
    _, kind, object_id = _storage_ref(key)
    return f"{kind} '{object_id}'"


@dataclass(frozen=True)
class _Grants:
    """One object's grants: their table (PodPermissionRow or StoragePermissionRow, both with
    username and level), the clause selecting them, how a new grant row is made, and how
    errors name the object."""

    table: Any
    where: tuple[Any, ...]
    new_row: Callable[[str, Level], Any]
    whose: str


def _stop_time(spec: dict[str, Any], started: datetime) -> datetime | None:
    """When a run that started at `started` must be stopped; None for never (-1)."""
    seconds = spec.get("time_to_stop_instance") or spec.get("time_to_stop_default") or -1
    return None if seconds < 0 else started + timedelta(seconds=seconds)


def _action_line(now: datetime, text: str) -> str:
    return f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}: {text}"


def _with_action(logs: Iterable[str], now: datetime, text: str) -> list[str]:
    return [*logs, _action_line(now, text)][-MAX_ACTION_LOGS:]


def _forget_restarts(row: PodRow) -> None:
    """A user's change starts afresh: no restart pending, no streak, and the current run's
    end (if it has ended) is recorded again once the change is applied."""
    row.restart_due_ts = None
    row.crash_streak = 0
    row.ended_run = None


def _seconds(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _request(row: PodRow, requested: RequestedStatus, now: datetime, why: str) -> None:
    """Records a new desired state on a pod's row (a new generation for the spawner)."""
    row.status_requested = requested.value
    row.generation += 1
    _forget_restarts(row)
    restarting = requested is RequestedStatus.RESTART
    if restarting or (requested is RequestedStatus.ON and row.status in _AT_REST):
        row.status = Status.REQUESTED.value
        row.status_changed_ts = now
    if requested is not RequestedStatus.ON:
        row.time_to_stop_ts = None
    row.update_ts = now
    row.action_logs = _with_action(row.action_logs, now, why)


@dataclass(frozen=True)
class Revocation:
    """A grant change that may take away a user's right to mount a volume or snapshot: their
    pods mounting it are asked to be OFF at `now`, `why` in their action_logs."""

    now: datetime
    why: str


# Runs inside a grant change's transaction with the user's new level (None: removed).
_AfterChange = Callable[[Any, Level | None], Awaitable[None]]


class _Sessions:
    """Opens sessions like an async_sessionmaker (`()` to read, `.begin()` for a transaction),
    with connection-level failures anywhere in the block raised as DatabaseUnavailableError:
    the one place where the store translates them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._maker = async_sessionmaker(engine, expire_on_commit=False)
        writer = engine.execution_options(**{_WRITE: True})
        self._writer = async_sessionmaker(writer, expire_on_commit=False, info={_WRITE: True})

    @contextlib.asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        with translated():
            async with self._maker() as session:
                yield session

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: on SQLite it holds the write lock from its start, and pod rows
        read in it are locked (FOR UPDATE) on PostgreSQL, so read-modify-write is safe."""
        with translated():
            async with self._writer.begin() as session:
                yield session


class Store:
    """Async repository over one SQLAlchemy engine. Connection-level failures leave every
    method as DatabaseUnavailableError (a TemporaryError)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._session = _Sessions(engine)

    @classmethod
    def open(cls, url: str) -> Store:
        """A store for `url` (sqlite+aiosqlite:// or postgresql+asyncpg://)."""
        if url.startswith("sqlite"):
            engine = create_async_engine(url, connect_args={"timeout": 30})
            _enable_sqlite_concurrency(engine)
        else:
            engine = create_async_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
        return cls(engine)

    async def close(self) -> None:
        await self._engine.dispose()

    async def ping(self) -> None:
        """Runs `SELECT 1`; DatabaseUnavailableError if the database does not answer."""
        async with self._session() as session:
            await session.execute(select(1))

    # -- desired state (api) -------------------------------------------------------------

    async def create_pod(
        self,
        key: PodKey,
        *,
        owner: str,
        spec: PodSpec,
        credentials_encrypted: str | None,
        now: datetime,
        quota: Quota | None = None,
    ) -> PodRecord:
        """Inserts a new pod in status REQUESTED; AlreadyExistsError if the id is taken;
        QuotaExceededError if the owner's `quota` (the defaults; overrides apply) has no room
        for it."""
        row = PodRow(
            tenant_id=key.tenant_id,
            pod_id=key.pod_id,
            owner=owner,
            spec=spec_to_json(spec),
            status_requested=RequestedStatus.ON.value,
            status=Status.REQUESTED.value,
            status_container={},
            generation=1,
            observed_generation=0,
            deletion_requested=False,
            credentials_encrypted=credentials_encrypted,
            action_logs=[_action_line(now, f"pod created by {owner}")],
            log_cursor="",
            creation_ts=now,
            update_ts=now,
            status_changed_ts=now,
        )
        owner_grant = PodPermissionRow(
            tenant_id=key.tenant_id, pod_id=key.pod_id, username=owner, level=Level.ADMIN.value
        )
        if quota is not None:
            await quotas.ensure_row(self._session, key.tenant_id, owner)
        try:
            async with self._session.begin() as session:
                if quota is not None:
                    charge = Quota(
                        pods=1,
                        cpu_millis=spec.resources.cpu_limit,
                        mem_mib=spec.resources.mem_limit,
                    )
                    await quotas.check(session, key.tenant_id, owner, quota, charge)
                session.add(row)
                await session.flush()  # the pod row first: a duplicate fails here
                session.add(owner_grant)
        except IntegrityError:
            raise AlreadyExistsError(f"pod_id '{key.pod_id}' already exists") from None
        return _record(row)

    async def request_deletion(self, key: PodKey, now: datetime) -> PodRecord | None:
        """Marks the pod for deletion (status DELETING); None if it does not exist."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None:
                return None
            if not row.deletion_requested:
                row.deletion_requested = True
                row.status = Status.DELETING.value
                row.generation += 1
                row.update_ts = now
                row.status_changed_ts = now
                row.action_logs = _with_action(row.action_logs, now, "deletion requested")
            return _record(row)

    # -- reads ---------------------------------------------------------------------------

    async def get_pod(self, key: PodKey) -> PodRecord | None:
        async with self._session() as session:
            row = await self._get_row(session, key)
            return _record(row) if row else None

    async def list_pods(self, tenant_id: str, owner: str | None = None) -> list[PodRecord]:
        """Pods of a tenant (of one owner if given), ordered by pod_id."""
        query = select(PodRow).where(PodRow.tenant_id == tenant_id).order_by(PodRow.pod_id)
        if owner is not None:
            query = query.where(PodRow.owner == owner)
        async with self._session() as session:
            return [_record(r) for r in (await session.scalars(query)).all()]

    async def list_all_pods(self) -> list[PodRecord]:
        """Every pod of every tenant (health's resync)."""
        async with self._session() as session:
            rows = (await session.scalars(select(PodRow).order_by(PodRow.id))).all()
            return [_record(r) for r in rows]

    async def credentials(self, key: PodKey) -> str | None:
        """The encrypted credentials blob, or None."""
        async with self._session() as session:
            row = await self._get_row(session, key)
            return row.credentials_encrypted if row else None

    # -- applied and observed state (spawner, health) -------------------------------------

    async def mark_applied(self, key: PodKey, generation: int, action: str, now: datetime) -> bool:
        """Records that the runtime applied `generation`; moves REQUESTED to CREATING."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None or row.deletion_requested:
                return False
            if row.observed_generation < generation:
                row.observed_generation = generation
            if row.status == Status.REQUESTED.value:
                row.status = Status.CREATING.value
                row.status_changed_ts = now
            if action != "adopted":
                row.action_logs = _with_action(row.action_logs, now, f"container {action}")
            row.update_ts = now
            return True

    async def mark_failed(self, key: PodKey, generation: int, message: str, now: datetime) -> None:
        """Records a permanent failure to apply `generation` (status ERROR), once: that
        generation counts as observed, so nothing retries it until the desired state changes
        again, and no restart is pending (the current run has ended)."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None or row.deletion_requested:
                return
            recorded = (
                row.status == Status.ERROR.value
                and row.observed_generation >= generation
                and row.ended_run == row.log_run
                and row.restart_due_ts is None
            )
            if recorded:
                return
            row.observed_generation = max(row.observed_generation, generation)
            row.ended_run = row.log_run
            row.restart_due_ts = None
            if (
                row.status_requested == RequestedStatus.RESTART.value
                and row.generation == generation
            ):
                row.status_requested = RequestedStatus.ON.value
            row.status = Status.ERROR.value
            row.status_container = {**row.status_container, "message": message}
            row.status_changed_ts = now
            row.update_ts = now
            row.action_logs = _with_action(row.action_logs, now, f"error: {message}")

    async def record_observation(
        self,
        key: PodKey,
        status: Status,
        container: ContainerStatus,
        now: datetime,
    ) -> bool:
        """Writes what health observed; True when the status changed. Pods being deleted
        are left alone."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None or row.deletion_requested:
                return False
            changed = row.status != status.value
            new_container = container_to_json(container)
            if not changed and row.status_container == new_container:
                return False
            if changed:
                row.action_logs = _with_action(row.action_logs, now, f"status {status.value}")
                row.status_changed_ts = now
            row.status = status.value
            row.status_container = new_container
            if container.start_time is not None and aware(row.start_instance_ts) != aware(
                container.start_time
            ):
                # A new container. Within a streak of automatic restarts it continues the run
                # the user started, so that run's time limit stands.
                automatic = row.crash_streak > 0 and row.time_to_stop_ts is not None
                row.start_instance_ts = container.start_time
                if not automatic:
                    row.time_to_stop_ts = _stop_time(row.spec, container.start_time)
            row.update_ts = now
            return changed

    async def record_exit(
        self,
        key: PodKey,
        *,
        run: int,
        reason: str,
        run_seconds: float,
        policy: RestartPolicy,
        now: datetime,
    ) -> datetime | None:
        """Records that run `run` of an ON pod ended by itself and schedules its replacement
        (see services/common/restarts.py); returns when it is due. Once per run: None when
        that end is already recorded, the pod has moved to another run, is not ON, or has a
        desired state not applied yet (the spawner is about to act anyway)."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if (
                row is None
                or row.deletion_requested
                or row.status_requested != RequestedStatus.ON.value
                or row.observed_generation < row.generation
                or row.log_run != run
                or row.ended_run == run
            ):
                return None
            streak = policy.streak_after(row.crash_streak, run_seconds)
            delay = policy.delay(streak)
            due = now + timedelta(seconds=delay)
            row.ended_run = run
            row.crash_streak = streak
            row.last_exit_reason = reason[:255]
            row.restart_due_ts = due
            row.update_ts = now
            text = f"{reason}; restart {row.restart_count + 1} in {_seconds(delay)} s"
            row.action_logs = _with_action(row.action_logs, now, text)
            return due

    async def mark_restarted(
        self, key: PodKey, run: int, action: str, runs_kept: int, now: datetime
    ) -> bool:
        """The spawner replaced the ended run `run` by a new container: counts the restart,
        starts a new log run (keeping `runs_kept`) and clears the schedule; False (nothing
        written) when that restart is no longer pending."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            pending = row is not None and row.restart_due_ts is not None
            if row is None or not pending or row.ended_run != run or row.log_run != run:
                return False
            await self._new_log_run(session, row, runs_kept)
            row.restart_count += 1
            row.restart_due_ts = None
            row.update_ts = now
            text = f"container {action} (restart {row.restart_count})"
            row.action_logs = _with_action(row.action_logs, now, text)
            return True

    async def remove_pod(self, key: PodKey) -> None:
        """Deletes the pod's row, permissions and logs (after its runtime objects are gone)."""
        async with self._session.begin() as session:
            await session.execute(
                delete(PodPermissionRow).where(
                    PodPermissionRow.tenant_id == key.tenant_id,
                    PodPermissionRow.pod_id == key.pod_id,
                )
            )
            await session.execute(
                delete(PodLogChunk).where(
                    PodLogChunk.tenant_id == key.tenant_id, PodLogChunk.pod_id == key.pod_id
                )
            )
            await session.execute(
                delete(PodRow).where(PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id)
            )

    async def set_requested(
        self,
        key: PodKey,
        requested: RequestedStatus,
        now: datetime,
        why: str,
        quota: Quota | None = None,
    ) -> PodRecord | None:
        """Records a new desired state (start, stop, restart); None if there is no pod.
        Starting a pod that is OFF takes its CPU and memory from its owner's `quota`
        (QuotaExceededError when they do not fit)."""
        owner = await self._quota_owner(key) if quota is not None else None
        async with self._session.begin() as session:
            if owner is not None:
                await quotas.lock_user(session, key.tenant_id, owner)
            row = await self._get_row(session, key)
            if row is None or row.deletion_requested:
                return None
            starting = row.status_requested == RequestedStatus.OFF.value
            if quota is not None and requested is not RequestedStatus.OFF and starting:
                resources = row.spec.get("resources", {})
                charge = Quota(
                    cpu_millis=int(resources.get("cpu_limit", 0)),
                    mem_mib=int(resources.get("mem_limit", 0)),
                )
                await quotas.check(session, key.tenant_id, row.owner, quota, charge)
            _request(row, requested, now, why)
            return _record(row)

    async def update_spec(
        self,
        key: PodKey,
        spec: PodSpec,
        now: datetime,
        *,
        reapply: bool,
        why: str,
        quota: Quota | None = None,
    ) -> PodRecord | None:
        """Stores a changed spec; `reapply` bumps the generation so the runtime applies it.
        Raising the limits of a pod that is not OFF is held to its owner's `quota`."""
        owner = await self._quota_owner(key) if quota is not None else None
        async with self._session.begin() as session:
            if owner is not None:
                await quotas.lock_user(session, key.tenant_id, owner)
            row = await self._get_row(session, key)
            if row is None or row.deletion_requested:
                return None
            if quota is not None and row.status_requested != RequestedStatus.OFF.value:
                old = row.spec.get("resources", {})
                new = spec.resources
                charge = Quota(
                    cpu_millis=new.cpu_limit if new.cpu_limit > old.get("cpu_limit", 0) else 0,
                    mem_mib=new.mem_limit if new.mem_limit > old.get("mem_limit", 0) else 0,
                )
                await quotas.check(
                    session, key.tenant_id, row.owner, quota, charge, except_pod=key.pod_id
                )
            row.spec = spec_to_json(spec)
            if reapply:
                row.generation += 1
                _forget_restarts(row)
            if row.start_instance_ts is not None and row.status_requested != "OFF":
                row.time_to_stop_ts = _stop_time(row.spec, aware(row.start_instance_ts) or now)
            row.update_ts = now
            row.action_logs = _with_action(row.action_logs, now, why)
            return _record(row)

    async def mark_stopped(self, key: PodKey, generation: int, now: datetime) -> None:
        """The container of a pod asked to be OFF is gone: status STOPPED."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None or row.deletion_requested or row.status_requested != "OFF":
                return
            row.observed_generation = max(row.observed_generation, generation)
            _forget_restarts(row)
            if row.status != Status.STOPPED.value:
                row.status = Status.STOPPED.value
                row.status_changed_ts = now
                row.action_logs = _with_action(row.action_logs, now, "status STOPPED")
            row.status_container = container_to_json(
                ContainerStatus(phase="absent", message="pod is stopped")
            )
            row.update_ts = now

    async def finish_restart(self, key: PodKey, generation: int, now: datetime) -> None:
        """A restart has made its new container: the desired state is ON again."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None or row.status_requested != "RESTART" or row.generation != generation:
                return
            row.status_requested = RequestedStatus.ON.value
            row.update_ts = now

    # -- permissions ---------------------------------------------------------------------

    async def pod_and_level(
        self, key: PodKey, username: str
    ) -> tuple[PodRecord, Level | None] | None:
        """The pod and the user's level on it (None: no grant), in one query; None when the
        pod does not exist. What every call on one pod asks first."""
        query = (
            select(PodRow, PodPermissionRow.level)
            .outerjoin(
                PodPermissionRow,
                and_(
                    PodPermissionRow.tenant_id == PodRow.tenant_id,
                    PodPermissionRow.pod_id == PodRow.pod_id,
                    PodPermissionRow.username == username,
                ),
            )
            .where(PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id)
        )
        async with self._session() as session:
            found = (await session.execute(query)).first()
            if found is None:
                return None
            row, level = found
            return _record(row), Level(level) if level else None

    async def permission(self, key: PodKey, username: str) -> Level | None:
        """The user's level on the pod, or None."""
        return await self._level(self._pod_grants(key), username)

    async def permissions(self, key: PodKey) -> list[tuple[str, Level]]:
        """Every grant on the pod, sorted by user."""
        async with self._session() as session:
            return await self._list_grants(session, self._pod_grants(key))

    async def set_permission(self, key: PodKey, username: str, level: Level) -> None:
        """Grants `level` (replacing any other); LastAdminError if that demotes the last
        ADMIN."""
        await self._set_grant(self._pod_grants(key), username, level)

    async def delete_permission(self, key: PodKey, username: str) -> bool:
        """Removes the user's grant; False if there was none; LastAdminError if it is the
        last ADMIN."""
        return await self._delete_grant(self._pod_grants(key), username)

    async def readable_pods(self, tenant_id: str, username: str) -> list[PodRecord]:
        """Pods of the tenant on which the user has any permission, ordered by pod_id."""
        query = (
            select(PodRow)
            .join(
                PodPermissionRow,
                (PodPermissionRow.tenant_id == PodRow.tenant_id)
                & (PodPermissionRow.pod_id == PodRow.pod_id),
            )
            .where(PodRow.tenant_id == tenant_id, PodPermissionRow.username == username)
            .order_by(PodRow.pod_id)
        )
        async with self._session() as session:
            return [_record(r) for r in (await session.scalars(query)).all()]

    @staticmethod
    def _pod_grants(key: PodKey) -> _Grants:
        return _Grants(
            table=PodPermissionRow,
            where=(
                PodPermissionRow.tenant_id == key.tenant_id,
                PodPermissionRow.pod_id == key.pod_id,
            ),
            new_row=lambda username, level: PodPermissionRow(
                tenant_id=key.tenant_id,
                pod_id=key.pod_id,
                username=username,
                level=level.value,
            ),
            whose="the pod's",
        )

    async def _level(self, grants: _Grants, username: str) -> Level | None:
        async with self._session() as session:
            level = await session.scalar(
                select(grants.table.level).where(*grants.where, grants.table.username == username)
            )
            return Level(level) if level else None

    @staticmethod
    async def _list_grants(session: Any, grants: _Grants) -> list[tuple[str, Level]]:
        rows = await session.execute(
            select(grants.table.username, grants.table.level)
            .where(*grants.where)
            .order_by(grants.table.username)
        )
        return [(user, Level(level)) for user, level in rows.all()]

    async def _set_grant(
        self, grants: _Grants, username: str, level: Level, after: _AfterChange | None = None
    ) -> None:
        async with self._session.begin() as session:
            await self._lock_grants(session, grants)
            current = dict(await self._list_grants(session, grants))
            if current.get(username) is Level.ADMIN and level is not Level.ADMIN:
                self._keep_an_admin(current, username, grants.whose)
            row = await session.scalar(
                select(grants.table).where(*grants.where, grants.table.username == username)
            )
            if row is None:
                session.add(grants.new_row(username, level))
            else:
                row.level = level.value
            if after is not None:
                await after(session, level)

    async def _delete_grant(
        self, grants: _Grants, username: str, after: _AfterChange | None = None
    ) -> bool:
        async with self._session.begin() as session:
            await self._lock_grants(session, grants)
            current = dict(await self._list_grants(session, grants))
            if username not in current:
                return False
            if current[username] is Level.ADMIN:
                self._keep_an_admin(current, username, grants.whose)
            await session.execute(
                delete(grants.table).where(*grants.where, grants.table.username == username)
            )
            if after is not None:
                await after(session, None)
            return True

    @staticmethod
    async def _lock_grants(session: Any, grants: _Grants) -> None:
        """Serialises changes to one object's grants for the rest of the transaction: a
        no-op write as its first statement row-locks the grants on PostgreSQL (a concurrent
        change waits, then reads what this one committed) and takes SQLite's write lock before
        anything is read. Keeps two concurrent demotions from removing the last ADMIN."""
        await session.execute(
            update(grants.table).where(*grants.where).values(level=grants.table.level)
        )

    @staticmethod
    def _keep_an_admin(grants: dict[str, Level], leaving: str, whose: str) -> None:
        if not any(level is Level.ADMIN for user, level in grants.items() if user != leaving):
            raise LastAdminError(
                f"{leaving} is {whose} last ADMIN; grant ADMIN to another user first"
            )

    # -- volumes and snapshots (api) ---------------------------------------------------------

    async def create_volume(self, record: VolumeRecord, quota: Quota | None = None) -> VolumeRecord:
        """Inserts a volume with its owner as ADMIN; AlreadyExistsError if the id is taken;
        QuotaExceededError if the owner's `quota` has no room for it."""
        row = VolumeRow(
            tenant_id=record.key.tenant_id,
            volume_id=record.key.volume_id,
            owner=record.owner,
            description=record.description,
            size_limit_mib=record.size_limit_mib,
            size_bytes=record.size_bytes,
            creation_ts=record.creation_ts,
            update_ts=record.update_ts,
        )
        await self._insert_with_owner(row, record.key, record.owner, quota)
        return _volume(row)

    async def get_volume(self, key: VolumeKey) -> VolumeRecord | None:
        async with self._session() as session:
            row = await self._volume_row(session, key)
            return _volume(row) if row else None

    async def list_volumes(self, tenant_id: str) -> list[VolumeRecord]:
        """Every volume of the tenant, ordered by volume_id."""
        query = (
            select(VolumeRow).where(VolumeRow.tenant_id == tenant_id).order_by(VolumeRow.volume_id)
        )
        async with self._session() as session:
            return [_volume(r) for r in (await session.scalars(query)).all()]

    async def readable_volumes(self, tenant_id: str, username: str) -> list[VolumeRecord]:
        """Volumes of the tenant on which the user has any permission, ordered by volume_id."""
        query = (
            select(VolumeRow)
            .join(
                StoragePermissionRow,
                (StoragePermissionRow.tenant_id == VolumeRow.tenant_id)
                & (StoragePermissionRow.kind == StorageKind.VOLUME.value)
                & (StoragePermissionRow.object_id == VolumeRow.volume_id),
            )
            .where(VolumeRow.tenant_id == tenant_id, StoragePermissionRow.username == username)
            .order_by(VolumeRow.volume_id)
        )
        async with self._session() as session:
            return [_volume(r) for r in (await session.scalars(query)).all()]

    async def update_volume(
        self,
        key: VolumeKey,
        now: datetime,
        *,
        description: str | None = None,
        size_bytes: int | None = None,
    ) -> VolumeRecord | None:
        """Changes the description and/or records a measured size; None if absent. A new
        measurement alone leaves update_ts alone (it is not a change of the record)."""
        async with self._session.begin() as session:
            row = await self._volume_row(session, key)
            if row is None:
                return None
            if description is not None and description != row.description:
                row.description = description
                row.update_ts = now
            if size_bytes is not None:
                row.size_bytes = size_bytes
            return _volume(row)

    async def delete_volume(self, key: VolumeKey) -> bool:
        """Deletes the volume's row and grants; False if there was none."""
        async with self._session.begin() as session:
            await self._delete_grants(session, key)
            result = await session.execute(
                delete(VolumeRow).where(
                    VolumeRow.tenant_id == key.tenant_id, VolumeRow.volume_id == key.volume_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def create_snapshot(
        self, record: SnapshotRecord, quota: Quota | None = None
    ) -> SnapshotRecord:
        """Inserts a snapshot with its owner as ADMIN; AlreadyExistsError if the id is taken;
        QuotaExceededError if the owner's `quota` has no room for it."""
        row = SnapshotRow(
            tenant_id=record.key.tenant_id,
            snapshot_id=record.key.snapshot_id,
            owner=record.owner,
            description=record.description,
            size_limit_mib=record.size_limit_mib,
            source_volume_id=record.source_volume_id,
            source_volume_path=record.source_volume_path,
            size_bytes=record.size_bytes,
            creation_ts=record.creation_ts,
            update_ts=record.update_ts,
        )
        await self._insert_with_owner(row, record.key, record.owner, quota)
        return _snapshot(row)

    async def get_snapshot(self, key: SnapshotKey) -> SnapshotRecord | None:
        async with self._session() as session:
            row = await self._snapshot_row(session, key)
            return _snapshot(row) if row else None

    async def list_snapshots(self, tenant_id: str) -> list[SnapshotRecord]:
        """Every snapshot of the tenant, ordered by snapshot_id."""
        query = (
            select(SnapshotRow)
            .where(SnapshotRow.tenant_id == tenant_id)
            .order_by(SnapshotRow.snapshot_id)
        )
        async with self._session() as session:
            return [_snapshot(r) for r in (await session.scalars(query)).all()]

    async def readable_snapshots(self, tenant_id: str, username: str) -> list[SnapshotRecord]:
        """Snapshots of the tenant on which the user has any permission, by snapshot_id."""
        query = (
            select(SnapshotRow)
            .join(
                StoragePermissionRow,
                (StoragePermissionRow.tenant_id == SnapshotRow.tenant_id)
                & (StoragePermissionRow.kind == StorageKind.SNAPSHOT.value)
                & (StoragePermissionRow.object_id == SnapshotRow.snapshot_id),
            )
            .where(SnapshotRow.tenant_id == tenant_id, StoragePermissionRow.username == username)
            .order_by(SnapshotRow.snapshot_id)
        )
        async with self._session() as session:
            return [_snapshot(r) for r in (await session.scalars(query)).all()]

    async def update_snapshot(
        self, key: SnapshotKey, now: datetime, *, description: str
    ) -> SnapshotRecord | None:
        """Changes the description; None if absent."""
        async with self._session.begin() as session:
            row = await self._snapshot_row(session, key)
            if row is None:
                return None
            if description != row.description:
                row.description = description
                row.update_ts = now
            return _snapshot(row)

    async def delete_snapshot(self, key: SnapshotKey) -> bool:
        """Deletes the snapshot's row and grants; False if there was none."""
        async with self._session.begin() as session:
            await self._delete_grants(session, key)
            result = await session.execute(
                delete(SnapshotRow).where(
                    SnapshotRow.tenant_id == key.tenant_id,
                    SnapshotRow.snapshot_id == key.snapshot_id,
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def pods_mounting(self, key: StorageObjectKey) -> list[PodRecord]:
        """Pods of the key's tenant, not being deleted, whose spec mounts the volume or
        snapshot; ordered by pod_id."""
        tenant_id, _, object_id = _storage_ref(key)
        wanted = MountType.VOLUME if isinstance(key, VolumeKey) else MountType.SNAPSHOT
        return [
            pod
            for pod in await self.list_pods(tenant_id)
            if not pod.deletion_requested
            and (mount := pod.spec.volume_mounts.get(object_id)) is not None
            and mount.type is wanted
        ]

    async def storage_permission(self, key: StorageObjectKey, username: str) -> Level | None:
        """The user's level on the volume or snapshot, or None."""
        return await self._level(self._storage_grants(key), username)

    async def storage_permissions(self, key: StorageObjectKey) -> list[tuple[str, Level]]:
        """Every grant on the volume or snapshot, sorted by user."""
        async with self._session() as session:
            return await self._list_grants(session, self._storage_grants(key))

    async def set_storage_permission(
        self,
        key: StorageObjectKey,
        username: str,
        level: Level,
        revoked: Revocation | None = None,
    ) -> None:
        """Grants `level` (replacing any other); LastAdminError if that demotes the last
        ADMIN. With `revoked`, when the new level no longer lets the user mount the volume
        or snapshot, the user's pods mounting it are asked to be OFF in the same transaction
        (see `Revocation`)."""
        after = self._stop_mounting(key, username, revoked) if revoked else None
        await self._set_grant(self._storage_grants(key), username, level, after)

    async def delete_storage_permission(
        self, key: StorageObjectKey, username: str, revoked: Revocation | None = None
    ) -> bool:
        """Removes the user's grant; False if there was none; LastAdminError if it is the
        last ADMIN. `revoked` as for set_storage_permission."""
        after = self._stop_mounting(key, username, revoked) if revoked else None
        return await self._delete_grant(self._storage_grants(key), username, after)

    @staticmethod
    def _stop_mounting(key: StorageObjectKey, username: str, revoked: Revocation) -> _AfterChange:
        """What a grant change does next: stop `username`'s pods mounting `key` unless the
        new level still allows mounting it (USER on a volume, READ on a snapshot)."""
        tenant_id, kind, object_id = _storage_ref(key)
        needed = Level.USER if isinstance(key, VolumeKey) else Level.READ
        mount_type = MountType.VOLUME if isinstance(key, VolumeKey) else MountType.SNAPSHOT

        async def stop(session: Any, level: Level | None) -> None:
            if kind == "template" or (level is not None and level.allows(needed)):
                return
            rows = await session.scalars(
                select(PodRow).where(
                    PodRow.tenant_id == tenant_id,
                    PodRow.owner == username,
                    PodRow.deletion_requested.is_(False),
                    PodRow.status_requested != RequestedStatus.OFF.value,
                )
            )
            for row in rows.all():
                mount = row.spec.get("volume_mounts", {}).get(object_id)
                if mount is not None and mount.get("type") == mount_type.value:
                    _request(row, RequestedStatus.OFF, revoked.now, revoked.why)

        return stop

    async def _insert_with_owner(
        self,
        row: VolumeRow | SnapshotRow,
        key: StorageObjectKey,
        owner: str,
        quota: Quota | None,
    ) -> None:
        if quota is not None:
            await quotas.ensure_row(self._session, row.tenant_id, owner)
        try:
            async with self._session.begin() as session:
                if quota is not None:
                    charge = Quota(volumes=1, storage_mib=row.size_limit_mib)
                    await quotas.check(session, row.tenant_id, owner, quota, charge)
                session.add(row)
                await session.flush()  # the object's row first: a duplicate fails here
                session.add(self._storage_grant(key, owner, Level.ADMIN))
        except IntegrityError:
            raise AlreadyExistsError(f"{_describe(key)} already exists") from None

    @staticmethod
    def _storage_grant(key: StorageObjectKey, username: str, level: Level) -> StoragePermissionRow:
        tenant_id, kind, object_id = _storage_ref(key)
        return StoragePermissionRow(
            tenant_id=tenant_id,
            kind=kind,
            object_id=object_id,
            username=username,
            level=level.value,
        )

    def _storage_grants(self, key: StorageObjectKey) -> _Grants:
        tenant_id, kind, object_id = _storage_ref(key)
        return _Grants(
            table=StoragePermissionRow,
            where=(
                StoragePermissionRow.tenant_id == tenant_id,
                StoragePermissionRow.kind == kind,
                StoragePermissionRow.object_id == object_id,
            ),
            new_row=lambda username, level: self._storage_grant(key, username, level),
            whose=f"{_describe(key)}'s",
        )

    async def _delete_grants(self, session: Any, key: StorageObjectKey) -> None:
        await session.execute(delete(StoragePermissionRow).where(*self._storage_grants(key).where))

    @staticmethod
    async def _volume_row(session: Any, key: VolumeKey) -> VolumeRow | None:
        row: VolumeRow | None = await session.scalar(
            select(VolumeRow).where(
                VolumeRow.tenant_id == key.tenant_id, VolumeRow.volume_id == key.volume_id
            )
        )
        return row

    @staticmethod
    async def _snapshot_row(session: Any, key: SnapshotKey) -> SnapshotRow | None:
        row: SnapshotRow | None = await session.scalar(
            select(SnapshotRow).where(
                SnapshotRow.tenant_id == key.tenant_id, SnapshotRow.snapshot_id == key.snapshot_id
            )
        )
        return row

    # -- templates and images ------------------------------------------------------------

    async def list_templates(self, tenant_id: str) -> list[TemplateDef]:
        async with self._session() as session:
            rows = await session.scalars(
                select(TemplateRow)
                .where(TemplateRow.tenant_id == tenant_id)
                .order_by(TemplateRow.template_id)
            )
            return [_template(r) for r in rows.all()]

    async def get_template(self, tenant_id: str, template_id: str) -> TemplateDef | None:
        async with self._session() as session:
            row = await self._template_row(session, tenant_id, template_id)
            return _template(row) if row else None

    async def create_template(
        self,
        tenant_id: str,
        template: TemplateDef,
        now: datetime,
        *,
        public: bool = False,
    ) -> TemplateDef:
        """Inserts a template, its owner as its ADMIN (and every user as USER when
        `public`); AlreadyExistsError if the id is taken."""
        row = TemplateRow(
            tenant_id=tenant_id,
            template_id=template.template_id,
            definition=template_to_json(template),
            owner=template.owner,
            creation_ts=now,
            update_ts=now,
        )
        key = TemplateKey(tenant_id, template.template_id)
        try:
            async with self._session.begin() as session:
                session.add(row)
                await session.flush()  # the template first: a duplicate fails here
                session.add(self._storage_grant(key, template.owner, Level.ADMIN))
                if public:
                    session.add(self._storage_grant(key, EVERYONE, Level.USER))
        except IntegrityError:
            raise AlreadyExistsError(
                f"template_id '{template.template_id}' already exists"
            ) from None
        return _template(row)

    async def template_level(self, key: TemplateKey, username: str) -> Level | None:
        """The user's level on the template: their own grant or the everyone grant."""
        levels = await self.template_levels(key.tenant_id, username, key.template_id)
        return levels.get(key.template_id)

    async def template_levels(
        self, tenant_id: str, username: str, template_id: str | None = None
    ) -> dict[str, Level]:
        """The user's level on every template of the tenant they may see (or on one), from
        their own grants and the everyone grants, in one query."""
        query = select(StoragePermissionRow.object_id, StoragePermissionRow.level).where(
            StoragePermissionRow.tenant_id == tenant_id,
            StoragePermissionRow.kind == "template",
            StoragePermissionRow.username.in_([username, EVERYONE]),
        )
        if template_id is not None:
            query = query.where(StoragePermissionRow.object_id == template_id)
        levels: dict[str, Level] = {}
        async with self._session() as session:
            for object_id, raw in (await session.execute(query)).all():
                level = Level(raw)
                if object_id not in levels or level.rank > levels[object_id].rank:
                    levels[object_id] = level
        return levels

    async def replace_template(
        self, tenant_id: str, template: TemplateDef, now: datetime
    ) -> TemplateDef | None:
        async with self._session.begin() as session:
            row = await self._template_row(session, tenant_id, template.template_id)
            if row is None:
                return None
            row.definition = template_to_json(template)
            row.update_ts = now
            return _template(row)

    async def delete_template(self, tenant_id: str, template_id: str) -> bool:
        async with self._session.begin() as session:
            await self._delete_grants(session, TemplateKey(tenant_id, template_id))
            result = await session.execute(
                delete(TemplateRow).where(
                    TemplateRow.tenant_id == tenant_id, TemplateRow.template_id == template_id
                )
            )
            return bool(getattr(result, "rowcount", 0))

    async def seed_templates(
        self, tenant_id: str, templates: Iterable[TemplateDef], now: datetime
    ) -> None:
        """Creates the templates the tenant lacks, usable by everyone (concurrent seeders
        are fine)."""
        for template in templates:
            if await self.get_template(tenant_id, template.template_id) is None:
                with contextlib.suppress(AlreadyExistsError):  # a concurrent seeder won
                    await self.create_template(tenant_id, template, now, public=True)

    async def list_image_rules(self, tenant_id: str) -> list[ImageRule]:
        async with self._session() as session:
            rows = await session.scalars(
                select(ImageRuleRow)
                .where(ImageRuleRow.tenant_id == tenant_id)
                .order_by(ImageRuleRow.image)
            )
            return [_image_rule(r) for r in rows.all()]

    async def add_image_rule(
        self, tenant_id: str, image: str, description: str, added_by: str, now: datetime
    ) -> ImageRule:
        row = ImageRuleRow(
            tenant_id=tenant_id,
            image=image,
            description=description,
            added_by=added_by,
            creation_ts=now,
        )
        try:
            async with self._session.begin() as session:
                session.add(row)
        except IntegrityError:
            raise AlreadyExistsError(f"image '{image}' is already allowed") from None
        return _image_rule(row)

    async def delete_image_rule(self, tenant_id: str, image: str) -> bool:
        async with self._session.begin() as session:
            result = await session.execute(
                delete(ImageRuleRow).where(
                    ImageRuleRow.tenant_id == tenant_id, ImageRuleRow.image == image
                )
            )
            return bool(getattr(result, "rowcount", 0))

    @staticmethod
    async def _template_row(session: Any, tenant_id: str, template_id: str) -> TemplateRow | None:
        row: TemplateRow | None = await session.scalar(
            select(TemplateRow).where(
                TemplateRow.tenant_id == tenant_id, TemplateRow.template_id == template_id
            )
        )
        return row

    # -- quotas --------------------------------------------------------------------------

    async def quota(self, tenant_id: str, username: str, defaults: Quota) -> QuotaView:
        """The user's effective limits (overrides over `defaults`) and current use."""
        async with self._session() as session:
            return await quotas.limits_of(session, tenant_id, username, defaults)

    async def set_quota(
        self, tenant_id: str, username: str, overrides: dict[str, int | None], defaults: Quota
    ) -> QuotaView:
        """Sets the user's overrides (None: back to the default); the others stay."""
        await quotas.ensure_row(self._session, tenant_id, username)
        async with self._session.begin() as session:
            await quotas.lock_user(session, tenant_id, username)
            row = await session.scalar(
                select(UserQuotaRow).where(
                    UserQuotaRow.tenant_id == tenant_id, UserQuotaRow.username == username
                )
            )
            assert row is not None
            for name, value in overrides.items():
                setattr(row, name, value)
            await session.flush()
            return await quotas.limits_of(session, tenant_id, username, defaults)

    async def _quota_owner(self, key: PodKey) -> str | None:
        """The pod's owner, with their quota row made (None if there is no pod)."""
        async with self._session() as session:
            owner: str | None = await session.scalar(
                select(PodRow.owner).where(
                    PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id
                )
            )
        if owner is not None:
            await quotas.ensure_row(self._session, key.tenant_id, owner)
        return owner

    # -- logs ----------------------------------------------------------------------------

    async def log_position(self, key: PodKey) -> tuple[int, str] | None:
        """The current log run and where its last read stopped; None if there is no pod."""
        async with self._session() as session:
            row = await self._get_row(session, key)
            return (row.log_run, row.log_cursor) if row else None

    async def append_logs(
        self,
        key: PodKey,
        text: str,
        *,
        run: int,
        after: str,
        cursor: str,
        limit_bytes: int,
    ) -> bool:
        """Appends output read from `after` up to `cursor` to `run`, and drops the run's
        oldest chunks beyond `limit_bytes`. Nothing is written (False) unless the pod is still
        at that run and cursor: a new run or another reader moved on meanwhile, and the next
        read starts from where they left it."""
        async with self._session.begin() as session:
            moved = await session.execute(
                update(PodRow)
                .where(
                    PodRow.tenant_id == key.tenant_id,
                    PodRow.pod_id == key.pod_id,
                    PodRow.log_run == run,
                    PodRow.log_cursor == after,
                )
                .values(log_cursor=cursor)
            )
            if not getattr(moved, "rowcount", 0):
                return False
            if text:
                session.add(
                    PodLogChunk(
                        tenant_id=key.tenant_id,
                        pod_id=key.pod_id,
                        run=run,
                        size=len(text.encode()),
                        data=text,
                    )
                )
                await session.flush()
                await self._trim_logs(session, key, run, limit_bytes)
            return True

    async def _trim_logs(self, session: Any, key: PodKey, run: int, limit_bytes: int) -> None:
        where = (*self._chunks_of(key), PodLogChunk.run == run)
        total = await session.scalar(
            select(func.coalesce(func.sum(PodLogChunk.size), 0)).where(*where)
        )
        if total <= limit_bytes:
            return
        chunks = (
            await session.execute(
                select(PodLogChunk.id, PodLogChunk.size).where(*where).order_by(PodLogChunk.id)
            )
        ).all()
        doomed: list[int] = []
        for chunk_id, size in chunks[:-1]:  # always keep the newest chunk
            if total <= limit_bytes:
                break
            doomed.append(chunk_id)
            total -= size
        if doomed:
            await session.execute(delete(PodLogChunk).where(PodLogChunk.id.in_(doomed)))

    async def read_logs(self, key: PodKey, limit_bytes: int, previous: int = 0) -> str:
        """The newest output of the current run (or of the run `previous` runs before it), at
        most `limit_bytes`."""
        async with self._session() as session:
            row = await self._get_row(session, key)
            if row is None:
                return ""
            rows = await session.scalars(
                select(PodLogChunk.data)
                .where(*self._chunks_of(key), PodLogChunk.run == row.log_run - previous)
                .order_by(PodLogChunk.id)
            )
            data = "".join(rows.all()).encode()
        return data[-limit_bytes:].decode(errors="ignore")

    async def start_log_run(self, key: PodKey, runs_kept: int) -> None:
        """A new container: its output starts a new run; only the newest `runs_kept` runs
        (this one included) are kept."""
        async with self._session.begin() as session:
            row = await self._get_row(session, key)
            if row is None:
                return
            await self._new_log_run(session, row, runs_kept)

    async def _new_log_run(self, session: Any, row: PodRow, runs_kept: int) -> None:
        row.log_run += 1
        row.log_cursor = ""
        key = PodKey(row.tenant_id, row.pod_id)
        await session.execute(
            delete(PodLogChunk).where(
                *self._chunks_of(key), PodLogChunk.run <= row.log_run - runs_kept
            )
        )

    @staticmethod
    def _chunks_of(key: PodKey) -> tuple[Any, Any]:
        return (PodLogChunk.tenant_id == key.tenant_id, PodLogChunk.pod_id == key.pod_id)

    @staticmethod
    async def _get_row(session: Any, key: PodKey) -> PodRow | None:
        query = select(PodRow).where(PodRow.tenant_id == key.tenant_id, PodRow.pod_id == key.pod_id)
        if session.info.get(_WRITE):
            query = query.with_for_update()
        result: PodRow | None = await session.scalar(query)
        return result
