"""Snapshots as copies (of a volume, a directory or a file, within their limit), their
permissions, and pods mounting volumes and snapshots only as their creator may. Runs on the
in-memory VolumeStore and a SQLite store (volume_cases.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import MountRequest, PodRequest, PodUpdate
from services.api.domain.volume_inputs import (
    SnapshotRequest,
    SnapshotUpdate,
)
from services.api.domain.volumes import Volumes
from services.api.errors import (
    AlreadyExistsError,
    ApiError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.pods_model import Level, MountType, VolumeMountSpec
from services.common.storage.fake import FakeVolumeStore
from services.common.volumes_model import MIB
from tests.unit.api.volume_cases import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    DAVE,
    NF,
    OK,
    PD,
    VOL,
    outcome,
    shared_snapshot,
    shared_volume,
)

# -- snapshots -----------------------------------------------------------------------------


async def test_a_snapshot_holds_the_source_as_it_was(volumes: Volumes) -> None:
    await shared_volume(volumes)
    await volumes.upload(ALICE, "data", "dir/a.txt", b"a")
    snap = await volumes.create_snapshot(BOB, SnapshotRequest("snap1", "data", "/", "before"))
    assert (snap.owner, snap.source_volume_id, snap.source_volume_path) == ("bob", "data", "")
    assert snap.size_bytes == 6
    await volumes.upload(ALICE, "data", "hello.txt", b"changed")
    await volumes.upload(ALICE, "data", "later.txt", b"later")
    assert await (await volumes.download_snapshot(BOB, "snap1", "hello.txt")).read_all() == b"hello"
    listed = await volumes.list_snapshot_files(BOB, "snap1", recursive=True)
    assert [e.path for e in listed] == ["dir", "dir/a.txt", "hello.txt"]
    assert await volumes.snapshot_permissions(BOB, "snap1") == [("bob", Level.ADMIN)]


async def test_a_snapshot_of_a_directory_or_a_file(volumes: Volumes) -> None:
    await shared_volume(volumes)
    await volumes.upload(ALICE, "data", "dir/a.txt", b"a")
    await volumes.create_snapshot(ALICE, SnapshotRequest("snapdir", "data", "/dir"))
    await volumes.create_snapshot(ALICE, SnapshotRequest("snapfile", "data", "dir/a.txt"))
    assert [e.path for e in await volumes.list_snapshot_files(ALICE, "snapdir")] == ["a.txt"]
    assert await (await volumes.download_snapshot(ALICE, "snapfile", "a.txt")).read_all() == b"a"


@pytest.mark.parametrize(
    ("request_", "error", "field"),
    [
        (SnapshotRequest("snap1", "data", "../x"), InvalidArgumentError, "source_volume_path"),
        (SnapshotRequest("snap1", "data", "//x"), InvalidArgumentError, "source_volume_path"),
        (SnapshotRequest("snap1", "data", "nope"), NotFoundError, None),
        (SnapshotRequest("snap1", "nodata"), NotFoundError, None),
        (SnapshotRequest("Snap", "data"), InvalidArgumentError, "snapshot_id"),
        (SnapshotRequest("snap1", ""), InvalidArgumentError, "source_volume_id"),
        (SnapshotRequest("snap1", "data", destination_path="x"), InvalidArgumentError, None),
        (SnapshotRequest("snap1", "data", cron="* * * * *"), InvalidArgumentError, "cron"),
        (SnapshotRequest("snap1", "data", size_limit_mib=1000), InvalidArgumentError, None),
    ],
)
async def test_bad_snapshot_requests_are_refused(
    volumes: Volumes,
    request_: SnapshotRequest,
    error: type[ApiError],
    field: str | None,
) -> None:
    await shared_volume(volumes)
    with pytest.raises(error) as info:
        await volumes.create_snapshot(ALICE, request_)
    if field is not None:
        assert isinstance(info.value, InvalidArgumentError) and info.value.field == field
    assert await volumes.list_snapshots(ADMIN) == []


async def test_a_snapshot_over_its_limit_is_not_taken(
    volumes: Volumes, files: FakeVolumeStore
) -> None:
    await shared_volume(volumes)
    files.plant_file(VOL, "big.bin", b"x" * (2 * MIB))
    with pytest.raises(FailedPreconditionError, match="size limit"):
        await volumes.create_snapshot(ALICE, SnapshotRequest("snap1", "data", size_limit_mib=1))
    assert await volumes.list_snapshots(ALICE) == []
    await volumes.create_snapshot(ALICE, SnapshotRequest("snap1", "data", size_limit_mib=3))
    with pytest.raises(AlreadyExistsError):
        await volumes.create_snapshot(ALICE, SnapshotRequest("snap1", "data"))


SNAPSHOT_CALLS: dict[str, Callable[[Volumes, Principal], Awaitable[object]]] = {
    "get": lambda v, p: v.get_snapshot(p, "snap1"),
    "list_files": lambda v, p: v.list_snapshot_files(p, "snap1"),
    "download": lambda v, p: v.download_snapshot(p, "snap1", "hello.txt"),
    "permissions": lambda v, p: v.snapshot_permissions(p, "snap1"),
    "update": lambda v, p: v.update_snapshot(p, SnapshotUpdate("snap1", description="x")),
    "grant": lambda v, p: v.set_snapshot_permission(p, "snap1", "erin", "READ"),
    "revoke": lambda v, p: v.delete_snapshot_permission(p, "snap1", "bob"),
    "delete": lambda v, p: v.delete_snapshot(p, "snap1"),
}
SNAPSHOT_MATRIX = {
    "get": (OK, OK, NF, OK),
    "list_files": (OK, OK, NF, OK),
    "download": (PD, OK, NF, OK),  # Tapis's levels (README)
    "permissions": (PD, OK, NF, OK),
    "update": (PD, OK, NF, OK),
    "grant": (PD, PD, NF, OK),
    "revoke": (PD, PD, NF, OK),
    "delete": (PD, PD, NF, OK),
}


@pytest.mark.parametrize("call", sorted(SNAPSHOT_CALLS))
async def test_each_snapshot_call_needs_its_level_and_strangers_see_nothing(
    volumes: Volumes, call: str
) -> None:
    await shared_volume(volumes)
    await shared_snapshot(volumes)
    results = [
        await outcome(SNAPSHOT_CALLS[call](volumes, who)) for who in (BOB, CAROL, DAVE, ADMIN)
    ]
    assert tuple(results) == SNAPSHOT_MATRIX[call]
    assert [s.key.snapshot_id for s in await volumes.list_snapshots(DAVE)] == []


async def test_snapshot_updates_change_only_the_description(volumes: Volumes) -> None:
    await shared_volume(volumes)
    await shared_snapshot(volumes)
    changed = await volumes.update_snapshot(ALICE, SnapshotUpdate("snap1", description="kept"))
    assert changed.record.description == "kept"
    assert "unchanged" in (await volumes.update_snapshot(ALICE, SnapshotUpdate("snap1"))).message
    for update in (
        SnapshotUpdate("snap1", size_limit_mib=3),
        SnapshotUpdate("snap1", retention_policy="weekly"),
    ):
        with pytest.raises(InvalidArgumentError):
            await volumes.update_snapshot(ALICE, update)


async def test_a_deleted_source_leaves_its_snapshots(volumes: Volumes) -> None:
    await shared_volume(volumes)
    await shared_snapshot(volumes)
    await volumes.delete_volume(ALICE, "data")
    assert (
        await (await volumes.download_snapshot(CAROL, "snap1", "hello.txt")).read_all() == b"hello"
    )
    await volumes.delete_snapshot(ALICE, "snap1")
    assert await volumes.list_snapshots(ADMIN) == []


# -- mounting into pods --------------------------------------------------------------------


async def test_mounting_needs_user_on_a_volume_and_read_on_a_snapshot(
    volumes: Volumes, pods: Pods
) -> None:
    await shared_volume(volumes)
    await shared_snapshot(volumes)
    vol = {"data": MountRequest(mount_path="/data")}
    snap = {"snap1": MountRequest("tapissnapshot", "/snap")}

    async def create(who: Principal, pod_id: str, mounts: dict[str, MountRequest]) -> str:
        request = PodRequest(pod_id=pod_id, image="i", volume_mounts=mounts)
        return await outcome(pods.create(who, request))

    assert await create(BOB, "bobvol", vol) == PD
    assert await create(DAVE, "davevol", vol) == NF
    assert await create(DAVE, "davesnap", snap) == NF
    assert await create(CAROL, "carolvol", vol) == OK
    assert await create(BOB, "bobsnap", snap) == OK
    assert await create(ADMIN, "adminvol", vol) == OK
    assert [p.key.pod_id for p in await pods.list_pods(ADMIN)] == [
        "adminvol",
        "bobsnap",
        "carolvol",
    ]
    record = await pods.get(BOB, "bobsnap")
    assert record.spec.volume_mounts == {
        "snap1": VolumeMountSpec(MountType.SNAPSHOT, "/snap", "", True)
    }
    with pytest.raises(PermissionDeniedError, match="USER permission on volume 'data' to mount"):
        await pods.create(BOB, PodRequest(pod_id="bobvol", image="i", volume_mounts=vol))


async def test_sub_paths_need_engine_support_and_must_exist(
    volumes: Volumes, pods: Pods, files: FakeVolumeStore
) -> None:
    await shared_volume(volumes)
    await volumes.upload(ALICE, "data", "dir/x", b"x")
    mounts = {"data": MountRequest(mount_path="/data", sub_path="dir")}
    with pytest.raises(InvalidArgumentError, match=r"API >= 1\.45") as info:
        await pods.create(ALICE, PodRequest(pod_id="web1", image="i", volume_mounts=mounts))
    assert info.value.field == "volume_mounts.data.sub_path"
    files.subpath_supported = True
    await pods.create(ALICE, PodRequest(pod_id="web1", image="i", volume_mounts=mounts))
    missing = {"data": MountRequest(mount_path="/data", sub_path="nope")}
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        await pods.create(ALICE, PodRequest(pod_id="web2", image="i", volume_mounts=missing))


async def test_updates_check_only_mounts_they_add_or_change(volumes: Volumes, pods: Pods) -> None:
    await shared_volume(volumes)
    await shared_snapshot(volumes)
    await pods.create(CAROL, PodRequest(pod_id="web1", image="i"))
    vol = {"data": MountRequest(mount_path="/data")}
    changed = await pods.update(CAROL, PodUpdate(pod_id="web1", volume_mounts=vol))
    assert "volume_mounts" in changed.message and "restart" in changed.message
    await volumes.set_volume_permission(ALICE, "data", "carol", "READ")  # demoted later
    same = await pods.update(CAROL, PodUpdate(pod_id="web1", description="still fine"))
    assert same.record.spec.volume_mounts["data"].mount_path == "/data"
    moved = {"data": MountRequest(mount_path="/elsewhere")}
    with pytest.raises(PermissionDeniedError):
        await pods.update(CAROL, PodUpdate(pod_id="web1", volume_mounts=moved))
    both = {**vol, "snap1": MountRequest("tapissnapshot", "/snap")}
    await pods.update(CAROL, PodUpdate(pod_id="web1", volume_mounts=both))
    record = await pods.get(CAROL, "web1")
    assert sorted(record.spec.volume_mounts) == ["data", "snap1"]


async def test_a_snapshot_mounted_by_a_pod_is_not_deleted(volumes: Volumes, pods: Pods) -> None:
    await shared_volume(volumes)
    await shared_snapshot(volumes)
    snap = {"snap1": MountRequest("tapissnapshot", "/snap")}
    await pods.create(BOB, PodRequest(pod_id="web1", image="i", volume_mounts=snap))
    with pytest.raises(FailedPreconditionError, match="snapshot 'snap1' is mounted by 1 other"):
        await volumes.delete_snapshot(ALICE, "snap1")
    await volumes.delete_volume(ALICE, "data")  # the snapshot's source is not mounted
    assert (await volumes.get_snapshot(ALICE, "snap1")).source_volume_id == "data"
