"""The repositories keep desired and observed pod state on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.common.db.database import Repositories
from services.common.pods_model import ContainerStatus, Level, PodSpec, RequestedStatus, Status
from services.common.records import AlreadyExistsError, LastAdminError
from services.common.runtime.types import PodKey

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
KEY = PodKey("dev", "mypod")


async def _create(store: Repositories, key: PodKey = KEY, owner: str = "alice") -> None:
    await store.pods.create_pod(
        key,
        owner=owner,
        spec=PodSpec(image="pods-http:latest"),
        credentials_encrypted=None,
        now=NOW,
    )


async def test_a_created_pod_reads_back_as_requested_with_its_spec(store: Repositories) -> None:
    spec = PodSpec(template="postgres", description="db", environment_variables={"A": "1"})
    await store.pods.create_pod(KEY, owner="alice", spec=spec, credentials_encrypted="x", now=NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None
    assert pod.spec == spec
    assert pod.status is Status.REQUESTED
    assert pod.status_requested is RequestedStatus.ON
    assert pod.owner == "alice"
    assert pod.has_credentials
    assert pod.creation_ts == NOW
    assert pod.generation == 1 and pod.observed_generation == 0
    assert await store.pods.credentials(KEY) == "x"


async def test_a_duplicate_pod_id_in_the_same_tenant_is_refused_and_changes_nothing(
    store: Repositories,
) -> None:
    await _create(store)
    with pytest.raises(AlreadyExistsError, match="mypod"):
        await _create(store, owner="bob")
    pods = await store.pods.list_pods("dev")
    assert [p.owner for p in pods] == ["alice"]


async def test_the_same_pod_id_may_exist_in_two_tenants(store: Repositories) -> None:
    await _create(store)
    await _create(store, PodKey("other", "mypod"))
    assert len(await store.pods.list_pods("dev")) == 1
    assert len(await store.pods.list_pods("other")) == 1


async def test_list_filters_by_owner_and_orders_by_pod_id(store: Repositories) -> None:
    await _create(store, PodKey("dev", "zeta"), owner="alice")
    await _create(store, PodKey("dev", "alpha"), owner="alice")
    await _create(store, PodKey("dev", "beta"), owner="bob")
    assert [p.key.pod_id for p in await store.pods.list_pods("dev", "alice")] == ["alpha", "zeta"]


async def test_applied_moves_requested_to_creating_and_observation_to_available(
    store: Repositories,
) -> None:
    await _create(store)
    assert await store.pod_state.mark_applied(KEY, 1, "created", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.CREATING and pod.observed_generation == 1
    container = ContainerStatus(
        phase="running", ready=True, start_time=NOW, published={5000: 32768}
    )
    assert await store.pod_state.record_observation(KEY, Status.AVAILABLE, container, NOW)
    assert not await store.pod_state.record_observation(KEY, Status.AVAILABLE, container, NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None
    assert pod.status is Status.AVAILABLE
    assert pod.status_container == container
    assert pod.start_instance_ts == NOW
    assert any("status AVAILABLE" in line for line in pod.action_logs)


async def test_deletion_is_recorded_and_observations_no_longer_overwrite_it(
    store: Repositories,
) -> None:
    await _create(store)
    pod = await store.pods.request_deletion(KEY, NOW)
    assert pod is not None and pod.status is Status.DELETING and pod.deletion_requested
    await store.pod_state.record_observation(
        KEY, Status.AVAILABLE, ContainerStatus(phase="running"), NOW
    )
    assert not await store.pod_state.mark_applied(KEY, 2, "created", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.DELETING
    await store.pod_state.remove_pod(KEY)
    assert await store.pods.get_pod(KEY) is None
    assert await store.pods.request_deletion(KEY, NOW) is None


async def test_permanent_failure_shows_as_error_with_the_message(store: Repositories) -> None:
    await _create(store)
    await store.pod_state.mark_failed(KEY, 1, "image 'nope' is not available", NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.ERROR
    assert "nope" in pod.status_container.message


async def _append(store: Repositories, text: str, cursor: str, limit: int = 10_000) -> bool:
    position = await store.logs.log_position(KEY)
    assert position is not None
    run, after = position
    return await store.logs.append_logs(
        KEY, text, run=run, after=after, cursor=cursor, limit_bytes=limit
    )


async def test_logs_keep_only_the_newest_bytes_within_the_limit(store: Repositories) -> None:
    await _create(store)
    for i in range(10):
        assert await _append(store, f"line {i} " + "x" * 90 + "\n", f"c{i}", limit=350)
    logs = await store.logs.read_logs(KEY, limit_bytes=350)
    assert logs.endswith("line 9 " + "x" * 90 + "\n")
    assert "line 0 " not in logs
    assert len(logs.encode()) <= 350
    assert await store.logs.log_position(KEY) == (0, "c9")
    await store.logs.start_log_run(KEY, runs_kept=2)
    assert await store.logs.read_logs(KEY, 350) == ""
    assert await store.logs.log_position(KEY) == (1, "")
    assert "line 9" in await store.logs.read_logs(KEY, 350, previous=1)


async def test_a_read_overtaken_by_a_new_run_writes_nothing(store: Repositories) -> None:
    await _create(store)
    assert await _append(store, "old run\n", "c1")
    stale = await store.logs.log_position(KEY)
    await store.logs.start_log_run(KEY, runs_kept=3)  # a new container, while a read was going on
    assert stale is not None
    assert not await store.logs.append_logs(
        KEY, "new output\n", run=stale[0], after=stale[1], cursor="c2", limit_bytes=100
    )
    assert await store.logs.log_position(KEY) == (1, "")  # the next read starts the new run afresh
    assert await store.logs.read_logs(KEY, 100) == ""
    assert await store.logs.read_logs(KEY, 100, previous=1) == "old run\n"


async def test_two_readers_of_the_same_output_store_it_once(store: Repositories) -> None:
    await _create(store)
    results = await asyncio.gather(
        *(
            store.logs.append_logs(KEY, "same\n", run=0, after="", cursor="c1", limit_bytes=100)
            for _ in range(5)
        )
    )
    assert sorted(results) == [False, False, False, False, True]
    assert await store.logs.read_logs(KEY, 100) == "same\n"


async def test_the_creator_is_the_pods_admin_and_grants_are_listed_by_user(
    store: Repositories,
) -> None:
    await _create(store)
    await store.grants.set_permission(KEY, "carol", Level.READ)
    await store.grants.set_permission(KEY, "bob", Level.USER)
    assert await store.grants.permissions(KEY) == [
        ("alice", Level.ADMIN),
        ("bob", Level.USER),
        ("carol", Level.READ),
    ]
    assert await store.grants.permission(KEY, "bob") is Level.USER
    assert await store.grants.permission(KEY, "dave") is None
    assert [p.key.pod_id for p in await store.pods.readable_pods("dev", "carol")] == ["mypod"]
    assert await store.pods.readable_pods("dev", "dave") == []


async def test_a_pod_and_a_users_level_come_in_one_answer(store: Repositories) -> None:
    await _create(store)
    await store.grants.set_permission(KEY, "bob", Level.USER)
    found = await store.pods.pod_and_level(KEY, "bob")
    assert found is not None and found[1] is Level.USER
    assert found[0] == await store.pods.get_pod(KEY)
    stranger = await store.pods.pod_and_level(KEY, "dave")
    assert stranger is not None and stranger[1] is None
    assert await store.pods.pod_and_level(PodKey("dev", "nosuchpod"), "bob") is None
    assert await store.pods.pod_and_level(PodKey("other", KEY.pod_id), "alice") is None


async def test_the_last_admin_can_be_neither_removed_nor_demoted(store: Repositories) -> None:
    await _create(store)
    with pytest.raises(LastAdminError):
        await store.grants.delete_permission(KEY, "alice")
    with pytest.raises(LastAdminError):
        await store.grants.set_permission(KEY, "alice", Level.READ)
    await store.grants.set_permission(KEY, "bob", Level.ADMIN)
    assert await store.grants.delete_permission(KEY, "alice")
    assert not await store.grants.delete_permission(KEY, "alice")
    assert await store.grants.permissions(KEY) == [("bob", Level.ADMIN)]


async def test_removing_a_pod_removes_its_grants(store: Repositories) -> None:
    await _create(store)
    await store.pod_state.remove_pod(KEY)
    assert await store.grants.permissions(KEY) == []


async def test_stop_then_start_moves_the_desired_state_and_the_generation(
    store: Repositories,
) -> None:
    await _create(store)
    stopped = await store.pods.set_requested(KEY, RequestedStatus.OFF, NOW, "stop requested")
    assert stopped is not None and stopped.generation == 2
    await store.pod_state.mark_stopped(KEY, 2, NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status is Status.STOPPED and pod.observed_generation == 2
    started = await store.pods.set_requested(KEY, RequestedStatus.ON, NOW, "start requested")
    assert started is not None and started.status is Status.REQUESTED
    assert started.generation == 3


async def test_a_restart_returns_to_on_once_its_generation_is_applied(store: Repositories) -> None:
    await _create(store)
    restarting = await store.pods.set_requested(KEY, RequestedStatus.RESTART, NOW, "restart")
    assert restarting is not None
    await store.pod_state.finish_restart(KEY, restarting.generation - 1, NOW)  # stale: ignored
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status_requested is RequestedStatus.RESTART
    await store.pod_state.finish_restart(KEY, restarting.generation, NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.status_requested is RequestedStatus.ON


async def test_a_run_gets_its_stop_time_from_the_spec(store: Repositories) -> None:
    await store.pods.create_pod(
        KEY,
        owner="alice",
        spec=PodSpec(image="i", time_to_stop_default=600),
        credentials_encrypted=None,
        now=NOW,
    )
    container = ContainerStatus(phase="running", ready=True, start_time=NOW)
    await store.pod_state.record_observation(KEY, Status.AVAILABLE, container, NOW)
    pod = await store.pods.get_pod(KEY)
    assert pod is not None and pod.time_to_stop_ts == NOW + timedelta(seconds=600)
    updated = await store.pods.update_spec(
        KEY, PodSpec(image="i", time_to_stop_default=-1), NOW, reapply=False, why="update"
    )
    assert updated is not None and updated.time_to_stop_ts is None
    assert updated.generation == 1


async def test_only_the_newest_runs_keep_their_logs(store: Repositories) -> None:
    await _create(store)
    for run in range(4):
        assert await _append(store, f"run {run}\n", "c", limit=1000)
        await store.logs.start_log_run(KEY, runs_kept=3)
    assert await store.logs.read_logs(KEY, 1000) == ""
    assert await store.logs.read_logs(KEY, 1000, previous=1) == "run 3\n"
    assert await store.logs.read_logs(KEY, 1000, previous=2) == "run 2\n"
    assert await store.logs.read_logs(KEY, 1000, previous=3) == ""


async def test_pods_are_counted_by_observed_status(store: Repositories) -> None:
    assert await store.pods.count_by_status() == {}
    await _create(store)
    await _create(store, PodKey("dev", "other"))
    await _create(store, PodKey("t2", "mypod"))
    assert await store.pod_state.mark_applied(KEY, 1, "created", NOW)
    assert await store.pods.count_by_status() == {"REQUESTED": 2, "CREATING": 1}
