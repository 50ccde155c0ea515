"""Quotas and the last-ADMIN rule hold under concurrency, on SQLite and on PostgreSQL: the
check and the write are one transaction under a per-user (per-object) lock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from services.common.db.database import Repositories
from services.common.pods_model import Level, PodSpec, RequestedStatus, ResourceSpec
from services.common.quotas_model import Quota, QuotaExceededError
from services.common.records import AlreadyExistsError, LastAdminError
from services.common.runtime.types import PodKey
from services.common.storage.types import VolumeKey
from services.common.volumes_model import VolumeRecord

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ROOMY = Quota(pods=100, volumes=100, cpu_millis=10**6, mem_mib=10**6, storage_mib=10**6)
ONE_CPU = ResourceSpec(cpu_request=100, cpu_limit=1000, mem_request=64, mem_limit=512)


async def _create(store: Repositories, pod_id: str, quota: Quota, owner: str = "alice") -> bool:
    try:
        await store.pods.create_pod(
            PodKey("dev", pod_id),
            owner=owner,
            spec=PodSpec(image="pods-http:latest", resources=ONE_CPU),
            credentials_encrypted=None,
            now=NOW,
            quota=quota,
        )
    except QuotaExceededError:
        return False
    return True


async def test_concurrent_creates_never_take_more_than_the_pod_quota(store: Repositories) -> None:
    quota = Quota(**{**vars(ROOMY), "pods": 3})
    assert await _create(store, "first", quota)
    results = await asyncio.gather(*(_create(store, f"pod{i}", quota) for i in range(8)))
    assert sum(results) == 2
    assert len(await store.pods.list_pods("dev", owner="alice")) == 3
    with pytest.raises(QuotaExceededError, match="quota exceeded: pods 3 of 3 in use"):
        await store.pods.create_pod(
            PodKey("dev", "onemore"),
            owner="alice",
            spec=PodSpec(image="x:1"),
            credentials_encrypted=None,
            now=NOW,
            quota=quota,
        )
    assert await _create(store, "bobs", quota, owner="bob")  # quotas are per user


async def test_cpu_counts_pods_asked_to_run_and_a_start_is_held_to_it(store: Repositories) -> None:
    quota = Quota(**{**vars(ROOMY), "cpu_millis": 2000})
    assert await _create(store, "one", quota)
    assert await _create(store, "two", quota)
    with pytest.raises(QuotaExceededError, match="cpu 2000 of 2000 millicores in use"):
        await store.pods.create_pod(
            PodKey("dev", "three"),
            owner="alice",
            spec=PodSpec(image="x:1", resources=ONE_CPU),
            credentials_encrypted=None,
            now=NOW,
            quota=quota,
        )
    await store.pods.set_requested(PodKey("dev", "two"), RequestedStatus.OFF, NOW, "stop", quota)
    assert await _create(store, "three", quota)
    with pytest.raises(QuotaExceededError, match="cpu"):
        await store.pods.set_requested(
            PodKey("dev", "two"), RequestedStatus.ON, NOW, "start", quota
        )
    two = await store.pods.get_pod(PodKey("dev", "two"))
    assert two is not None and two.status_requested is RequestedStatus.OFF


async def test_overrides_raise_one_users_limits(store: Repositories) -> None:
    quota = Quota(**{**vars(ROOMY), "pods": 1})
    assert await _create(store, "one", quota)
    assert not await _create(store, "two", quota)
    view = await store.quotas.set_quota("dev", "alice", {"pods": 2}, quota)
    assert view.limits.pods == 2 and view.overridden == {"pods"} and view.use.pods == 1
    assert await _create(store, "two", quota)
    view = await store.quotas.quota("dev", "alice", quota)
    assert view.use.pods == 2 and view.use.cpu_millis == 2000 and view.use.mem_mib == 1024


def _volume(volume_id: str, mib: int) -> VolumeRecord:
    return VolumeRecord(
        key=VolumeKey("dev", volume_id),
        owner="alice",
        description="",
        size_limit_mib=mib,
        size_bytes=0,
        creation_ts=NOW,
        update_ts=NOW,
    )


async def test_concurrent_volume_creates_hold_the_storage_quota(store: Repositories) -> None:
    quota = Quota(**{**vars(ROOMY), "storage_mib": 1000})

    async def create(i: int) -> bool:
        try:
            await store.storage.create_volume(_volume(f"vol{i}", 300), quota)
        except QuotaExceededError:
            return False
        return True

    results = await asyncio.gather(*(create(i) for i in range(6)))
    assert sum(results) == 3
    with pytest.raises(QuotaExceededError, match="storage 900 of 1000 MiB in use"):
        await store.storage.create_volume(_volume("big", 200), quota)
    with pytest.raises(AlreadyExistsError):
        await store.storage.create_volume(_volume(f"vol{results.index(True)}", 1), quota)


async def test_two_concurrent_demotions_leave_an_admin(store: Repositories) -> None:
    for round_ in range(15):
        key = VolumeKey("dev", f"shared{round_}")
        await store.storage.create_volume(_volume(key.volume_id, 1))
        await store.grants.set_storage_permission(key, "bob", Level.ADMIN)

        async def demote(user: str, key: VolumeKey = key) -> bool:
            try:
                await store.grants.set_storage_permission(key, user, Level.READ)
            except LastAdminError:
                return False
            return True

        results = await asyncio.gather(demote("alice"), demote("bob"))
        grants = dict(await store.grants.storage_permissions(key))
        assert Level.ADMIN in grants.values(), (round_, results, grants)
        assert sum(results) == 1


async def test_two_concurrent_removals_of_pod_admins_leave_one(store: Repositories) -> None:
    for round_ in range(15):
        key = PodKey("dev", f"pod{round_}")
        await store.pods.create_pod(
            key, owner="alice", spec=PodSpec(image="x:1"), credentials_encrypted=None, now=NOW
        )
        await store.grants.set_permission(key, "bob", Level.ADMIN)

        async def remove(user: str, key: PodKey = key) -> bool:
            try:
                return await store.grants.delete_permission(key, user)
            except LastAdminError:
                return False

        results = await asyncio.gather(remove("alice"), remove("bob"))
        grants = dict(await store.grants.permissions(key))
        assert Level.ADMIN in grants.values(), (round_, results, grants)
