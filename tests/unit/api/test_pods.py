"""The pod use cases: owner-only access, credentials for every pod, and a pod recorded
even when the command bus is down (the resync publishes it later)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from services.api.domain.execution import ExecRequest
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import Limits, PodRequest, PodUpdate
from services.api.domain.volume_inputs import SizeLimits
from services.api.domain.volumes import Volumes
from services.api.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.common.db.database import Repositories
from services.common.outcomes import TemporaryError
from services.common.pods_model import ContainerStatus, Level, Status
from services.common.runtime.types import ExecResult, PodKey
from services.common.secretbox import SecretBox
from services.common.settings import Settings
from services.common.storage.fake import FakeVolumeStore
from services.common.templates import seed_templates

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ALICE = Principal("dev", "alice")
BOB = Principal("dev", "bob")
ADMIN = Principal("dev", "root", is_admin=True)


class Requests:
    def __init__(self) -> None:
        self.sent: list[tuple[PodKey, str]] = []
        self.down = False

    async def request_reconcile(self, key: PodKey, reason: str) -> None:
        if self.down:
            raise TemporaryError("nats is down")
        self.sent.append((key, reason))


class EchoRunner:
    async def run(
        self, key: PodKey, user: str, argv: Sequence[str], timeout: float, limit_bytes: int
    ) -> ExecResult:
        return ExecResult(exit_code=0, stdout=f"{user}: {' '.join(argv)}", stderr="")


@pytest.fixture
def requests() -> Requests:
    return Requests()


@pytest.fixture
def volumes(store: Repositories) -> Volumes:
    return Volumes(store=store, files=FakeVolumeStore(), limits=SizeLimits(), clock=lambda: NOW)


@pytest.fixture
async def pods(store: Repositories, requests: Requests, volumes: Volumes) -> Pods:
    await store.catalog.seed_templates("dev", seed_templates(Settings()), NOW)
    return Pods(
        store=store,
        reconciler=requests,
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: datetime(2026, 11, 28, tzinfo=UTC),
        runner=EchoRunner(),
        mounts=volumes,
    )


async def test_create_records_the_pod_and_asks_for_a_reconcile(
    pods: Pods, requests: Requests
) -> None:
    record = await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    assert record.owner == "alice"
    assert requests.sent == [(PodKey("dev", "web1"), "create")]


async def test_a_pod_is_recorded_even_when_the_bus_is_down(pods: Pods, requests: Requests) -> None:
    requests.down = True
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    assert (await pods.get(ALICE, "web1")).key.pod_id == "web1"


async def test_other_users_cannot_see_a_pod_but_admins_can(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    for call in (pods.get, pods.logs, pods.credentials, pods.delete):
        with pytest.raises(NotFoundError, match="web1"):
            await call(BOB, "web1")
    assert await pods.list_pods(BOB) == []
    assert [p.key.pod_id for p in await pods.list_pods(ADMIN)] == ["web1"]
    assert (await pods.get(ADMIN, "web1")).owner == "alice"


async def test_every_pod_has_credentials_named_after_it_as_in_tapis(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="db1", template="postgres"))
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    templated = await pods.credentials(ALICE, "db1")
    custom = await pods.credentials(ALICE, "web1")
    assert templated.username == "db1" and len(templated.password) >= 24
    assert custom.username == "web1" and len(custom.password) >= 24
    assert custom.environment == {}  # a custom image is handed them by placeholders only
    assert custom.password != templated.password


async def test_duplicates_are_refused_and_a_bad_id_is_invalid(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(AlreadyExistsError):
        await pods.create(BOB, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(InvalidArgumentError, match="pod_id"):
        await pods.get(ALICE, "../etc")


async def test_delete_marks_the_pod_and_asks_for_a_reconcile(
    pods: Pods, requests: Requests
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    record = await pods.delete(ALICE, "web1")
    assert record.deletion_requested
    assert requests.sent[-1] == (PodKey("dev", "web1"), "delete")


LEVEL_MATRIX = [
    # (call, needed level): Tapis's levels (README, "Permission levels, call by call")
    ("get", "READ"),
    ("logs", "READ"),
    ("permissions", "USER"),
    ("credentials", "USER"),
    ("start", "ADMIN"),
    ("stop", "ADMIN"),
    ("restart", "ADMIN"),
    ("delete", "ADMIN"),
]


@pytest.mark.parametrize("granted", [None, "READ", "USER", "ADMIN"])
@pytest.mark.parametrize(("call", "needed"), LEVEL_MATRIX)
async def test_each_call_needs_its_level_and_strangers_see_nothing(
    pods: Pods, granted: str | None, call: str, needed: str
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="db1", template="postgres"))
    if granted:
        await pods.set_permission(ALICE, "db1", "bob", granted)
    attempt = getattr(pods, call)(BOB, "db1")
    order = ["READ", "USER", "ADMIN"]
    if granted is None:
        with pytest.raises(NotFoundError):
            await attempt
    elif order.index(granted) < order.index(needed):
        with pytest.raises(PermissionDeniedError, match=needed):
            await attempt
    else:
        await attempt


async def test_a_shared_pod_is_listed_for_the_user_it_is_shared_with(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    await pods.set_permission(ALICE, "web1", "bob", "USER")
    assert [p.key.pod_id for p in await pods.list_pods(BOB)] == ["web1"]
    assert await pods.permissions(BOB, "web1") == [("alice", Level.ADMIN), ("bob", Level.USER)]


async def test_permission_changes_are_validated_and_keep_an_admin(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(InvalidArgumentError, match="level"):
        await pods.set_permission(ALICE, "web1", "bob", "OWNER")
    with pytest.raises(InvalidArgumentError, match="user"):
        await pods.set_permission(ALICE, "web1", "../bob", "READ")
    with pytest.raises(FailedPreconditionError, match="last ADMIN"):
        await pods.delete_permission(ALICE, "web1", "alice")
    with pytest.raises(NotFoundError, match="bob"):
        await pods.delete_permission(ALICE, "web1", "bob")


async def test_an_update_says_what_changed_and_whether_it_restarts(
    pods: Pods, requests: Requests
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    same = await pods.update(ALICE, PodUpdate(pod_id="web1", description=""))
    assert "unchanged" in same.message
    described = await pods.update(ALICE, PodUpdate(pod_id="web1", description="new"))
    assert "description" in described.message and "no restart" in described.message
    assert described.record.generation == 1
    commanded = await pods.update(ALICE, PodUpdate(pod_id="web1", command=["sh", "-c", "x"]))
    assert "restarted" in commanded.message
    assert commanded.record.generation == 2
    assert requests.sent[-1] == (PodKey("dev", "web1"), "update")
    with pytest.raises(InvalidArgumentError, match="image"):
        await pods.update(ALICE, PodUpdate(pod_id="web1", image="other:1"))
    with pytest.raises(InvalidArgumentError, match="status_requested"):
        await pods.update(ALICE, PodUpdate(pod_id="web1", status_requested="PAUSE"))


async def test_a_pod_created_off_is_recorded_stopped_and_starts_later(
    pods: Pods, requests: Requests
) -> None:
    record = await pods.create(
        ALICE, PodRequest(pod_id="web1", image="pods-http:latest", status_requested="OFF")
    )
    assert (record.status_requested.value, record.status) == ("OFF", Status.STOPPED)
    assert "(OFF)" in record.action_logs[-1]
    started = await pods.start(ALICE, "web1")
    assert (started.record.status_requested.value, started.record.status) == (
        "ON",
        Status.REQUESTED,
    )
    assert requests.sent[-1] == (PodKey("dev", "web1"), "start")


async def test_time_to_stop_instance_holds_for_one_run_as_in_tapis(pods: Pods) -> None:
    await pods.create(
        ALICE, PodRequest(pod_id="web1", image="pods-http:latest", time_to_stop_instance=600)
    )
    assert (await pods.get(ALICE, "web1")).spec.time_to_stop_instance == 600
    stopped = await pods.stop(ALICE, "web1")
    assert stopped.record.spec.time_to_stop_instance is None
    assert stopped.record.time_to_stop_ts is None


async def test_a_pod_cannot_be_created_restarting(pods: Pods) -> None:
    with pytest.raises(InvalidArgumentError, match="ON or OFF"):
        await pods.create(
            ALICE, PodRequest(pod_id="web1", image="pods-http:latest", status_requested="RESTART")
        )


async def test_an_update_may_stop_start_or_restart_the_pod(pods: Pods, requests: Requests) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    stopped = await pods.update(ALICE, PodUpdate(pod_id="web1", status_requested="OFF"))
    assert stopped.record.status_requested.value == "OFF"
    assert "stop requested" in stopped.message
    started = await pods.update(
        ALICE, PodUpdate(pod_id="web1", status_requested="ON", command=["sh", "-c", "x"])
    )
    assert (started.record.status_requested.value, started.record.status) == (
        "ON",
        Status.REQUESTED,
    )
    assert started.record.spec.command == ("sh", "-c", "x")
    assert "command" in started.message and "start requested" in started.message
    assert requests.sent[-1] == (PodKey("dev", "web1"), "start")
    restarted = await pods.update(ALICE, PodUpdate(pod_id="web1", status_requested="RESTART"))
    assert restarted.record.status_requested.value == "RESTART"


async def test_a_user_may_update_but_only_an_admin_may_use_the_lifecycle_calls(
    pods: Pods,
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    await pods.set_permission(ALICE, "web1", "bob", "USER")
    updated = await pods.update(BOB, PodUpdate(pod_id="web1", description="bob's"))
    assert updated.record.spec.description == "bob's"
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await pods.stop(BOB, "web1")
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await pods.exec(BOB, "web1", ExecRequest(commands=["ls"]))


async def test_stop_and_start_are_idempotent_with_clear_messages(pods: Pods) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    assert "already" in (await pods.start(ALICE, "web1")).message
    assert "stop requested" in (await pods.stop(ALICE, "web1")).message
    assert "already" in (await pods.stop(ALICE, "web1")).message


async def test_commands_run_only_in_an_available_pod(pods: Pods, store: Repositories) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(FailedPreconditionError, match="REQUESTED"):
        await pods.exec(ALICE, "web1", ExecRequest(commands=["ls"]))
    await store.pod_state.record_observation(
        PodKey("dev", "web1"), Status.AVAILABLE, ContainerStatus(phase="running"), NOW
    )
    report = await pods.exec(ALICE, "web1", ExecRequest(commands=[["ls", "-l"], ["echo", "a b"]]))
    assert [o.result.stdout for o in report.outputs] == ["alice: ls -l", "alice: echo a b"]
    assert [o.finished for o in report.outputs] == [NOW, NOW]  # the pods' clock
