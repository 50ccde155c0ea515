"""KubernetesRuntime against FakeKubeApi, the in-memory double of our KubeApi wrapper:
ensure (create-or-adopt, replacement of a changed or terminating pod, mounts and ports,
ownership: objects of someone else are never touched) and remove."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import with_hash
from services.common.runtime.types import MountSpec, Phase, PortSpec, StorageKind
from services.spawner.platforms.kubernetes.api import KubeError
from services.spawner.platforms.kubernetes.manifests import Placement, pod_manifest
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

from .fake_api import FakeKubeApi
from .runtime_support import CONFIG, KEY, NAME, SPEC, b64, foreign, owners


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


@pytest.fixture
async def runtime(api: FakeKubeApi) -> Any:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    yield runtime
    await runtime.aclose()


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
        "services.spawner.platforms.kubernetes.runtime.pod_manifest",
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
