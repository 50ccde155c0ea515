"""The volume and snapshot use cases: READ/USER/ADMIN sharing with nothing leaking to
strangers, confined paths, size limits, snapshots as copies, and pods that may mount only
what their creator may use. Runs on the in-memory VolumeStore and a SQLite store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import MountRequest, PodRequest
from services.api.domain.volume_inputs import (
    SnapshotRequest,
    VolumeRequest,
    VolumeUpdate,
)
from services.api.domain.volumes import Volumes
from services.api.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.outcomes import TemporaryError
from services.common.pods_model import Level
from services.common.storage.fake import FakeVolumeStore
from services.common.storage.types import volume_name
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
    shared_volume,
)

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
    assert await (await volumes.download(CAROL, "data", "dir/sub/x.txt")).read_all() == b"x"


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
VOLUME_MATRIX = {  # bob READ, carol USER, dave nothing, root tenant admin
    "get": (OK, OK, NF, OK),
    "list_files": (OK, OK, NF, OK),
    "download": (PD, OK, NF, OK),  # Tapis's levels (README)
    "permissions": (PD, OK, NF, OK),
    "upload": (PD, OK, NF, OK),
    "snapshot": (OK, OK, NF, OK),
    "update": (PD, OK, NF, OK),
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
