"""The volume and snapshot use cases: READ/USER/ADMIN sharing with nothing leaking to
strangers, confined paths, size limits, snapshots as copies, and pods that may mount only
what their creator may use. Runs on the in-memory VolumeStore and a SQLite store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.pods import Pods, Principal
from services.api.domain.validation import Limits, MountRequest, PodRequest, PodUpdate
from services.api.domain.volumes import (
    SizeLimits,
    SnapshotRequest,
    SnapshotUpdate,
    VolumeRequest,
    Volumes,
    VolumeUpdate,
)
from services.api.errors import (
    AlreadyExistsError,
    ApiError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.db.store import Store
from services.common.outcomes import TemporaryError
from services.common.pods_model import Level, MountType, VolumeMountSpec
from services.common.runtime.types import ExecResult, PodKey
from services.common.secretbox import SecretBox
from services.common.storage.fake import FakeVolumeStore
from services.common.storage.types import VolumeKey, volume_name
from services.common.volumes_model import MIB

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ALICE = Principal("dev", "alice")  # creates everything
BOB = Principal("dev", "bob")  # READ
CAROL = Principal("dev", "carol")  # USER
DAVE = Principal("dev", "dave")  # nothing
ADMIN = Principal("dev", "root", is_admin=True)
VOL = VolumeKey("dev", "data")
LIMITS = SizeLimits(default_mib=10, max_mib=100)


class NoBus:
    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        return None


class NoCommands:
    async def run(self, key: PodKey, argv: object, timeout: float, limit: int) -> ExecResult:
        raise AssertionError("no commands here")


@pytest.fixture
def files() -> FakeVolumeStore:
    return FakeVolumeStore()


@pytest.fixture
def volumes(store: Store, files: FakeVolumeStore) -> Volumes:
    return Volumes(store=store, files=files, limits=LIMITS, clock=lambda: NOW)


@pytest.fixture
def pods(store: Store, volumes: Volumes) -> Pods:
    return Pods(
        store=store,
        reconciler=NoBus(),
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=NoCommands(),  # type: ignore[arg-type]
        mounts=volumes,
    )


async def shared_volume(volumes: Volumes) -> None:
    """`data` of alice with hello.txt, READ for bob, USER for carol."""
    await volumes.create_volume(ALICE, VolumeRequest("data", "my data"))
    await volumes.upload(ALICE, "data", "hello.txt", b"hello")
    await volumes.set_volume_permission(ALICE, "data", "bob", "READ")
    await volumes.set_volume_permission(ALICE, "data", "carol", "USER")


async def shared_snapshot(volumes: Volumes) -> None:
    """`snap1` of `data` (see shared_volume), READ for bob, USER for carol."""
    await volumes.create_snapshot(ALICE, SnapshotRequest("snap1", "data", "/"))
    await volumes.set_snapshot_permission(ALICE, "snap1", "bob", "READ")
    await volumes.set_snapshot_permission(ALICE, "snap1", "carol", "USER")


async def outcome(call: Awaitable[object]) -> str:
    """ "ok", or the name of the API error raised."""
    try:
        await call
    except ApiError as error:
        return type(error).__name__
    return "ok"


# -- volumes -------------------------------------------------------------------------------


async def test_a_new_volume_has_its_creator_as_admin_and_the_default_limit(
    volumes: Volumes, files: FakeVolumeStore
) -> None:
    record = await volumes.create_volume(ALICE, VolumeRequest("data", "my data"))
    assert (record.owner, record.description, record.size_limit_mib) == ("alice", "my data", 10)
    assert await volumes.volume_permissions(ALICE, "data") == [("alice", Level.ADMIN)]
    info = await files.get_volume(VOL)
    assert info is not None and info.size_limit_bytes == 10 * MIB


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (VolumeRequest(""), "volume_id"),
        (VolumeRequest("Data"), "volume_id"),
        (VolumeRequest("da"), "volume_id"),
        (VolumeRequest("../x"), "volume_id"),
        (VolumeRequest("data", "d" * 256), "description"),
        (VolumeRequest("data", size_limit_mib=101), "size_limit"),
        (VolumeRequest("data", size_limit_mib=-1), "size_limit"),
    ],
)
async def test_bad_volume_requests_name_the_field(
    volumes: Volumes, files: FakeVolumeStore, request_: VolumeRequest, field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        await volumes.create_volume(ALICE, request_)
    assert info.value.field == field
    assert await files.list_volumes() == []


async def test_a_taken_id_is_refused_and_the_volume_is_left_alone(volumes: Volumes) -> None:
    await shared_volume(volumes)
    with pytest.raises(AlreadyExistsError, match="data"):
        await volumes.create_volume(DAVE, VolumeRequest("data"))
    assert await (await volumes.download(ALICE, "data", "hello.txt")).read_all() == b"hello"


async def test_get_measures_the_size_and_list_shows_the_last_measurement(
    volumes: Volumes, files: FakeVolumeStore
) -> None:
    await shared_volume(volumes)
    files.plant_file(VOL, "big.bin", b"x" * (MIB + 1))  # written by a pod
    (listed,) = await volumes.list_volumes(ALICE)
    assert listed.size_bytes == 0
    assert (await volumes.get_volume(ALICE, "data")).size_bytes == MIB + 1 + 5
    (listed,) = await volumes.list_volumes(ALICE)
    assert listed.size_bytes == MIB + 6


async def test_files_are_listed_uploaded_and_downloaded_within_the_volume(
    volumes: Volumes,
) -> None:
    await shared_volume(volumes)
    await volumes.upload(CAROL, "data", "dir/sub/x.txt", b"x")
    assert [e.path for e in await volumes.list_volume_files(BOB, "data")] == ["dir", "hello.txt"]
    listed = await volumes.list_volume_files(BOB, "data", "dir", recursive=True)
    assert [(e.path, e.is_dir, e.size) for e in listed] == [
        ("dir/sub", True, 0),
        ("dir/sub/x.txt", False, 1),
    ]
    assert await (await volumes.download(BOB, "data", "dir/sub/x.txt")).read_all() == b"x"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda v: v.upload(ALICE, "data", "", b"x"), "path"),
        (lambda v: v.upload(ALICE, "data", "../x", b"x"), "path"),
        (lambda v: v.upload(ALICE, "data", "a/../../x", b"x"), "path"),
        (lambda v: v.upload(ALICE, "data", "/etc/passwd", b"x"), "path"),
        (lambda v: v.upload(ALICE, "data", "a\x00b", b"x"), "path"),
        (lambda v: v.download(ALICE, "data", "../../etc/passwd"), "path"),
        (lambda v: v.download(ALICE, "data", ""), "path"),
        (lambda v: v.download(ALICE, "data", "dir"), "path"),
        (lambda v: v.list_volume_files(ALICE, "data", "../"), "path"),
        (lambda v: v.download(ALICE, "data", "escape/passwd"), "path"),
        (lambda v: v.download(ALICE, "data", "outside"), "path"),
    ],
)
async def test_paths_are_confined_to_the_volume(
    volumes: Volumes,
    files: FakeVolumeStore,
    call: Callable[[Volumes], Awaitable[object]],
    field: str,
) -> None:
    await shared_volume(volumes)
    await volumes.upload(ALICE, "data", "dir/x", b"x")
    files.plant_symlink(VOL, "escape", "/etc")  # planted by a pod
    files.plant_symlink(VOL, "outside", "../../etc/passwd")
    with pytest.raises(InvalidArgumentError) as info:
        await call(volumes)
    assert info.value.field == field


async def test_missing_files_are_not_found_and_a_full_volume_refuses_uploads(
    volumes: Volumes,
) -> None:
    await volumes.create_volume(ALICE, VolumeRequest("data", size_limit_mib=1))
    with pytest.raises(NotFoundError):
        await volumes.download(ALICE, "data", "nope.txt")
    await volumes.upload(ALICE, "data", "a.bin", b"a" * (MIB - 10))
    with pytest.raises(FailedPreconditionError, match="size limit"):
        await volumes.upload(ALICE, "data", "b.bin", b"b" * 11)
    await volumes.upload(ALICE, "data", "a.bin", b"a" * MIB)  # replacing counts the old out


async def test_update_changes_only_the_description(volumes: Volumes) -> None:
    await shared_volume(volumes)
    same = await volumes.update_volume(ALICE, VolumeUpdate("data", "my data", 10))
    assert "unchanged" in same.message
    changed = await volumes.update_volume(ALICE, VolumeUpdate("data", description="new"))
    assert changed.record.description == "new" and "updated" in changed.message
    with pytest.raises(InvalidArgumentError, match="cannot be changed") as info:
        await volumes.update_volume(ALICE, VolumeUpdate("data", size_limit_mib=20))
    assert info.value.field == "size_limit"


async def test_delete_removes_record_grants_and_storage(
    volumes: Volumes, files: FakeVolumeStore
) -> None:
    await shared_volume(volumes)
    await volumes.delete_volume(ALICE, "data")
    assert await files.get_volume(VOL) is None
    assert await volumes.list_volumes(BOB) == []
    with pytest.raises(NotFoundError):
        await volumes.get_volume(ALICE, "data")
    await volumes.create_volume(DAVE, VolumeRequest("data"))  # the id is free again
    assert await volumes.list_volume_files(DAVE, "data") == []
    assert await volumes.list_volumes(BOB) == []


async def test_a_volume_mounted_by_a_pod_is_not_deleted(
    volumes: Volumes, pods: Pods, files: FakeVolumeStore
) -> None:
    await shared_volume(volumes)
    mounts = {"data": MountRequest(mount_path="/data")}
    await pods.create(CAROL, PodRequest(pod_id="web1", image="i", volume_mounts=mounts))
    await pods.create(ALICE, PodRequest(pod_id="web2", image="i", volume_mounts=mounts))
    with pytest.raises(FailedPreconditionError) as info:
        await volumes.delete_volume(ALICE, "data")
    assert str(info.value) == (
        "volume 'data' is mounted by pod 'web2' and 1 other pod; delete those pods or remove "
        "the volume from their volume_mounts first (or delete with force=true to stop them)"
    )
    with pytest.raises(FailedPreconditionError, match="pod 'web1' and pod 'web2'"):
        await volumes.delete_volume(ADMIN, "data")
    await pods.delete(CAROL, "web1")
    await pods.delete(ALICE, "web2")
    files.hold_mount(volume_name("local", VOL), "pods-local-dev-web2")  # not gone yet
    with pytest.raises(FailedPreconditionError, match="going away") as info:
        await volumes.delete_volume(ALICE, "data")
    assert "web2" not in str(info.value)
    files.release_mount(volume_name("local", VOL), "pods-local-dev-web2")
    await volumes.delete_volume(ALICE, "data")


VOLUME_CALLS: dict[str, Callable[[Volumes, Principal], Awaitable[object]]] = {
    "get": lambda v, p: v.get_volume(p, "data"),
    "list_files": lambda v, p: v.list_volume_files(p, "data"),
    "download": lambda v, p: v.download(p, "data", "hello.txt"),
    "permissions": lambda v, p: v.volume_permissions(p, "data"),
    "upload": lambda v, p: v.upload(p, "data", "new.txt", b"new"),
    "snapshot": lambda v, p: v.create_snapshot(p, SnapshotRequest(f"s{p.username}", "data")),
    "update": lambda v, p: v.update_volume(p, VolumeUpdate("data", description=p.username)),
    "grant": lambda v, p: v.set_volume_permission(p, "data", "erin", "READ"),
    "revoke": lambda v, p: v.delete_volume_permission(p, "data", "bob"),
}
OK, NF, PD = "ok", "NotFoundError", "PermissionDeniedError"
VOLUME_MATRIX = {  # bob READ, carol USER, dave nothing, root tenant admin
    "get": (OK, OK, NF, OK),
    "list_files": (OK, OK, NF, OK),
    "download": (OK, OK, NF, OK),
    "permissions": (OK, OK, NF, OK),
    "upload": (PD, OK, NF, OK),
    "snapshot": (OK, OK, NF, OK),
    "update": (PD, PD, NF, OK),
    "grant": (PD, PD, NF, OK),
    "revoke": (PD, PD, NF, OK),
}


@pytest.mark.parametrize("call", sorted(VOLUME_CALLS))
async def test_each_volume_call_needs_its_level_and_strangers_see_nothing(
    volumes: Volumes, call: str
) -> None:
    await shared_volume(volumes)
    results = [await outcome(VOLUME_CALLS[call](volumes, who)) for who in (BOB, CAROL, DAVE, ADMIN)]
    assert tuple(results) == VOLUME_MATRIX[call]


async def test_denials_name_the_level_and_not_found_says_nothing_more(volumes: Volumes) -> None:
    await shared_volume(volumes)
    with pytest.raises(PermissionDeniedError) as denied:
        await volumes.upload(BOB, "data", "x", b"x")
    assert str(denied.value) == "this needs USER permission on volume 'data'; you have READ"
    with pytest.raises(NotFoundError) as hidden:
        await volumes.download(DAVE, "data", "hello.txt")
    with pytest.raises(NotFoundError) as absent:
        await volumes.download(DAVE, "nodata", "hello.txt")
    assert str(hidden.value) == str(absent.value).replace("nodata", "data")


async def test_delete_needs_admin_and_lists_show_what_may_be_read(volumes: Volumes) -> None:
    await shared_volume(volumes)
    await volumes.create_volume(DAVE, VolumeRequest("mine"))
    assert [await outcome(volumes.delete_volume(p, "data")) for p in (BOB, CAROL, DAVE)] == [
        PD,
        PD,
        NF,
    ]
    assert [v.key.volume_id for v in await volumes.list_volumes(BOB)] == ["data"]
    assert [v.key.volume_id for v in await volumes.list_volumes(DAVE)] == ["mine"]
    assert [v.key.volume_id for v in await volumes.list_volumes(ADMIN)] == ["data", "mine"]
    await volumes.delete_volume(ADMIN, "mine")


async def test_grants_are_validated_and_keep_an_admin(volumes: Volumes) -> None:
    await shared_volume(volumes)
    with pytest.raises(InvalidArgumentError, match="READ, USER or ADMIN"):
        await volumes.set_volume_permission(ALICE, "data", "bob", "OWNER")
    with pytest.raises(InvalidArgumentError) as info:
        await volumes.set_volume_permission(ALICE, "data", "bad user", "READ")
    assert info.value.field == "user"
    with pytest.raises(FailedPreconditionError, match="last ADMIN"):
        await volumes.delete_volume_permission(ALICE, "data", "alice")
    with pytest.raises(NotFoundError, match="erin"):
        await volumes.delete_volume_permission(ALICE, "data", "erin")
    grants = await volumes.set_volume_permission(ALICE, "data", "bob", "ADMIN")
    assert grants == [("alice", Level.ADMIN), ("bob", Level.ADMIN), ("carol", Level.USER)]
    assert await volumes.delete_volume_permission(BOB, "data", "alice") == [
        ("bob", Level.ADMIN),
        ("carol", Level.USER),
    ]


async def test_storage_trouble_is_temporary_and_reaches_the_caller(
    volumes: Volumes, files: FakeVolumeStore
) -> None:
    await shared_volume(volumes)
    files.fail_next(TemporaryError("engine down"))
    with pytest.raises(TemporaryError):
        await volumes.download(ALICE, "data", "hello.txt")


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
    "download": (OK, OK, NF, OK),
    "permissions": (OK, OK, NF, OK),
    "update": (PD, PD, NF, OK),
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
    assert await (await volumes.download_snapshot(BOB, "snap1", "hello.txt")).read_all() == b"hello"
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
