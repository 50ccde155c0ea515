"""KubernetesRuntime against a real cluster: a pod runs, becomes ready, logs, answers exec, is
replaced when its spec changes, reports a missing image, and is removed with everything it
owned; with KubernetesVolumeStore, it mounts a volume and a snapshot as claims. Each test works in a namespace of its own, deleted afterwards.

Runs only when KUBECONFIG names a cluster (marker `kubernetes`), for example a kind or k3s
cluster as deploy/kubernetes/README.md describes:

    KUBECONFIG=~/.kube/config .venv/bin/pytest -m kubernetes tests/integration/runtime

The image must be pullable by the cluster's nodes (PODS_TEST_K8S_IMAGE, default busybox:1.36;
with kind, `kind load docker-image` a local one). No cluster can be had on the machines this
project is developed on, so there this module is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from services.common.outcomes import TemporaryError
from services.common.runtime.kubernetes.names import object_name
from services.common.runtime.naming import with_hash
from services.common.runtime.types import (
    ContainerSpec,
    EnsureResult,
    Phase,
    PodKey,
    PortSpec,
)
from services.spawner.platforms.kubernetes.client import ClusterApi
from services.spawner.platforms.kubernetes.config import InformerTiming, KubernetesConfig
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

pytestmark = [
    pytest.mark.kubernetes,
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"),
        reason="needs a Kubernetes cluster: set KUBECONFIG (kind or k3s, see "
        "deploy/kubernetes/README.md); none can be had on this project's build machines",
    ),
]

IMAGE = os.environ.get("PODS_TEST_K8S_IMAGE", "busybox:1.36")
TIMEOUT = float(os.environ.get("PODS_TEST_K8S_TIMEOUT", "180"))
KEY = PodKey("dev", "web1")
T = TypeVar("T")


def web_spec(greeting: str = "hello from the test") -> ContainerSpec:
    script = 'echo started; echo "$GREETING"; mkdir -p /tmp/www; exec httpd -f -p 8080 -h /tmp/www'
    return with_hash(
        ContainerSpec(
            key=KEY,
            image=IMAGE,
            command=("sh", "-c", script),
            environment={"GREETING": greeting},
            ports=(PortSpec("default", 8080, "http"),),
            cpu_limit_millis=200,
            mem_limit_mib=64,
        )
    )


@pytest.fixture
def namespace() -> Iterator[str]:
    from kubernetes import client, config

    config.load_kube_config()  # type: ignore[no-untyped-call]  # kubernetes.config is unannotated
    core = client.CoreV1Api()
    name = f"pods-it-{secrets.token_hex(4)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            core.delete_namespace(name)


@pytest.fixture
async def runtime(namespace: str) -> AsyncIterator[KubernetesRuntime]:
    config = KubernetesConfig(
        namespace=namespace,
        termination_grace_seconds=2,
        informer=InformerTiming(relist_interval=30, watch_timeout=10),
    )
    runtime = KubernetesRuntime(
        "it", config, api_factory=lambda: ClusterApi.connect(namespace, request_timeout=30)
    )
    yield runtime
    await runtime.aclose()


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = await check()
        if result is not None:
            return result
        await asyncio.sleep(1)
    raise AssertionError(f"{what} did not happen within {TIMEOUT:.0f}s")


async def ensure_until_done(runtime: KubernetesRuntime, spec: ContainerSpec) -> EnsureResult:
    async def attempt() -> EnsureResult | None:
        try:
            return await runtime.ensure(spec)
        except TemporaryError:
            return None

    return await eventually(attempt, f"ensure of {spec.key}")


def core_api() -> Any:
    """The test's own client (the kubeconfig was loaded by the namespace fixture)."""
    from kubernetes import client

    return client.CoreV1Api()


async def test_a_pod_runs_logs_answers_exec_and_is_removed_completely(
    runtime: KubernetesRuntime, namespace: str
) -> None:
    spec = web_spec()
    events = runtime.watch()
    first_event = asyncio.ensure_future(anext(events))
    result = await runtime.ensure(spec)
    assert result.action == "created"

    async def running() -> Any:
        state = await runtime.inspect(KEY)
        return state if state is not None and state.phase is Phase.RUNNING else None

    state = await eventually(running, "the pod becoming ready")
    assert state.spec_hash == spec.spec_hash
    assert (await asyncio.wait_for(first_event, 30)).key == KEY
    await events.aclose()  # type: ignore[attr-defined]

    name = object_name("it", KEY)
    core = core_api()
    pod = core.read_namespaced_pod(name, namespace)
    env = pod.spec.containers[0].env
    assert [(e.name, e.value, e.value_from.secret_key_ref.name) for e in env] == [
        ("GREETING", None, name)
    ]
    service = core.read_namespaced_service(name, namespace)
    assert [ref.uid for ref in service.metadata.owner_references] == [pod.metadata.uid]
    secret = core.read_namespaced_secret(name, namespace)
    assert [ref.uid for ref in secret.metadata.owner_references] == [pod.metadata.uid]

    async def logged() -> Any:
        chunk = await runtime.logs_since(KEY, "", 10_000)
        return chunk if "hello from the test" in chunk.text else None

    chunk = await eventually(logged, "the pod's output")
    assert chunk.text.startswith("started\n") and chunk.cursor
    assert (await runtime.logs_since(KEY, chunk.cursor, 10_000)).text == ""

    result_of_exec = await runtime.exec(KEY, ["echo", "hi"], 30, 1000)
    assert (result_of_exec.exit_code, result_of_exec.stdout) == (0, "hi\n")
    failed = await runtime.exec(KEY, ["sh", "-c", "exit 3"], 30, 1000)
    assert failed.exit_code == 3

    assert [s.key for s in await runtime.list_managed()] == [KEY]
    assert await runtime.remove(KEY) is True

    async def gone() -> bool | None:
        pods = core.list_namespaced_pod(namespace).items
        others = (
            core.list_namespaced_service(namespace).items
            + core.list_namespaced_secret(
                namespace, label_selector="org.pods-service.deployment=it"
            ).items
        )
        return True if not pods and not others else None

    await eventually(gone, "the removal of the pod, its Service and its Secret")
    assert await runtime.remove(KEY) is False


async def test_a_changed_spec_replaces_the_pod(runtime: KubernetesRuntime, namespace: str) -> None:
    await runtime.ensure(web_spec())
    changed = web_spec("changed greeting")
    result = await ensure_until_done(runtime, changed)
    assert result.action in ("replaced", "created")

    async def new_output() -> Any:
        state = await runtime.inspect(KEY)
        if (
            state is None
            or state.spec_hash != changed.spec_hash
            or state.phase is not Phase.RUNNING
        ):
            return None
        chunk = await runtime.logs_since(KEY, "", 10_000)
        return chunk if "changed greeting" in chunk.text else None

    await eventually(new_output, "the replaced pod's output")
    await runtime.remove(KEY)


async def test_a_missing_image_is_reported_with_its_reason(runtime: KubernetesRuntime) -> None:
    spec = with_hash(dataclasses.replace(web_spec(), image="registry.invalid/pods/nope:1"))
    await runtime.ensure(spec)

    async def dead() -> Any:
        state = await runtime.inspect(KEY)
        return state if state is not None and state.phase is Phase.DEAD else None

    state = await eventually(dead, "the pull failure")
    assert state.error.startswith(("ErrImagePull", "ImagePullBackOff")), state.error
    await runtime.remove(KEY)


async def test_a_volume_is_filled_snapshotted_and_mounted_by_a_pod(
    runtime: KubernetesRuntime, namespace: str
) -> None:
    """The volume store and the runtime together: a claim of the default StorageClass (on
    kind and k3s: local-path), a file uploaded through a helper pod, a snapshot copied from
    it, a pod that mounts both and reads them, and deletion refused while the pod mounts it."""
    from services.common.storage.types import (
        MountSpec,
        SnapshotKey,
        StorageConflict,
        StorageKind,
        VolumeKey,
    )
    from services.spawner.platforms.kubernetes.claims import ClaimSettings
    from services.spawner.platforms.kubernetes.volumes import KubernetesVolumeStore

    store = KubernetesVolumeStore(
        "it",
        KubernetesConfig(namespace=namespace),
        ClaimSettings(helper_image=IMAGE, helper_start_timeout_s=TIMEOUT),
        api_factory=lambda: ClusterApi.connect(namespace, request_timeout=30),
    )
    volume, snapshot = VolumeKey("dev", "data"), SnapshotKey("dev", "snap")
    try:
        info = await store.create_volume(volume, 64 * 1024 * 1024)
        await store.upload(volume, "in/greeting.txt", b"from the volume\n")
        await store.create_snapshot(volume, snapshot)
        await store.upload(volume, "in/greeting.txt", b"changed\n")
        assert await store.download_snapshot(snapshot, "in/greeting.txt") == b"from the volume\n"
        mounts = (
            await store.mount_for(StorageKind.VOLUME, volume, "/data"),
            await store.mount_for(StorageKind.SNAPSHOT, snapshot, "/snap"),
        )
        assert mounts[0] == MountSpec(StorageKind.VOLUME, info.name, "/data", False)
        spec = with_hash(dataclasses.replace(web_spec(), mounts=mounts))
        await ensure_until_done(runtime, spec)

        async def reads() -> Any:
            state = await runtime.inspect(KEY)
            if state is None or state.phase is not Phase.RUNNING:
                return None
            result = await runtime.exec(
                KEY, ["cat", "/data/in/greeting.txt", "/snap/in/greeting.txt"], 30, 1000
            )
            return result if result.exit_code == 0 else None

        result = await eventually(reads, "the pod reading its volume and snapshot")
        assert result.stdout == "changed\nfrom the volume\n"
        denied = await runtime.exec(KEY, ["touch", "/snap/x"], 30, 1000)
        assert denied.exit_code != 0  # snapshots are read-only
        with pytest.raises(StorageConflict, match="mounted by"):
            await store.delete_volume(volume)
        await runtime.remove(KEY)

        async def deleted() -> bool | None:
            try:
                return True if await store.delete_volume(volume) else None
            except StorageConflict:
                return None

        await eventually(deleted, "the volume's deletion once the pod is gone")
        assert await store.delete_snapshot(snapshot) is True
    finally:
        store.close()
