"""The reconciler moves a pod toward its desired state, idempotently, and reports outcomes
instead of raising. Runs against the in-memory runtime and a SQLite store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, event

from services.common.db.database import Repositories
from services.common.outcomes import Done, Failed, Retry, TemporaryError
from services.common.pods_model import (
    MountType,
    PodSpec,
    RequestedStatus,
    Status,
    VolumeMountSpec,
)
from services.common.restarts import RestartPolicy
from services.common.runtime.fake import FakeRuntime
from services.common.runtime.types import MountSpec, Phase, PodKey, StorageKind
from services.common.secretbox import SecretBox
from services.common.settings import Settings
from services.common.templates import Credentials, generate_credentials, seed_templates
from services.spawner.container_spec import build_container_spec
from services.spawner.reconcile import Reconciler

NOW = datetime(2026, 11, 28, tzinfo=UTC)
KEY = PodKey("dev", "web1")
TEMPLATES = {t.template_id: t for t in seed_templates(Settings())}
BOX = SecretBox(Fernet.generate_key())


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime("test")


def reconciler(store: Repositories, runtime: FakeRuntime, tmp_path: Path) -> Reconciler:
    return Reconciler(
        store=store,
        runtime=runtime,
        secrets=BOX,
        clock=lambda: NOW,
        data_dir=tmp_path,
        deployment_id="local",
    )


async def create(store: Repositories, spec: PodSpec, key: PodKey = KEY) -> None:
    encrypted = None
    if spec.template:
        creds = generate_credentials(TEMPLATES[spec.template], key.pod_id)
        assert creds is not None
        encrypted = BOX.encrypt(creds.to_json())
    await store.pods.create_pod(
        key, owner="alice", spec=spec, credentials_encrypted=encrypted, now=NOW
    )


async def test_a_requested_pod_gets_one_container_and_becomes_creating(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    assert await r.reconcile(KEY) == Done("created")
    assert await r.reconcile(KEY) == Done("adopted")
    assert len(await runtime.list_managed()) == 1
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.CREATING and pod.observed_generation == 1


async def test_a_new_container_s_log_run_and_the_applied_mark_are_one_write(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    """One write transaction after the container is made, not two: the spawner's writes
    compete with health's for the database just when the pod starts."""
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    writes: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE"):
            writes.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        assert await r.reconcile(KEY) == Done("created")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert len(writes) == 1
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.run == 1 and pod.status is Status.CREATING
    assert await r.reconcile(KEY) == Done("adopted")
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.run == 1  # an adopted container keeps its run


async def test_a_new_container_is_labelled_with_the_run_it_starts(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    assert await r.reconcile(KEY) == Done("created")
    state = await runtime.inspect(KEY)
    assert state is not None and state.run == 1
    await store.pods.set_requested(KEY, RequestedStatus.RESTART, NOW, "restart")
    assert await r.reconcile(KEY) == Done("created")
    state, pod = await runtime.inspect(KEY), await store.pods.get_pod(KEY)
    assert state is not None and pod is not None and state.run == pod.run == 2


async def test_a_container_made_by_an_interrupted_attempt_gets_its_run_when_adopted(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    """The spawner died after the engine started the container and before recording it:
    the next attempt adopts that container and records the run it was made to start."""
    await create(store, PodSpec(image="pods-http:latest"))
    record = await store.pods.get_pod(KEY)
    assert record is not None
    await runtime.ensure(build_container_spec(record, None, "local"))  # the lost attempt
    r = reconciler(store, runtime, tmp_path)
    assert await r.reconcile(KEY) == Done("adopted")
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.run == 1 and pod.status is Status.CREATING
    assert await r.reconcile(KEY) == Done("adopted")
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.run == 1  # recorded once


async def test_template_credentials_reach_the_container_environment(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    template = TEMPLATES["postgres"]
    await create(
        store,
        PodSpec(template="postgres", image=template.image, networking=template.networking),
    )
    record = await store.pods.get_pod(KEY)
    encrypted = await store.pods.credentials(KEY)
    assert record is not None and encrypted is not None
    spec = build_container_spec(record, Credentials.from_json(BOX.decrypt(encrypted)), "local")
    assert spec.image == "pods-postgres:15"
    assert spec.environment["POSTGRES_USER"] == "web1"
    assert len(spec.environment["POSTGRES_PASSWORD"]) >= 24
    assert [(p.port, p.protocol) for p in spec.ports] == [(5432, "postgres")]
    assert spec.spec_hash
    assert await reconciler(store, runtime, tmp_path).reconcile(KEY) == Done("created")


async def test_deletion_removes_the_container_then_the_row(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    await store.pods.request_deletion(KEY, NOW)
    assert await r.reconcile(KEY) == Done("removed")
    assert await store.pods.get_pod(KEY) is None
    assert await runtime.list_managed() == []
    assert await r.reconcile(KEY) == Done("nothing to remove")


async def test_an_orphan_container_without_a_row_is_removed(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    await store.pod_state.remove_pod(KEY)
    assert await r.reconcile(KEY) == Done("removed")


async def test_a_missing_image_is_a_permanent_failure_recorded_as_error(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    runtime.missing_images.add("ghost:1")
    await create(store, PodSpec(image="ghost:1"))
    outcome = await reconciler(store, runtime, tmp_path).reconcile(KEY)
    assert isinstance(outcome, Failed) and "ghost:1" in outcome.reason
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR
    assert "ghost:1" in pod.status_container.message


async def test_an_engine_outage_is_retried_later(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    runtime.fail_ensure(TemporaryError("engine down", delay=2.0), KEY)
    outcome = await reconciler(store, runtime, tmp_path).reconcile(KEY)
    assert outcome == Retry("engine down", 2.0)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.REQUESTED


async def test_an_errored_pod_is_not_restarted_by_a_replayed_command(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    runtime.exit(KEY, 3)
    await store.pod_state.mark_failed(KEY, 1, "exited", NOW)
    assert await r.reconcile(KEY) == Done("left error")


async def test_stop_removes_the_container_and_records_stopped(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    await store.pods.set_requested(KEY, RequestedStatus.OFF, NOW, "stop")
    assert await r.reconcile(KEY) == Done("stopped")
    assert await runtime.inspect(KEY) is None
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.STOPPED
    assert await r.reconcile(KEY) == Done("already stopped")


async def test_restart_makes_a_new_container_then_wants_on_again(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    first = await runtime.inspect(KEY)
    await store.pods.set_requested(KEY, RequestedStatus.RESTART, NOW, "restart")
    assert await r.reconcile(KEY) == Done("created")
    second = await runtime.inspect(KEY)
    assert first is not None and second is not None and first.started_at != second.started_at
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status_requested is RequestedStatus.ON
    assert await r.reconcile(KEY) == Done("adopted")


async def test_starting_an_exited_pod_gives_it_a_fresh_container(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    runtime.exit(KEY, 0)
    await store.pod_state.mark_failed(KEY, 1, "done", NOW)
    await store.pods.set_requested(KEY, RequestedStatus.ON, NOW, "start")
    assert await r.reconcile(KEY) == Done("created")
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase.value == "running"


async def test_volume_mounts_become_mounts_and_snapshots_are_read_only(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    mounts = {
        "data": VolumeMountSpec(MountType.VOLUME, "/data"),
        "snap1": VolumeMountSpec(MountType.SNAPSHOT, "/in", read_only=False),
        "logs": VolumeMountSpec(MountType.VOLUME, "/logs", sub_path="run1", read_only=True),
    }
    await create(store, PodSpec(image="pods-http:latest", volume_mounts=mounts))
    record = await store.pods.get_pod(KEY)
    assert record is not None and record.spec.volume_mounts == mounts
    spec = build_container_spec(record, None, "prod")
    assert spec.mounts == (
        MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-data", "/data", False),
        MountSpec(StorageKind.SNAPSHOT, "pods-prod-snap-dev-snap1", "/in", True),
        MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-logs", "/logs", True, "run1"),
    )
    without = build_container_spec(
        dataclasses.replace(record, spec=dataclasses.replace(record.spec, volume_mounts={})),
        None,
        "prod",
    )
    assert without.spec_hash != spec.spec_hash
    assert await reconciler(store, runtime, tmp_path).reconcile(KEY) == Done("created")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


POLICY = RestartPolicy(base=10, cap=40)


async def crashed(store: Repositories, runtime: FakeRuntime, r: Reconciler, at: datetime) -> None:
    """The pod's container exits with code 3 and health records it."""
    runtime.exit(KEY, 3)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None
    due = await store.pod_state.record_exit(
        KEY,
        run=pod.run,
        reason="container exited with code 3",
        run_seconds=1,
        policy=POLICY,
        now=at,
    )
    assert due is not None


async def test_an_ended_container_is_replaced_when_its_restart_is_due(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    clock = Clock()
    r = Reconciler(
        store=store,
        runtime=runtime,
        secrets=BOX,
        clock=clock,
        data_dir=tmp_path,
        deployment_id="local",
    )
    await create(store, PodSpec(image="pods-http:latest"))
    await r.reconcile(KEY)
    await crashed(store, runtime, r, NOW)  # first of a streak: due at once
    assert await r.reconcile(KEY) == Done("restarted")
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.RUNNING
    assert await r.reconcile(KEY) == Done("adopted")  # a replay changes nothing

    await crashed(store, runtime, r, NOW)  # second in a row: due in 10 s
    assert await r.reconcile(KEY) == Done("restart due in 10.0s")
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.EXITED  # left as it is until due
    clock.now = NOW + timedelta(seconds=10)
    assert await r.reconcile(KEY) == Done("restarted")
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.restart_count == 2 and pod.run == 3
    assert len(await runtime.list_managed()) == 1


async def test_a_paused_container_is_replaced(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    await create(store, PodSpec(image="pods-http:latest"))
    r = reconciler(store, runtime, tmp_path)
    await r.reconcile(KEY)
    runtime.pause(KEY)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None
    await store.pod_state.record_exit(
        KEY, run=pod.run, reason="container paused", run_seconds=1, policy=POLICY, now=NOW
    )
    assert await r.reconcile(KEY) == Done("restarted")
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.RUNNING


async def test_a_permanent_failure_is_recorded_once_and_not_tried_again(
    store: Repositories, runtime: FakeRuntime, tmp_path: Path
) -> None:
    runtime.missing_images.add("ghost:1")
    await create(store, PodSpec(image="ghost:1"))
    r = reconciler(store, runtime, tmp_path)
    assert isinstance(await r.reconcile(KEY), Failed)
    assert await r.reconcile(KEY) == Done("left error")  # a replayed command
    assert await r.reconcile(KEY) == Done("left error")
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.observed_generation == pod.generation
    assert sum(": error: " in line for line in pod.action_logs) == 1
    ensures = [call for call in runtime.calls if call[0] == "ensure"]
    assert len(ensures) == 1
