"""Pod records as the api writes and reads them: create, desired state (start, stop,
restart, spec change), deletion request, reads and listings, credentials, and the pods that
mount a volume or snapshot.

Used by services/api (through the Protocols of services/api/domain/ports.py), health's resync
and the gateway's route source (`list_all_pods`), and the spawner (`get_pod`, `credentials`).
Quota-consuming writes hold the owner's quota row lock (services/common/db/quotas.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db import quotas
from services.common.db.codec import aware, spec_to_json
from services.common.db.mapping import pod_record
from services.common.db.models import PodPermissionRow, PodRow
from services.common.db.pod_rows import (
    action_line,
    forget_restarts,
    get_row,
    request,
    stop_time,
    with_action,
)
from services.common.db.record_cache import ALL_PODS_RAW, PodRecordCache
from services.common.db.sessions import Sessions
from services.common.pods_model import Level, MountType, PodRecord, PodSpec, RequestedStatus, Status
from services.common.quotas_model import Quota
from services.common.records import AlreadyExistsError, StorageKey
from services.common.runtime.types import PodKey
from services.common.storage.types import VolumeKey

_PODS = PodRow.__table__
_GRANTS = PodPermissionRow.__table__
_ONE_POD = and_(_PODS.c.tenant_id == bindparam("tenant_id"), _PODS.c.pod_id == bindparam("pod_id"))
# The pod and the user's level on it (NULL: no grant), built once: GetPod and every other call
# on one pod run it (Core, not ORM: no query building or ORM loading per call).
POD_AND_LEVEL = (
    select(*_PODS.columns, _GRANTS.c.level)
    .outerjoin(
        _GRANTS,
        and_(
            _GRANTS.c.tenant_id == _PODS.c.tenant_id,
            _GRANTS.c.pod_id == _PODS.c.pod_id,
            _GRANTS.c.username == bindparam("username"),
        ),
    )
    .where(_ONE_POD)
)
# The pod alone, built once: every reconcile step of the spawner and every observation of
# health starts with it.
POD_BY_KEY = select(*_PODS.columns).where(_ONE_POD)


class PodRepository:
    """Pod rows: desired state and reads. Connection-level failures leave every method as
    DatabaseUnavailableError (a TemporaryError)."""

    def __init__(self, sessions: Sessions) -> None:
        self._session = sessions
        self._all_pods = PodRecordCache()

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
    ) -> PodRecord:
        """Inserts a new pod, in status REQUESTED (or STOPPED when `requested` is OFF: recorded,
        not started); AlreadyExistsError if the id is taken; QuotaExceededError if the owner's
        `quota` (the defaults; overrides apply) has no room for it (a pod that is OFF takes
        no CPU or memory from it)."""
        off = requested is RequestedStatus.OFF
        row = PodRow(
            tenant_id=key.tenant_id,
            pod_id=key.pod_id,
            owner=owner,
            spec=spec_to_json(spec),
            status_requested=requested.value,
            status=(Status.STOPPED if off else Status.REQUESTED).value,
            status_container={},
            generation=1,
            observed_generation=0,
            deletion_requested=False,
            credentials_encrypted=credentials_encrypted,
            action_logs=[action_line(now, f"pod created by {owner}" + (" (OFF)" if off else ""))],
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
                        cpu_millis=0 if off else spec.resources.cpu_limit,
                        mem_mib=0 if off else spec.resources.mem_limit,
                    )
                    await quotas.check(session, key.tenant_id, owner, quota, charge)
                session.add(row)
                await session.flush()  # the pod row first: a duplicate fails here
                session.add(owner_grant)
        except IntegrityError:
            raise AlreadyExistsError(f"pod_id '{key.pod_id}' already exists") from None
        return pod_record(row)

    async def request_deletion(self, key: PodKey, now: datetime) -> PodRecord | None:
        """Marks the pod for deletion (status DELETING); None if it does not exist."""
        async with self._session.begin() as session:
            row = await get_row(session, key)
            if row is None:
                return None
            if not row.deletion_requested:
                row.deletion_requested = True
                row.status = Status.DELETING.value
                row.generation += 1
                row.update_ts = now
                row.status_changed_ts = now
                row.action_logs = with_action(row.action_logs, now, "deletion requested")
            return pod_record(row)

    async def get_pod(self, key: PodKey) -> PodRecord | None:
        """The pod, or None; one trip to the database (Sessions.read), as pod_and_level."""
        params = {"tenant_id": key.tenant_id, "pod_id": key.pod_id}

        def read(session: Session) -> PodRecord | None:
            found = session.connection().execute(POD_BY_KEY, params).first()
            # A Core row of the pods table has the attributes of a PodRow (same names).
            return None if found is None else pod_record(cast(PodRow, found))

        return await self._session.read(read)

    async def list_pods(self, tenant_id: str, owner: str | None = None) -> list[PodRecord]:
        """Pods of a tenant (of one owner if given), ordered by pod_id."""
        query = select(PodRow).where(PodRow.tenant_id == tenant_id).order_by(PodRow.pod_id)
        if owner is not None:
            query = query.where(PodRow.owner == owner)
        async with self._session() as session:
            return [pod_record(r) for r in (await session.scalars(query)).all()]

    async def pods_page(
        self, tenant_id: str, reader: str | None, after: str = "", limit: int | None = None
    ) -> list[PodRecord]:
        """One keyset page of the tenant's pods, ordered by pod_id: those whose id sorts
        after `after` ("" from the first), at most `limit` (None: all). With `reader`, only
        the pods that user has a permission on (the join is in SQL); None: all (an admin).
        Served by the (tenant_id, pod_id) unique indexes of pods and pod_permissions. Core
        rows in one trip (Sessions.read), as pod_and_level: no ORM loading per row."""
        query = select(*_PODS.columns).where(_PODS.c.tenant_id == tenant_id)
        if reader is not None:
            query = query.join(
                _GRANTS,
                and_(_GRANTS.c.tenant_id == _PODS.c.tenant_id, _GRANTS.c.pod_id == _PODS.c.pod_id),
            ).where(_GRANTS.c.username == reader)
        if after:
            query = query.where(_PODS.c.pod_id > after)
        query = query.order_by(_PODS.c.pod_id)
        if limit is not None:
            query = query.limit(limit)

        def read(session: Session) -> list[PodRecord]:
            # A Core row of the pods table has the attributes of a PodRow (same names).
            rows = session.connection().execute(query).all()
            return [pod_record(cast(PodRow, row)) for row in rows]

        return await self._session.read(read)

    async def readable_ids(self, tenant_id: str, reader: str | None) -> list[str]:
        """The ids of the tenant's pods `reader` has a permission on (None: all), ordered."""
        query = select(PodRow.pod_id).where(PodRow.tenant_id == tenant_id)
        if reader is not None:
            query = select(PodPermissionRow.pod_id).where(
                PodPermissionRow.tenant_id == tenant_id, PodPermissionRow.username == reader
            )
        async with self._session() as session:
            return sorted(await session.scalars(query))

    async def readable_mark(self, tenant_id: str, reader: str | None) -> tuple[int, int]:
        """A cheap mark of which pods `reader` may read (None: all of the tenant's): how
        many grant (or pod) rows there are and the newest one's id. Any grant, revocation,
        creation or removal moves it, save a removal and a creation between two reads that
        reuse the same row id (SQLite reuses the highest): callers also relist now and then."""
        if reader is None:
            rows = PodRow.tenant_id == tenant_id
            query = select(func.count(), func.max(PodRow.id)).where(rows)
        else:
            grants = (PodPermissionRow.tenant_id == tenant_id, PodPermissionRow.username == reader)
            query = select(func.count(), func.max(PodPermissionRow.id)).where(*grants)
        async with self._session() as session:
            count, newest = (await session.execute(query)).one()
            return int(count), int(newest or 0)

    async def pods_in_motion(self, now: datetime) -> list[PodRecord]:
        """The pods health's incremental resync looks at: not settled (any status but
        AVAILABLE, STOPPED, COMPLETE and ERROR), being deleted, with a desired state not
        applied yet, with a restart scheduled, past their time_to_stop while ON, or ON and
        seen ended (COMPLETE or ERROR) with that run's end not recorded yet (a container
        that ended before the spawner recorded its run: its end counts once it has)."""
        settled = [
            s.value for s in (Status.AVAILABLE, Status.STOPPED, Status.COMPLETE, Status.ERROR)
        ]
        ended = [Status.COMPLETE.value, Status.ERROR.value]
        query = select(PodRow).where(
            or_(
                PodRow.status.not_in(settled),
                PodRow.deletion_requested.is_(True),
                PodRow.observed_generation < PodRow.generation,
                PodRow.restart_due_ts.is_not(None),
                and_(
                    PodRow.status_requested == RequestedStatus.ON.value,
                    PodRow.time_to_stop_ts.is_not(None),
                    PodRow.time_to_stop_ts <= now,
                ),
                and_(
                    PodRow.status_requested == RequestedStatus.ON.value,
                    PodRow.status.in_(ended),
                    or_(PodRow.ended_run.is_(None), PodRow.ended_run != PodRow.log_run),
                ),
            )
        )
        async with self._session() as session:
            rows = (await session.scalars(query.order_by(PodRow.id))).all()
            return [pod_record(r) for r in rows]

    async def list_all_pods(self) -> list[PodRecord]:
        """Every pod of every tenant (health's full sweep, the route keeper): one read of every
        row, only the rows changed since this repository's previous call decoded again."""

        def read(session: Session) -> list[Any]:
            return list(session.connection().execute(ALL_PODS_RAW).all())

        return self._all_pods.records(await self._session.read(read))

    async def count_by_status(self) -> dict[str, int]:
        """How many pods have each observed status (health's `pods_by_status` metric)."""
        query = select(PodRow.status, func.count()).group_by(PodRow.status)
        async with self._session() as session:
            return {status: int(count) for status, count in (await session.execute(query)).all()}

    async def credentials(self, key: PodKey) -> str | None:
        """The encrypted credentials blob, or None."""
        async with self._session() as session:
            row = await get_row(session, key)
            return row.credentials_encrypted if row else None

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
            row = await get_row(session, key)
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
            request(row, requested, now, why)
            return pod_record(row)

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
    ) -> PodRecord | None:
        """Stores a changed spec; `reapply` bumps the generation so the runtime applies it;
        `requested` (an update's status_requested) records a new desired state in the same
        write. Raising the limits of a pod that is to run is held to its owner's `quota`
        (all of them when it is being started from OFF)."""
        owner = await self._quota_owner(key) if quota is not None else None
        async with self._session.begin() as session:
            if owner is not None:
                await quotas.lock_user(session, key.tenant_id, owner)
            row = await get_row(session, key)
            if row is None or row.deletion_requested:
                return None
            was_off = row.status_requested == RequestedStatus.OFF.value
            target = requested or RequestedStatus(row.status_requested)
            will_run = target is not RequestedStatus.OFF
            if quota is not None and will_run:
                old = {} if was_off else row.spec.get("resources", {})
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
                forget_restarts(row)
            if row.start_instance_ts is not None and row.status_requested != "OFF":
                row.time_to_stop_ts = stop_time(row.spec, aware(row.start_instance_ts) or now)
            row.update_ts = now
            row.action_logs = with_action(row.action_logs, now, why)
            if requested is not None:
                request(row, requested, now, requested_why)
            return pod_record(row)

    async def pod_and_level(
        self, key: PodKey, username: str
    ) -> tuple[PodRecord, Level | None] | None:
        """The pod and the user's level on it (None: no grant), in one query; None when the
        pod does not exist. What every call on one pod asks first."""
        params = {"tenant_id": key.tenant_id, "pod_id": key.pod_id, "username": username}

        def read(session: Session) -> tuple[PodRecord, Level | None] | None:
            found = session.connection().execute(POD_AND_LEVEL, params).first()
            if found is None:
                return None
            # A Core row of the pods table has the attributes of a PodRow (same names).
            return pod_record(cast(PodRow, found)), Level(found.level) if found.level else None

        return await self._session.read(read)

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
            return [pod_record(r) for r in (await session.scalars(query)).all()]

    async def pods_mounting(self, key: StorageKey) -> list[PodRecord]:
        """Pods of the key's tenant, not being deleted, whose spec mounts the volume or
        snapshot; ordered by pod_id."""
        tenant_id = key.tenant_id
        object_id = key.volume_id if isinstance(key, VolumeKey) else key.snapshot_id
        wanted = MountType.VOLUME if isinstance(key, VolumeKey) else MountType.SNAPSHOT
        return [
            pod
            for pod in await self.list_pods(tenant_id)
            if not pod.deletion_requested
            and (mount := pod.spec.volume_mounts.get(object_id)) is not None
            and mount.type is wanted
        ]

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
