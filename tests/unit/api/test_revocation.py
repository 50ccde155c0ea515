"""Revoking a grant takes effect: the user's pods mounting the volume are stopped with a
reason, the spawner is told, and they cannot be started back; a forced delete stops every
pod mounting the volume and proceeds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import Limits, MountRequest, PodRequest
from services.api.domain.volume_inputs import SizeLimits, SnapshotRequest, VolumeRequest
from services.api.domain.volumes import Volumes
from services.api.errors import FailedPreconditionError, PermissionDeniedError
from services.common.db.database import Repositories
from services.common.pods_model import RequestedStatus
from services.common.runtime.types import ExecResult, PodKey
from services.common.secretbox import SecretBox
from services.common.storage.fake import FakeVolumeStore

NOW = datetime(2026, 12, 6, tzinfo=UTC)
ALICE = Principal("dev", "alice")
CAROL = Principal("dev", "carol")
ADMIN = Principal("dev", "root", is_admin=True)
MOUNT = {"data": MountRequest(mount_path="/data")}


class Bus:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        self.sent.append((key.pod_id, reason))


class NoCommands:
    async def run(self, key: PodKey, argv: object, timeout: float, limit: int) -> ExecResult:
        raise AssertionError("no commands here")


@pytest.fixture
def bus() -> Bus:
    return Bus()


@pytest.fixture
def volumes(store: Repositories, bus: Bus) -> Volumes:
    return Volumes(
        store=store,
        files=FakeVolumeStore(),
        limits=SizeLimits(),
        clock=lambda: NOW,
        reconciler=bus,
    )


@pytest.fixture
def pods(store: Repositories, volumes: Volumes, bus: Bus) -> Pods:
    return Pods(
        store=store,
        reconciler=bus,
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=NoCommands(),  # type: ignore[arg-type]
        mounts=volumes,
    )


async def _carols_pod(volumes: Volumes, pods: Pods) -> None:
    await volumes.create_volume(ALICE, VolumeRequest("data"))
    await volumes.set_volume_permission(ALICE, "data", "carol", "USER")
    await pods.create(CAROL, PodRequest(pod_id="web1", image="i", volume_mounts=MOUNT))
    await pods.create(ALICE, PodRequest(pod_id="web2", image="i", volume_mounts=MOUNT))


@pytest.mark.parametrize("how", ["removed", "lowered"])
async def test_a_revoked_users_pods_are_stopped_with_a_reason(
    volumes: Volumes, pods: Pods, bus: Bus, how: str
) -> None:
    await _carols_pod(volumes, pods)
    bus.sent.clear()
    if how == "removed":
        await volumes.delete_volume_permission(ALICE, "data", "carol")
    else:
        await volumes.set_volume_permission(ALICE, "data", "carol", "READ")
    web1 = await pods.get(ADMIN, "web1")
    assert web1.status_requested is RequestedStatus.OFF
    assert (
        "stopped: carol's permission on volume 'data' was revoked by alice"
        in (web1.action_logs[-1])
    )
    assert bus.sent == [("web1", "stop")]
    assert (await pods.get(ADMIN, "web2")).status_requested is RequestedStatus.ON
    with pytest.raises(PermissionDeniedError, match="owner carol needs USER permission"):
        await pods.start(CAROL, "web1")
    with pytest.raises(PermissionDeniedError, match="owner carol"):
        await pods.restart(CAROL, "web1")


async def test_a_grant_that_still_allows_mounting_stops_nothing(
    volumes: Volumes, pods: Pods, bus: Bus
) -> None:
    await _carols_pod(volumes, pods)
    bus.sent.clear()
    await volumes.set_volume_permission(ALICE, "data", "carol", "ADMIN")
    assert (await pods.get(ADMIN, "web1")).status_requested is RequestedStatus.ON
    assert bus.sent == []


async def test_a_forced_delete_stops_every_pod_mounting_it(
    volumes: Volumes, pods: Pods, bus: Bus
) -> None:
    await _carols_pod(volumes, pods)
    with pytest.raises(FailedPreconditionError, match="force=true"):
        await volumes.delete_volume(ALICE, "data")
    bus.sent.clear()
    await volumes.delete_volume(ALICE, "data", force=True)
    for pod_id in ("web1", "web2"):
        record = await pods.get(ADMIN, pod_id)
        assert record.status_requested is RequestedStatus.OFF
        assert "volume 'data' is being deleted by alice" in record.action_logs[-1]
    assert sorted(bus.sent) == [("web1", "stop"), ("web2", "stop")]
    with pytest.raises(FailedPreconditionError, match="no longer exists"):
        await pods.start(CAROL, "web1")


async def test_a_removed_snapshot_grant_stops_the_pods_mounting_it(
    volumes: Volumes, pods: Pods
) -> None:
    await volumes.create_volume(ALICE, VolumeRequest("data"))
    await volumes.create_snapshot(ALICE, SnapshotRequest("snap1", "data", "/"))
    await volumes.set_snapshot_permission(ALICE, "snap1", "carol", "READ")
    mount = {"snap1": MountRequest("tapissnapshot", "/snap")}
    await pods.create(CAROL, PodRequest(pod_id="web1", image="i", volume_mounts=mount))
    await volumes.delete_snapshot_permission(ALICE, "snap1", "carol")
    assert (await pods.get(ADMIN, "web1")).status_requested is RequestedStatus.OFF


async def test_a_mount_added_by_another_pod_admin_needs_the_owners_permission(
    volumes: Volumes, pods: Pods
) -> None:
    from services.api.domain.validation import PodUpdate

    await volumes.create_volume(ALICE, VolumeRequest("data"))
    await pods.create(CAROL, PodRequest(pod_id="web1", image="i"))
    await pods.set_permission(CAROL, "web1", "alice", "ADMIN")
    with pytest.raises(PermissionDeniedError, match="owner carol needs USER"):
        await pods.update(ALICE, PodUpdate(pod_id="web1", volume_mounts=MOUNT))
    await volumes.set_volume_permission(ALICE, "data", "carol", "USER")
    await pods.update(ALICE, PodUpdate(pod_id="web1", volume_mounts=MOUNT))
