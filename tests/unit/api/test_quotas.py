"""Quotas at the use-case level: the refusal names the quota and the use, users read their
own quota, only tenant admins change limits, and volumes are held to count and size."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.quotas import Quotas
from services.api.domain.validation import Limits, PodRequest
from services.api.domain.volume_inputs import SizeLimits, VolumeRequest
from services.api.domain.volumes import Volumes
from services.api.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    ResourceExhaustedError,
)
from services.common.db.database import Repositories
from services.common.quotas_model import Quota
from services.common.runtime.types import ExecResult, PodKey
from services.common.secretbox import SecretBox
from services.common.storage.fake import FakeVolumeStore
from services.common.storage.types import VolumeKey

NOW = datetime(2026, 12, 6, tzinfo=UTC)
ADMIN = Principal("dev", "root", is_admin=True)
ALICE = Principal("dev", "alice")
BOB = Principal("dev", "bob")
QUOTA = Quota(pods=2, volumes=2, cpu_millis=3000, mem_mib=100000, storage_mib=1500)


class NoCommands:
    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        raise AssertionError("not used")


class NoBus:
    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        return None


@pytest.fixture
def files() -> FakeVolumeStore:
    return FakeVolumeStore()


@pytest.fixture
def volumes(store: Repositories, files: FakeVolumeStore) -> Volumes:
    return Volumes(store=store, files=files, limits=SizeLimits(), clock=lambda: NOW, quota=QUOTA)


@pytest.fixture
def pods(store: Repositories, volumes: Volumes) -> Pods:
    return Pods(
        store=store,
        reconciler=NoBus(),
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=NoCommands(),
        mounts=volumes,
        quota=QUOTA,
    )


def web(pod_id: str, cpu: int = 1000) -> PodRequest:
    return PodRequest(pod_id=pod_id, image="pods-http:latest", resources={"cpu_limit": cpu})


async def test_the_refusal_names_the_quota_and_the_use(pods: Pods) -> None:
    await pods.create(ALICE, web("one"))
    await pods.create(ALICE, web("two"))
    with pytest.raises(ResourceExhaustedError, match="quota exceeded: pods 2 of 2 in use"):
        await pods.create(ALICE, web("three"))


async def test_starting_and_updating_are_held_to_cpu(pods: Pods) -> None:
    await pods.create(ALICE, web("one", cpu=2000))
    await pods.create(ALICE, web("two", cpu=1000))
    await pods.stop(ALICE, "two")
    from services.api.domain.validation import PodUpdate

    await pods.update(ALICE, PodUpdate(pod_id="two", resources={"cpu_limit": 2000}))  # OFF
    with pytest.raises(ResourceExhaustedError, match="cpu 2000 of 3000 millicores"):
        await pods.start(ALICE, "two")
    with pytest.raises(ResourceExhaustedError, match="cpu"):
        await pods.update(ALICE, PodUpdate(pod_id="one", resources={"cpu_limit": 4000}))


async def test_volumes_are_held_to_count_and_size_and_leave_no_storage(
    volumes: Volumes, files: FakeVolumeStore
) -> None:
    await volumes.create_volume(ALICE, VolumeRequest("vol1", size_limit_mib=1000))
    with pytest.raises(ResourceExhaustedError, match="storage 1000 of 1500 MiB in use"):
        await volumes.create_volume(ALICE, VolumeRequest("vol2", size_limit_mib=600))
    with pytest.raises(Exception):  # noqa: B017 - nothing was made in storage
        await files.usage_bytes(VolumeKey("dev", "vol2"))


async def test_users_read_their_own_quota_and_admins_set_them(
    store: Repositories, pods: Pods
) -> None:
    quotas = Quotas(store.quotas, QUOTA)
    await pods.create(ALICE, web("one"))
    view = await quotas.get(ALICE, "")
    assert view.username == "alice" and view.use.pods == 1 and view.limits == QUOTA
    with pytest.raises(PermissionDeniedError):
        await quotas.get(ALICE, "bob")
    with pytest.raises(PermissionDeniedError):
        await quotas.set(ALICE, "alice", {"pods": 100})
    with pytest.raises(InvalidArgumentError, match="pods"):
        await quotas.set(ADMIN, "alice", {"pods": -5})
    view = await quotas.set(ADMIN, "alice", {"pods": 5})
    assert view.limits.pods == 5 and view.overridden == {"pods"}
    await pods.create(ALICE, web("two", cpu=500))
    await pods.create(ALICE, web("three", cpu=500))
    view = await quotas.set(ADMIN, "alice", {"pods": None})
    assert view.limits.pods == 2 and not view.overridden
    assert (await quotas.get(BOB, "bob")).use.pods == 0
