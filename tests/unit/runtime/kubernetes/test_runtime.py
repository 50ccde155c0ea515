"""KubernetesRuntime against FakeKubeApi, the in-memory double of our KubeApi wrapper:
create-or-adopt, replacement, ownership, removal, reads, logs, error translation, and the API
calls each Runtime method makes compared with the RBAC the deployment grants."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.kubernetes.client import (
    API_VERBS,
    SPAWNER_ACCESS,
    SPAWNER_RUNTIME_METHODS,
    KubeError,
)
from services.common.runtime.kubernetes.config import KubernetesConfig
from services.common.runtime.kubernetes.manifests import Placement, pod_manifest
from services.common.runtime.kubernetes.names import labels, object_annotations
from services.common.runtime.kubernetes.runtime import KubernetesRuntime
from services.common.runtime.naming import with_hash
from services.common.runtime.types import (
    ContainerSpec,
    ExecResult,
    LogChunk,
    MountSpec,
    Phase,
    PodKey,
    PortSpec,
    RuntimeEvent,
    StorageKind,
)

from .fake_api import FakeKubeApi

KEY = PodKey("dev", "web1")
NAME = "pods-prod-dev-web1"
SPEC = with_hash(
    ContainerSpec(
        key=KEY,
        image="pods-http:latest",
        environment={"A": "1", "B": "2"},
        ports=(PortSpec("default", 5000, "http"), PortSpec("side", 6000, "local_only")),
    )
)
CONFIG = KubernetesConfig(namespace="pods")


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


@pytest.fixture
async def runtime(api: FakeKubeApi) -> Any:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    yield runtime
    await runtime.aclose()


def owners(obj: dict[str, Any]) -> list[str]:
    return [ref["uid"] for ref in obj["metadata"].get("ownerReferences", [])]


def running(ready: bool = True) -> dict[str, Any]:
    return {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "main",
                "ready": ready,
                "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
            }
        ],
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# -- ensure --------------------------------------------------------------------------------


async def test_ensure_creates_secret_pod_and_owned_service(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    result = await runtime.ensure(SPEC)
    assert result.action == "created"
    assert result.state.phase is Phase.CREATED and result.state.spec_hash == SPEC.spec_hash
    assert result.state.name == NAME and result.state.published == {}
    pod, built = api.get("pods", NAME), pod_manifest("prod", SPEC, CONFIG)
    assert pod["spec"] == built["spec"]
    assert {k: pod["metadata"][k] for k in built["metadata"]} == built["metadata"]
    uid = pod["metadata"]["uid"]
    assert owners(api.get("services", NAME)) == [uid]
    assert owners(api.get("secrets", NAME)) == [uid]
    assert api.get("secrets", NAME)["data"] == {"A": b64("1"), "B": b64("2")}
    ports = api.get("services", NAME)["spec"]["ports"]
    assert [(p["name"], p["port"]) for p in ports] == [("default", 5000)]


async def test_a_second_ensure_adopts_without_writing(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    api.calls.clear()
    result = await runtime.ensure(SPEC)
    assert result.action == "adopted"
    assert {method for method, _ in api.calls} == {"read"}


async def test_a_stopped_pod_with_the_same_spec_is_adopted_as_it_is(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    api.set_status(
        NAME,
        {
            "phase": "Failed",
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": False,
                    "state": {"terminated": {"exitCode": 3, "reason": "Error"}},
                }
            ],
        },
    )
    result = await runtime.ensure(SPEC)
    assert result.action == "adopted"
    assert (result.state.phase, result.state.exit_code) == (Phase.EXITED, 3)


async def test_a_pod_deleted_behind_our_back_is_recreated_with_everything(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    api.delete("pods", NAME)  # kubectl delete pod: the garbage collector takes the rest
    assert api.names("services") == api.names("secrets") == []
    result = await runtime.ensure(SPEC)
    assert result.action == "created"
    uid = api.get("pods", NAME)["metadata"]["uid"]
    assert owners(api.get("services", NAME)) == owners(api.get("secrets", NAME)) == [uid]


async def test_a_changed_spec_replaces_the_pod_and_keeps_service_and_secret(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    service_uid = api.get("services", NAME)["metadata"]["uid"]
    changed = with_hash(dataclasses.replace(SPEC, environment={"A": "10"}))
    result = await runtime.ensure(changed)
    assert result.action == "replaced"
    pod = api.get("pods", NAME)
    assert pod["metadata"]["annotations"]["org.pods-service.spec-hash"] == changed.spec_hash
    secret = api.get("secrets", NAME)
    assert secret["data"] == {"A": b64("10")}  # B removed
    assert api.get("services", NAME)["metadata"]["uid"] == service_uid  # kept (Orphan)
    assert owners(secret) == owners(api.get("services", NAME)) == [pod["metadata"]["uid"]]


async def test_mounts_become_claim_volumes_and_changing_them_replaces_the_pod(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    data = MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-data", "/data", False)
    spec = with_hash(dataclasses.replace(SPEC, mounts=(data,)))
    assert (await runtime.ensure(spec)).action == "created"
    pod = api.get("pods", NAME)
    assert pod["spec"]["volumes"] == [
        {
            "name": "data-0",
            "persistentVolumeClaim": {"claimName": "pods-prod-vol-dev-data", "readOnly": False},
        }
    ]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data-0", "mountPath": "/data", "readOnly": False}
    ]
    snapshot = MountSpec(StorageKind.SNAPSHOT, "pods-prod-snap-dev-s1", "/snap", True)
    changed = with_hash(dataclasses.replace(SPEC, mounts=(data, snapshot)))
    assert (await runtime.ensure(changed)).action == "replaced"
    claims = [
        v["persistentVolumeClaim"]["claimName"] for v in api.get("pods", NAME)["spec"]["volumes"]
    ]
    assert claims == ["pods-prod-vol-dev-data", "pods-prod-snap-dev-s1"]


async def test_replacing_a_pod_that_terminates_slowly_is_retried(api: FakeKubeApi) -> None:
    api.graceful = True
    runtime = KubernetesRuntime("prod", CONFIG, api)
    await runtime.ensure(SPEC)
    changed = with_hash(dataclasses.replace(SPEC, image="pods-http:2"))
    with pytest.raises(TemporaryError, match="waiting for the previous one") as first:
        await runtime.ensure(changed)
    assert first.value.delay == 2.0
    with pytest.raises(TemporaryError, match="still terminating"):
        await runtime.ensure(changed)
    api.finish_termination(NAME)
    assert api.names("services") == api.names("secrets") == [NAME]  # orphaned, not deleted
    result = await runtime.ensure(changed)
    assert result.action == "created"
    uid = api.get("pods", NAME)["metadata"]["uid"]
    assert owners(api.get("services", NAME)) == owners(api.get("secrets", NAME)) == [uid]


async def test_changed_ports_update_the_service_and_no_routed_port_removes_it(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    more = with_hash(
        dataclasses.replace(
            SPEC, ports=(PortSpec("default", 5000, "http"), PortSpec("db", 5432, "postgres"))
        )
    )
    await runtime.ensure(more)
    ports = api.get("services", NAME)["spec"]["ports"]
    assert [(p["name"], p["port"]) for p in ports] == [("default", 5000), ("db", 5432)]
    local = with_hash(dataclasses.replace(SPEC, ports=(PortSpec("side", 6000, "local_only"),)))
    await runtime.ensure(local)
    assert api.names("services") == []


async def test_a_concurrent_creator_is_adopted(
    runtime: KubernetesRuntime, api: FakeKubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_read = api.read
    hidden = {"pods": 1}

    def read_missing_once(kind: str, name: str) -> Any:
        if hidden.get(kind):  # the other spawner creates it right after our read
            hidden[kind] -= 1
            api.add_object("pods", pod_manifest("prod", SPEC, CONFIG))
            return None
        return real_read(kind, name)

    monkeypatch.setattr(api, "read", read_missing_once)
    result = await runtime.ensure(SPEC)
    assert result.action == "adopted"
    assert api.names("pods") == [NAME]


def foreign(kind: str) -> dict[str, Any]:
    other = PodKey("dev", "web1")
    body: dict[str, Any] = {
        "metadata": {
            "name": NAME,
            "labels": labels("other", other),
            "annotations": object_annotations("other", other),
        }
    }
    if kind == "pods":
        body["spec"] = {"containers": [{"name": "main", "image": "x"}]}
    if kind == "services":
        body["spec"] = {"ports": [{"port": 1}]}
    return body


@pytest.mark.parametrize("kind", ["pods", "secrets", "services"])
async def test_objects_of_someone_else_are_never_touched(
    runtime: KubernetesRuntime, api: FakeKubeApi, kind: str
) -> None:
    api.add_object(kind, foreign(kind))
    before = api.get(kind, NAME)
    with pytest.raises(PermanentError, match="did not create for pod 'web1'"):
        await runtime.ensure(SPEC)
    assert api.get(kind, NAME) == before
    assert not {m for m, _ in api.calls} & {"patch", "delete"}
    # What ensure made before it met the foreign object is ours to remove; that one is not.
    assert await runtime.remove(KEY) is (kind != "secrets")
    assert api.get(kind, NAME) == before


async def test_an_unknown_compute_queue_fails_before_any_call(
    runtime: KubernetesRuntime, api: FakeKubeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "services.common.runtime.kubernetes.runtime.pod_manifest",
        lambda d, s, c: pod_manifest(d, s, c, Placement(compute_queue="gpu")),
    )
    with pytest.raises(PermanentError, match="compute queue 'gpu'"):
        await runtime.ensure(SPEC)
    assert api.calls == []


# -- remove --------------------------------------------------------------------------------


async def test_remove_deletes_all_three_then_finds_nothing(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    assert await runtime.remove(KEY) is True
    assert api.names("pods") == api.names("services") == api.names("secrets") == []
    assert await runtime.remove(KEY) is False


async def test_remove_cleans_up_a_secret_left_by_a_failed_ensure(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    real_create = api.create

    def pods_unreachable(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if kind == "pods":
            raise KubeError(None, "Unreachable", "connection reset")
        return real_create(kind, body)

    api.create = pods_unreachable  # type: ignore[method-assign]
    with pytest.raises(TemporaryError):
        await runtime.ensure(SPEC)  # the Secret exists, the Pod does not
    assert (api.names("secrets"), api.names("pods")) == ([NAME], [])
    assert await runtime.remove(KEY) is True
    assert api.names("secrets") == []


# -- reads ---------------------------------------------------------------------------------


async def test_inspect_reports_the_pod(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    assert await runtime.inspect(KEY) is None
    await runtime.ensure(SPEC)
    api.set_status(NAME, running(ready=False))
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.CREATED
    api.set_status(NAME, running(ready=True))
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.RUNNING


async def test_inspect_ignores_a_foreign_pod(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    api.add_object("pods", foreign("pods"))
    assert await runtime.inspect(KEY) is None


async def test_list_managed_lists_only_this_deployment_by_key(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    other = KubernetesRuntime("other", CONFIG, api)
    for pod_id in ("zed", "abc"):
        await runtime.ensure(with_hash(dataclasses.replace(SPEC, key=PodKey("dev", pod_id))))
    await other.ensure(SPEC)
    states = await runtime.list_managed()
    assert [s.key.pod_id for s in states] == ["abc", "zed"]
    assert [s.key for s in await other.list_managed()] == [KEY]


# -- logs ----------------------------------------------------------------------------------


async def test_logs_are_read_after_the_cursor(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    await runtime.ensure(SPEC)
    api.write_log(NAME, "2024-05-01T10:00:00.100000000Z", "one\n")
    api.calls.clear()
    assert await runtime.logs_since(KEY, "", 1000) == LogChunk("", "")  # not started yet
    assert api.calls == [("read", "pods")]
    api.set_status(NAME, running())
    first = await runtime.logs_since(KEY, "", 1000)
    assert first == LogChunk("one\n", "2024-05-01T10:00:00.100000000Z")
    api.write_log(NAME, "2024-05-01T10:00:00.200000000Z", "two\n")
    api.write_log(NAME, "2024-05-01T10:00:01.000000000Z", "three\n")
    second = await runtime.logs_since(KEY, first.cursor, 1000)
    assert second == LogChunk("two\nthree\n", "2024-05-01T10:00:01.000000000Z")
    assert await runtime.logs_since(KEY, second.cursor, 1000) == LogChunk("", second.cursor)


async def test_logs_keep_the_last_bytes_over_several_pages(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    lines = [f"line {n:05d} {'x' * 80}\n" for n in range(2000)]  # ~230 KB with stamps
    for n, line in enumerate(lines):
        api.write_log(NAME, f"2024-05-01T10:{n // 60:02d}:{n % 60:02d}.000000001Z", line)
    api.calls.clear()
    chunk = await runtime.logs_since(KEY, "", 1000)
    assert chunk.text == "".join(lines)[-1000:].split("\n", 1)[1]
    assert chunk.cursor == "2024-05-01T10:33:19.000000001Z"
    assert api.calls.count(("pod_log", "pods/log")) == 4  # 64 KiB pages


async def test_logs_of_an_absent_pod_are_empty(runtime: KubernetesRuntime) -> None:
    assert await runtime.logs_since(KEY, "2024-05-01T10:00:00Z", 10) == LogChunk(
        "", "2024-05-01T10:00:00Z"
    )


async def test_a_bad_log_cursor_is_permanent(runtime: KubernetesRuntime) -> None:
    with pytest.raises(PermanentError, match="log cursor"):
        await runtime.logs_since(KEY, "42", 10)


# -- exec ----------------------------------------------------------------------------------


async def test_exec_runs_in_the_running_container(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    seen: list[tuple[list[str], float, int]] = []

    def handler(argv: list[str], timeout: float, limit: int) -> ExecResult:
        seen.append((argv, timeout, limit))
        return ExecResult(exit_code=3, stdout="out\n", stderr="err\n")

    api.exec_handler = handler
    await runtime.ensure(SPEC)
    with pytest.raises(PermanentError, match="has no running container"):
        await runtime.exec(KEY, ["ls"], 5, 100)  # still pending
    api.set_status(NAME, running(ready=False))
    result = await runtime.exec(KEY, ("ls", "-l"), 5, 100)
    assert result == ExecResult(exit_code=3, stdout="out\n", stderr="err\n")
    assert seen == [(["ls", "-l"], 5, 100)]
    with pytest.raises(PermanentError, match="has no running container"):
        await runtime.exec(PodKey("dev", "other"), ["ls"], 5, 100)


async def test_exec_runs_on_its_own_threads_and_a_cancelled_caller_stops_it(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    threads: list[str] = []
    entered = threading.Event()

    def handler(argv: list[str], timeout: float, limit: int) -> ExecResult:
        threads.append(threading.current_thread().name)
        entered.set()
        stop = api.exec_stops[-1]
        assert stop is not None
        stopped = stop.wait(10)  # the real client polls its stop event the same way
        return ExecResult(exit_code=None if stopped else 0, stdout="", stderr="", timed_out=True)

    api.exec_handler = handler
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    task = asyncio.create_task(runtime.exec(KEY, ["sleep", "600"], 600, 100))
    assert await asyncio.to_thread(entered.wait, 10)
    # lifecycle calls do not wait behind the running command
    assert (await asyncio.wait_for(runtime.inspect(KEY), 5)) is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stop = api.exec_stops[-1]
    assert stop is not None and await asyncio.to_thread(stop.wait, 5)
    assert threads[0].startswith("exec")


async def test_exec_errors_are_translated(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    api.fail("exec", KubeError(403, "WebSocketFailed", "Handshake status 403 Forbidden"))
    with pytest.raises(PermanentError, match="403"):
        await runtime.exec(KEY, ["ls"], 5, 100)
    api.fail("exec", KubeError(None, "Unreachable", "reset"))
    with pytest.raises(TemporaryError):
        await runtime.exec(KEY, ["ls"], 5, 100)


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected", "delay"),
    [
        (KubeError(None, "Unreachable", "connection refused"), TemporaryError, 5.0),
        (KubeError(503, "ServiceUnavailable", "etcd leader changed"), TemporaryError, 1.0),
        (KubeError(429, "TooManyRequests", "slow down"), TemporaryError, 5.0),
        (KubeError(409, "Conflict", "the object has been modified"), TemporaryError, 1.0),
        (KubeError(401, "Unauthorized", "token expired"), TemporaryError, 5.0),
        (
            KubeError(403, "Forbidden", "exceeded quota: pods, requested: cpu=2"),
            PermanentError,
            None,
        ),
        (
            KubeError(422, "Invalid", "spec.containers[0].image: Required value"),
            PermanentError,
            None,
        ),
    ],
)
async def test_api_errors_become_temporary_or_permanent(
    runtime: KubernetesRuntime,
    api: FakeKubeApi,
    error: KubeError,
    expected: type[Exception],
    delay: float | None,
) -> None:
    api.fail("create", error)
    with pytest.raises(expected) as raised:
        await runtime.ensure(SPEC)
    assert error.message in str(raised.value)
    if delay is not None:
        assert isinstance(raised.value, TemporaryError) and raised.value.delay == delay


async def test_the_api_is_connected_on_first_use_only() -> None:
    made: list[FakeKubeApi] = []

    def factory() -> FakeKubeApi:
        made.append(FakeKubeApi())
        return made[-1]

    runtime = KubernetesRuntime("prod", CONFIG, api_factory=factory)
    assert made == []
    assert await runtime.inspect(KEY) is None
    assert await runtime.inspect(KEY) is None
    assert len(made) == 1


# -- RBAC ----------------------------------------------------------------------------------


async def _scenario(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> dict[str, set[tuple[str, str]]]:
    """Runs every Runtime method through the paths that call the API; returns the
    (verb, resource) pairs each method used."""
    used: dict[str, set[tuple[str, str]]] = {}

    async def call(method: str, run: Callable[[], Any]) -> Any:
        api.calls.clear()
        result = await run()
        used.setdefault(method, set()).update(
            (verb, resource) for name, resource in api.calls for verb in API_VERBS[name][0]
        )
        return result

    await call("ensure", lambda: runtime.ensure(SPEC))
    changed = with_hash(dataclasses.replace(SPEC, environment={"A": "3"}))
    await call("ensure", lambda: runtime.ensure(changed))  # patch secret, delete/create pod
    await call("ensure", lambda: runtime.ensure(with_hash(dataclasses.replace(changed, ports=()))))
    await call("ensure", lambda: runtime.ensure(changed))
    api.set_status(NAME, running())
    api.write_log(NAME, "2024-05-01T10:00:00Z", "hello\n")
    await call("inspect", lambda: runtime.inspect(KEY))
    await call("list_managed", runtime.list_managed)
    await call("logs_since", lambda: runtime.logs_since(KEY, "", 100))
    await call("exec", lambda: runtime.exec(KEY, ["true"], 5, 100))

    async def first_event() -> RuntimeEvent:
        events = runtime.watch()
        task = asyncio.ensure_future(anext(events))
        while not api.open_watches():
            await asyncio.sleep(0.01)
        api.set_status(NAME, running(ready=False))
        event = await asyncio.wait_for(task, 5)
        await events.aclose()  # type: ignore[attr-defined]
        return event

    assert await call("watch", first_event) == RuntimeEvent(KEY, "update")
    await call("inspect", lambda: runtime.inspect(KEY))  # from the cache now
    api.graceful = True  # the pod terminates slowly: remove finds and deletes all three
    await call("remove", lambda: runtime.remove(KEY))
    return used


def _granted(*access: dict[str, frozenset[str]]) -> set[tuple[str, str]]:
    return {
        (verb, resource) for rules in access for resource, verbs in rules.items() for verb in verbs
    }


async def test_the_spawner_uses_exactly_the_access_its_role_grants(api: FakeKubeApi) -> None:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    try:
        used = await _scenario(runtime, api)
    finally:
        await runtime.aclose()
    spawner = set().union(*(used[m] for m in SPAWNER_RUNTIME_METHODS))
    assert spawner == _granted(dict(SPAWNER_ACCESS))
    for name, (_verbs, resources) in API_VERBS.items():
        assert all(r in resources for m, r in api.calls if m == name)


async def test_watch_reports_a_missing_configuration_as_temporary() -> None:
    def no_cluster() -> FakeKubeApi:
        raise KubeError(None, "NoConfiguration", "no kubeconfig and not in a cluster")

    runtime = KubernetesRuntime("prod", CONFIG, api_factory=no_cluster)
    with pytest.raises(TemporaryError, match="no kubeconfig"):
        await anext(runtime.watch())
    with pytest.raises(TemporaryError, match="no kubeconfig"):
        await runtime.ensure(SPEC)
