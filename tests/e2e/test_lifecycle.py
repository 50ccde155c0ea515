"""Pod lifecycle, updates and sharing through the real tapipy client on real Docker."""

from __future__ import annotations

import time

import psycopg2
import pytest
from tapipy.tapis import Tapis

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.refusals import refusal

pytestmark = [pytest.mark.docker, pytest.mark.stack]


def client(stack: Stack, user: str = "testuser", password: str = "testpass") -> Tapis:
    t = Tapis(base_url=stack.url, username=user, password=password)
    t.get_tokens()
    return t


def status_is(t: Tapis, pod_id: str, status: str) -> bool:
    return bool(t.pods.get_pod(pod_id=pod_id).status == status)


def restarted_and_available(t: Tapis, pod_id: str) -> bool:
    pod = t.pods.get_pod(pod_id=pod_id)
    return bool(pod.status_requested == "ON" and pod.status == "AVAILABLE")


def container_id(stack: Stack, pod_id: str) -> str:
    """The id of the pod's one container ("" while it has none, or two during a replace)."""
    containers = stack.containers(pod_id)
    return str(containers[0].id) if len(containers) == 1 else ""


def published_port(stack: Stack, pod_id: str, port: int) -> int:
    (container,) = stack.containers(pod_id)
    return int(container.attrs["NetworkSettings"]["Ports"][f"{port}/tcp"][0]["HostPort"])


def test_stop_start_restart_keep_credentials_and_replace_containers(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = client(stack)
    lifepg = cleanup.pod(unique("lifepg"))
    t.pods.create_pod(pod_id=lifepg, template="postgres")
    eventually(lambda: status_is(t, lifepg, "AVAILABLE"), 120, f"{lifepg} AVAILABLE")
    creds = t.pods.get_pod_credentials(pod_id=lifepg)
    first = container_id(stack, lifepg)

    t.pods.stop_pod(pod_id=lifepg)
    eventually(lambda: status_is(t, lifepg, "STOPPED"), 60, f"{lifepg} STOPPED")
    assert stack.containers(lifepg) == []

    t.pods.start_pod(pod_id=lifepg)
    eventually(lambda: status_is(t, lifepg, "AVAILABLE"), 120, f"{lifepg} AVAILABLE again")
    second = container_id(stack, lifepg)
    assert second != first
    again = t.pods.get_pod_credentials(pod_id=lifepg)
    assert (again.user_username, again.user_password) == (creds.user_username, creds.user_password)
    with (
        psycopg2.connect(
            host="127.0.0.1",
            port=published_port(stack, lifepg, 5432),
            dbname="postgres",
            user=creds.user_username,
            password=creds.user_password,
            connect_timeout=10,
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("select 1")
        assert cur.fetchone() == (1,)

    t.pods.restart_pod(pod_id=lifepg)
    eventually(
        lambda: container_id(stack, lifepg) not in ("", second),
        60,
        "a new container after restart",
    )
    # The restart is done when the spawner has recorded it (RESTART back to ON) and the new
    # container is ready. AVAILABLE alone may still be the old container's, not yet observed
    # gone, while the spawner is between creating the new one and recording the restart.
    eventually(
        lambda: restarted_and_available(t, lifepg), 120, f"{lifepg} ON and AVAILABLE after restart"
    )
    actions = t.pods.get_pod_logs(pod_id=lifepg).action_logs
    assert any("stop requested" in a for a in actions)
    assert any("restart requested" in a for a in actions)
    t.pods.delete_pod(pod_id=lifepg)


def test_update_applies_container_changes_by_restarting(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = client(stack)
    updpod = cleanup.pod(unique("updpod"))
    t.pods.create_pod(
        pod_id=updpod,
        image="pods-http:latest",
        resources={"cpu_limit": 500, "mem_limit": 256, "cpu_request": 100, "mem_request": 64},
    )
    eventually(lambda: status_is(t, updpod, "AVAILABLE"), 60, f"{updpod} AVAILABLE")
    (container,) = stack.containers(updpod)
    assert container.attrs["HostConfig"]["NanoCpus"] == 500_000_000
    assert container.attrs["HostConfig"]["Memory"] == 256 * 1024 * 1024
    # ... and the kernel enforces them: the container's own cgroup (v1 or v2) says so.
    (limits,) = t.pods.exec_pod_commands(
        pod_id=updpod,
        commands=[
            [
                "sh",
                "-c",
                "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
                "/sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null "
                "|| cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max",
            ]
        ],
    ).execution_results
    assert limits.stdout.split()[:2] == [str(256 * 1024 * 1024), "50000"], limits.stdout
    first = container.id

    t.pods.update_pod(pod_id=updpod, description="described")
    pod = t.pods.get_pod(pod_id=updpod)
    assert pod.description == "described"
    time.sleep(1.5)
    assert container_id(stack, updpod) == first  # description needs no restart

    t.pods.update_pod(pod_id=updpod, environment_variables={"POD_MESSAGE": "updated"})
    eventually(
        lambda: container_id(stack, updpod) not in ("", first),
        60,
        "a replaced container",
    )
    eventually(lambda: status_is(t, updpod, "AVAILABLE"), 60, f"{updpod} AVAILABLE after update")
    (container,) = stack.containers(updpod)
    assert "POD_MESSAGE=updated" in container.attrs["Config"]["Env"]
    # tapipy's update schema has no image field (it drops it), so send this one raw.
    status, _, body = stack.request(
        "PUT", f"/v3/pods/{updpod}", b'{"image": "other:1"}', token=stack.token()
    )
    assert status == 400 and "image" in str(body)
    t.pods.delete_pod(pod_id=updpod)


def test_sharing_levels_through_tapipy(stack: Stack, unique: Unique, cleanup: Cleanup) -> None:
    owner, other = client(stack), client(stack, "otheruser", "otherpass")
    sharedpg = cleanup.pod(unique("sharedpg"))
    owner.pods.create_pod(pod_id=sharedpg, template="postgres")
    refusal(lambda: other.pods.get_pod(pod_id=sharedpg), 404, f"pod '{sharedpg}' not found")

    owner.pods.set_pod_permission(pod_id=sharedpg, user="otheruser", level="READ")
    assert other.pods.get_pod(pod_id=sharedpg).pod_id == sharedpg
    assert sharedpg in [p.pod_id for p in other.pods.list_pods()]
    refusal(lambda: other.pods.get_pod_credentials(pod_id=sharedpg), 403, "USER")

    owner.pods.set_pod_permission(pod_id=sharedpg, user="otheruser", level="USER")
    assert other.pods.get_pod_credentials(pod_id=sharedpg).user_username == sharedpg
    refusal(lambda: other.pods.delete_pod(pod_id=sharedpg), 403, "ADMIN")

    perms = owner.pods.get_pod_permissions(pod_id=sharedpg).permissions
    assert perms == ["otheruser:USER", "testuser:ADMIN"]
    refusal(
        lambda: owner.pods.delete_pod_permission(pod_id=sharedpg, user="testuser"),
        400,
        "last ADMIN",
    )
    owner.pods.delete_pod_permission(pod_id=sharedpg, user="otheruser")
    refusal(lambda: other.pods.get_pod(pod_id=sharedpg), 404, f"pod '{sharedpg}' not found")
    owner.pods.delete_pod(pod_id=sharedpg)


def test_a_pod_is_stopped_when_its_time_to_stop_passes(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = client(stack)
    shortpod = cleanup.pod(unique("shortpod"))
    t.pods.create_pod(pod_id=shortpod, image="pods-http:latest", time_to_stop_default=5)
    eventually(lambda: status_is(t, shortpod, "AVAILABLE"), 60, f"{shortpod} AVAILABLE")
    assert t.pods.get_pod(pod_id=shortpod).time_to_stop_ts
    eventually(lambda: status_is(t, shortpod, "STOPPED"), 30, f"{shortpod} stopped by time")
    assert stack.containers(shortpod) == []
    actions = t.pods.get_pod_logs(pod_id=shortpod).action_logs
    assert any("time_to_stop reached" in a for a in actions)
    t.pods.delete_pod(pod_id=shortpod)


def test_exec_runs_commands_in_the_pod(stack: Stack, unique: Unique, cleanup: Cleanup) -> None:
    t = client(stack)
    execpod = cleanup.pod(unique("execpod"))
    t.pods.create_pod(pod_id=execpod, image="pods-http:latest")
    eventually(lambda: status_is(t, execpod, "AVAILABLE"), 60, f"{execpod} AVAILABLE")
    ran = t.pods.exec_pod_commands(
        pod_id=execpod,
        commands=[["echo", "hello world"], ["sh", "-c", "echo $0 >&2; exit 4", "oops"], ["true"]],
    )
    outputs = ran.execution_results
    assert [(o.success, o.exit_code) for o in outputs] == [(True, 0), (False, 4)]
    assert (ran.total_commands, ran.successful_commands) == (3, 1)
    assert outputs[0].stdout == "hello world\n"
    assert outputs[1].stderr == "oops\n"
    slow = t.pods.exec_pod_commands(pod_id=execpod, commands=["sleep", "30"], command_timeout=1)
    assert (slow.execution_results[0].timed_out, slow.execution_results[0].success) == (
        True,
        False,
    )
    t.pods.stop_pod(pod_id=execpod)
    eventually(lambda: status_is(t, execpod, "STOPPED"), 60, f"{execpod} STOPPED")
    refusal(
        lambda: t.pods.exec_pod_commands(pod_id=execpod, commands=["ls"]),
        400,
        "STOPPED",
        "only in an AVAILABLE pod",
    )
    t.pods.delete_pod(pod_id=execpod)


def test_logs_of_the_previous_run_survive_a_restart(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = client(stack)
    logpod = cleanup.pod(unique("logpod"))
    t.pods.create_pod(pod_id=logpod, image="pods-http:latest")
    eventually(lambda: status_is(t, logpod, "AVAILABLE"), 60, f"{logpod} AVAILABLE")
    first = container_id(stack, logpod)
    eventually(
        lambda: first[:12] in t.pods.get_pod_logs(pod_id=logpod).logs, 30, "first run's logs"
    )
    t.pods.restart_pod(pod_id=logpod)
    eventually(
        lambda: container_id(stack, logpod) not in ("", first),
        60,
        "a new container",
    )
    second = container_id(stack, logpod)
    eventually(
        lambda: second[:12] in t.pods.get_pod_logs(pod_id=logpod).logs, 30, "second run's logs"
    )
    assert first[:12] not in t.pods.get_pod_logs(pod_id=logpod).logs
    status, _, body = stack.request(
        "GET", f"/v3/pods/{logpod}/logs?previous=1", token=stack.token()
    )
    assert status == 200 and isinstance(body, dict)
    assert first[:12] in body["result"]["logs"]
    t.pods.delete_pod(pod_id=logpod)
