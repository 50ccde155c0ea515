"""Per-user quotas inside a repository transaction: the lock that serialises one user's
quota-consuming writes, what the user uses, and the check.

Used by the repositories in services/common/db/repositories only: every write that can raise
a user's use (create a pod, start one, change its resources, create a volume or snapshot)
first bumps the user's `user_quotas` row (a row lock on PostgreSQL; on SQLite the first write
of a transaction takes the database's write lock), then counts and checks, then writes, all in
one transaction. Two concurrent creates therefore cannot both take the last slot.

What counts: `pods` every pod record the user owns (being deleted included, until it is gone);
`cpu`/`memory` the limits of the user's pods that are asked to run (not OFF, not being
deleted); `volumes` the user's volumes and snapshots; `storage` their summed size_limit.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.db.models import PodRow, SnapshotRow, UserQuotaRow, VolumeRow
from services.common.db.sessions import Sessions
from services.common.quotas_model import Quota, QuotaExceededError, QuotaView, over_quota

_QUOTAS = UserQuotaRow.__table__
QUOTA_ROW = select(_QUOTAS.c.id).where(
    _QUOTAS.c.tenant_id == bindparam("tenant_id"), _QUOTAS.c.username == bindparam("username")
)


async def lock_user(session: Any, tenant_id: str, username: str) -> None:
    """Takes the user's quota lock for the rest of the transaction (the first statement of
    the transaction, so SQLite takes its write lock before anything is read). The row is made
    by `ensure_row` beforehand."""
    await session.execute(
        update(UserQuotaRow)
        .where(UserQuotaRow.tenant_id == tenant_id, UserQuotaRow.username == username)
        .values(version=UserQuotaRow.version + 1)
    )


async def ensure_row(sessions: Sessions, tenant_id: str, username: str) -> None:
    """Creates the user's quota row if missing (its own transaction; a concurrent creator
    winning is fine). Looking for it is one trip to the database (Sessions.read): every
    quota-consuming write, such as each create, asks first."""
    params = {"tenant_id": tenant_id, "username": username}

    def exists(session: Session) -> bool:
        return session.connection().execute(QUOTA_ROW, params).first() is not None

    if await sessions.read(exists):
        return
    with contextlib.suppress(IntegrityError):
        async with sessions.begin() as session:
            session.add(UserQuotaRow(tenant_id=tenant_id, username=username, version=0))


async def limits_of(session: Any, tenant_id: str, username: str, defaults: Quota) -> QuotaView:
    """The user's effective limits (their overrides over `defaults`) and use."""
    row = await session.scalar(
        select(UserQuotaRow).where(
            UserQuotaRow.tenant_id == tenant_id, UserQuotaRow.username == username
        )
    )
    limits, overridden = defaults, set()
    if row is not None:
        for item in fields(Quota):
            value = getattr(row, item.name)
            if value is not None:
                limits = replace(limits, **{item.name: value})
                overridden.add(item.name)
    use = await use_of(session, tenant_id, username)
    return QuotaView(username, limits, frozenset(overridden), use)


async def use_of(
    session: Any, tenant_id: str, username: str, *, except_pod: str | None = None
) -> Quota:
    """What the user uses now; `except_pod`'s CPU and memory are left out (it is changing)."""
    pods = (
        await session.execute(
            select(
                PodRow.pod_id, PodRow.spec, PodRow.status_requested, PodRow.deletion_requested
            ).where(PodRow.tenant_id == tenant_id, PodRow.owner == username)
        )
    ).all()
    cpu = mem = 0
    for pod_id, spec, requested, deleting in pods:
        if requested == "OFF" or deleting or pod_id == except_pod:
            continue
        resources = spec.get("resources", {})
        cpu += int(resources.get("cpu_limit", 0))
        mem += int(resources.get("mem_limit", 0))
    volumes, volume_mib = await _storage(session, VolumeRow, tenant_id, username)
    snapshots, snapshot_mib = await _storage(session, SnapshotRow, tenant_id, username)
    return Quota(
        pods=len(pods),
        volumes=volumes + snapshots,
        cpu_millis=cpu,
        mem_mib=mem,
        storage_mib=volume_mib + snapshot_mib,
    )


async def _storage(session: Any, table: Any, tenant_id: str, username: str) -> tuple[int, int]:
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(table.size_limit_mib), 0)).where(
                table.tenant_id == tenant_id, table.owner == username
            )
        )
    ).one()
    return int(count), int(total)


async def check(
    session: Any,
    tenant_id: str,
    username: str,
    defaults: Quota,
    charge: Quota,
    *,
    except_pod: str | None = None,
) -> None:
    """Locks the user's quota and raises QuotaExceededError if `charge` does not fit."""
    await lock_user(session, tenant_id, username)
    view = await limits_of(session, tenant_id, username, defaults)
    use = view.use
    if except_pod is not None:
        use = await use_of(session, tenant_id, username, except_pod=except_pod)
    refusal = over_quota(view.limits, use, charge)
    if refusal is not None:
        raise QuotaExceededError(refusal)
