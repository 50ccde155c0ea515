"""The repositories keep volumes, snapshots, their grants and pods' mounts on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.db.database import Repositories
from services.common.pods_model import Level, MountType, PodSpec, VolumeMountSpec
from services.common.records import AlreadyExistsError, LastAdminError
from services.common.runtime.types import PodKey
from services.common.storage.types import SnapshotKey, VolumeKey
from services.common.volumes_model import SnapshotRecord, VolumeRecord

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
VOL = VolumeKey("dev", "data")
SNAP = SnapshotKey("dev", "snap1")


def volume(key: VolumeKey = VOL, owner: str = "alice", limit: int = 1024) -> VolumeRecord:
    return VolumeRecord(
        key=key,
        owner=owner,
        description="my data",
        size_limit_mib=limit,
        creation_ts=NOW,
        update_ts=NOW,
    )


def snapshot(key: SnapshotKey = SNAP, owner: str = "alice") -> SnapshotRecord:
    return SnapshotRecord(
        key=key,
        owner=owner,
        description="before the run",
        size_limit_mib=100,
        source_volume_id="data",
        source_volume_path="results/run1",
        size_bytes=5 * 1024 * 1024 * 1024,  # beyond 32 bits
        creation_ts=NOW,
        update_ts=NOW,
    )


async def test_a_created_volume_reads_back_and_its_creator_is_admin(store: Repositories) -> None:
    created = await store.storage.create_volume(volume())
    assert created == volume()
    assert await store.storage.get_volume(VOL) == volume()
    assert await store.grants.storage_permissions(VOL) == [("alice", Level.ADMIN)]
    assert await store.grants.storage_permission(VOL, "alice") is Level.ADMIN
    assert await store.grants.storage_permission(VOL, "bob") is None


async def test_a_duplicate_volume_id_is_refused_but_other_tenants_may_use_it(
    store: Repositories,
) -> None:
    await store.storage.create_volume(volume())
    with pytest.raises(AlreadyExistsError, match="volume 'data' already exists"):
        await store.storage.create_volume(volume(owner="bob"))
    await store.storage.create_volume(volume(VolumeKey("other", "data"), owner="carol"))
    assert [v.owner for v in await store.storage.list_volumes("dev")] == ["alice"]
    assert await store.grants.storage_permissions(VOL) == [("alice", Level.ADMIN)]


async def test_readable_volumes_are_those_with_a_grant_ordered_by_id(store: Repositories) -> None:
    for volume_id, owner in (("zeta", "alice"), ("alpha", "bob"), ("beta", "alice")):
        await store.storage.create_volume(volume(VolumeKey("dev", volume_id), owner=owner))
    assert [v.key.volume_id for v in await store.storage.readable_volumes("dev", "alice")] == [
        "beta",
        "zeta",
    ]
    await store.grants.set_storage_permission(VolumeKey("dev", "alpha"), "alice", Level.READ)
    assert [v.key.volume_id for v in await store.storage.readable_volumes("dev", "alice")] == [
        "alpha",
        "beta",
        "zeta",
    ]
    assert [v.key.volume_id for v in await store.storage.list_volumes("dev")] == [
        "alpha",
        "beta",
        "zeta",
    ]


async def test_update_changes_the_description_and_measurements_keep_update_ts(
    store: Repositories,
) -> None:
    await store.storage.create_volume(volume())
    measured = await store.storage.update_volume(VOL, LATER, size_bytes=5 * 1024 * 1024 * 1024)
    assert measured is not None and measured.size_bytes == 5 * 1024 * 1024 * 1024
    assert measured.update_ts == NOW
    updated = await store.storage.update_volume(VOL, LATER, description="new")
    assert updated is not None and updated.description == "new" and updated.update_ts == LATER
    assert (
        await store.storage.update_volume(VolumeKey("dev", "nope"), LATER, description="x") is None
    )


async def test_deleting_a_volume_removes_its_grants_and_a_new_one_starts_clean(
    store: Repositories,
) -> None:
    await store.storage.create_volume(volume())
    await store.grants.set_storage_permission(VOL, "bob", Level.USER)
    assert await store.storage.delete_volume(VOL)
    assert not await store.storage.delete_volume(VOL)
    assert await store.storage.get_volume(VOL) is None
    await store.storage.create_volume(volume(owner="carol"))
    assert await store.grants.storage_permissions(VOL) == [("carol", Level.ADMIN)]


async def test_grants_keep_an_admin_and_change_levels(store: Repositories) -> None:
    await store.storage.create_volume(volume())
    await store.grants.set_storage_permission(VOL, "bob", Level.READ)
    await store.grants.set_storage_permission(VOL, "bob", Level.USER)
    assert await store.grants.storage_permissions(VOL) == [
        ("alice", Level.ADMIN),
        ("bob", Level.USER),
    ]
    with pytest.raises(LastAdminError, match="alice is volume 'data''s last ADMIN"):
        await store.grants.set_storage_permission(VOL, "alice", Level.READ)
    with pytest.raises(LastAdminError):
        await store.grants.delete_storage_permission(VOL, "alice")
    await store.grants.set_storage_permission(VOL, "bob", Level.ADMIN)
    assert await store.grants.delete_storage_permission(VOL, "alice")
    assert not await store.grants.delete_storage_permission(VOL, "alice")
    assert await store.grants.storage_permissions(VOL) == [("bob", Level.ADMIN)]


async def test_volume_and_snapshot_grants_with_the_same_id_are_separate(
    store: Repositories,
) -> None:
    await store.storage.create_volume(volume(VolumeKey("dev", "same")))
    await store.storage.create_snapshot(snapshot(SnapshotKey("dev", "same"), owner="bob"))
    assert await store.grants.storage_permissions(VolumeKey("dev", "same")) == [
        ("alice", Level.ADMIN)
    ]
    assert await store.grants.storage_permissions(SnapshotKey("dev", "same")) == [
        ("bob", Level.ADMIN)
    ]
    assert await store.storage.readable_snapshots("dev", "alice") == []
    await store.storage.delete_volume(VolumeKey("dev", "same"))
    assert await store.grants.storage_permissions(SnapshotKey("dev", "same")) == [
        ("bob", Level.ADMIN)
    ]


async def test_snapshots_read_back_list_update_and_delete(store: Repositories) -> None:
    assert await store.storage.create_snapshot(snapshot()) == snapshot()
    with pytest.raises(AlreadyExistsError, match="snapshot 'snap1'"):
        await store.storage.create_snapshot(snapshot(owner="bob"))
    assert await store.storage.get_snapshot(SNAP) == snapshot()
    assert [s.key for s in await store.storage.list_snapshots("dev")] == [SNAP]
    assert [s.key for s in await store.storage.readable_snapshots("dev", "alice")] == [SNAP]
    assert await store.storage.readable_snapshots("dev", "bob") == []
    updated = await store.storage.update_snapshot(SNAP, LATER, description="kept")
    assert updated is not None and updated.description == "kept" and updated.update_ts == LATER
    await store.grants.set_storage_permission(SNAP, "bob", Level.READ)
    assert await store.storage.delete_snapshot(SNAP)
    assert await store.storage.get_snapshot(SNAP) is None
    assert await store.grants.storage_permissions(SNAP) == []


async def test_pod_mounts_round_trip_and_pods_mounting_finds_them(store: Repositories) -> None:
    mounts = {
        "data": VolumeMountSpec(MountType.VOLUME, "/data", sub_path="a/b", read_only=True),
        "snap1": VolumeMountSpec(MountType.SNAPSHOT, "/snap", read_only=True),
    }
    spec = PodSpec(image="pods-http:latest", volume_mounts=mounts)
    for pod_id in ("web2", "web1"):
        await store.pods.create_pod(
            PodKey("dev", pod_id), owner="alice", spec=spec, credentials_encrypted=None, now=NOW
        )
    await store.pods.create_pod(
        PodKey("dev", "plain"),
        owner="alice",
        spec=PodSpec(image="x"),
        credentials_encrypted=None,
        now=NOW,
    )
    pod = await store.pods.get_pod(PodKey("dev", "web1"))
    assert pod is not None and pod.spec == spec
    assert [p.key.pod_id for p in await store.pods.pods_mounting(VOL)] == ["web1", "web2"]
    assert [p.key.pod_id for p in await store.pods.pods_mounting(SNAP)] == ["web1", "web2"]
    assert await store.pods.pods_mounting(SnapshotKey("dev", "data")) == []
    assert await store.pods.pods_mounting(VolumeKey("other", "data")) == []
    await store.pods.request_deletion(PodKey("dev", "web2"), NOW)
    assert [p.key.pod_id for p in await store.pods.pods_mounting(VOL)] == ["web1"]


async def test_a_revoking_grant_change_stops_the_users_pods_in_the_same_transaction(
    store: Repositories,
) -> None:
    from services.common.pods_model import RequestedStatus
    from services.common.records import Revocation

    await store.storage.create_volume(volume())
    await store.grants.set_storage_permission(VOL, "carol", Level.USER)
    mounts = {"data": VolumeMountSpec(MountType.VOLUME, "/data")}
    for pod_id, owner in (("carols", "carol"), ("alices", "alice")):
        await store.pods.create_pod(
            PodKey("dev", pod_id),
            owner=owner,
            spec=PodSpec(image="x:1", volume_mounts=mounts),
            credentials_encrypted=None,
            now=NOW,
        )
    revoked = Revocation(LATER, "stopped: carol's permission was revoked")
    await store.grants.set_storage_permission(VOL, "carol", Level.ADMIN, revoked)  # still may mount
    carols = await store.pods.get_pod(PodKey("dev", "carols"))
    assert carols is not None and carols.status_requested is RequestedStatus.ON
    await store.grants.set_storage_permission(VOL, "carol", Level.READ, revoked)
    carols = await store.pods.get_pod(PodKey("dev", "carols"))
    assert carols is not None and carols.status_requested is RequestedStatus.OFF
    assert carols.action_logs[-1].endswith("stopped: carol's permission was revoked")
    assert carols.generation == 2
    alices = await store.pods.get_pod(PodKey("dev", "alices"))
    assert alices is not None and alices.status_requested is RequestedStatus.ON
    assert await store.grants.delete_storage_permission(VOL, "carol", revoked)
