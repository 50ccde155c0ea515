"""Chooses and builds the platform adapters a process uses, following PODS_RUNTIME: the
Runtime (Docker on one machine, Kubernetes on a cluster) and the VolumeStore (Docker named
volumes, or PersistentVolumeClaims).

Called at start-up by services/spawner/server.py (the runtime and the store) and, until health
observes through the spawner, services/health/server.py (the runtime), with values from
Settings (PODS_RUNTIME and the PODS_K8S_* variables). The platform modules are imported only
when chosen, so a Docker installation never loads the kubernetes client and vice versa. The
API reaches the store through the spawner (services/api/remote_volumes.py).
"""

from __future__ import annotations

import inspect

from services.common.runtime.kinds import (
    DOCKER,
    FAKE,
    KUBERNETES,
    RUNTIME_KINDS,
    check_runtime_kind,
)
from services.common.runtime.kubernetes.queues import parse_compute_queues
from services.common.runtime.types import Runtime
from services.common.settings import Settings
from services.common.storage.types import VolumeStore
from services.spawner.platforms.hardening import DEFAULT_PIDS_LIMIT
from services.spawner.platforms.kubernetes.config import (
    KubernetesConfig,
    SecurityDefaults,
    split_names,
)


def kubernetes_config(
    *,
    namespace: str = "pods",
    image_pull_policy: str = "IfNotPresent",
    image_pull_secrets: str = "",
    compute_queues: str = "",
    gpu_resource: str = "nvidia.com/gpu",
    service_account: str = "",
    non_root_images: str = "",
) -> KubernetesConfig:
    """A KubernetesConfig from settings values in their text form: comma-separated names for
    `image_pull_secrets` and `non_root_images` (image prefixes), JSON for `compute_queues`
    (see config.parse_compute_queues). ValueError names a bad value."""
    return KubernetesConfig(
        namespace=namespace,
        image_pull_policy=image_pull_policy,
        image_pull_secrets=split_names(image_pull_secrets),
        compute_queues=parse_compute_queues(compute_queues),
        gpu_resource=gpu_resource,
        service_account=service_account,
        security=SecurityDefaults(non_root_images=split_names(non_root_images)),
    )


_FAKES: dict[str, Runtime] = {}  # the benchmark fake of each deployment, shared in a process


def make_runtime(
    kind: str,
    deployment_id: str,
    *,
    kubernetes: KubernetesConfig | None = None,
    docker_base_url: str | None = None,
    exec_workers: int = 32,
    lifecycle_workers: int = 32,
    pids_limit: int = DEFAULT_PIDS_LIMIT,
    network_mode: str = "auto",
    network_subnet: str = "",
    network_pool: int = 0,
    allow_fake: bool = False,
) -> Runtime:
    """The runtime named `kind` ("docker" or "kubernetes") for `deployment_id`. Neither
    connects yet: both reach their engine or API server on first use (a Docker runtime with a
    `network_pool` starts making its warm networks at once). `pids_limit` is the
    Docker container's; on Kubernetes the kubelet's podPidsLimit sets it, per node.
    `lifecycle_workers` bounds the Docker runtime's engine calls in flight (creates, removes,
    reads); the Kubernetes runtime's go through asyncio's default pool.
    "fake" (benchmarks only) needs `allow_fake`; its one instance per deployment is shared,
    so the reconciler and what health observes see the same pods."""
    check_runtime_kind(kind, allow_fake=allow_fake)
    if kind == FAKE:
        from services.spawner.platforms.bench_fake import BenchFakeRuntime

        if deployment_id not in _FAKES:
            _FAKES[deployment_id] = BenchFakeRuntime(deployment_id)
        return _FAKES[deployment_id]
    if kind == DOCKER:
        from services.spawner.platforms.docker.runtime import DockerRuntime

        return DockerRuntime(
            deployment_id,
            base_url=docker_base_url,
            exec_workers=exec_workers,
            lifecycle_workers=lifecycle_workers,
            pids_limit=pids_limit,
            network_mode=network_mode,
            network_subnet=network_subnet,
            network_pool=network_pool,
        )
    if kind == KUBERNETES:
        from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

        return KubernetesRuntime(
            deployment_id, kubernetes or KubernetesConfig(), exec_workers=exec_workers
        )
    raise ValueError(f"runtime must be one of {', '.join(RUNTIME_KINDS)}, got {kind!r}")


async def close_runtime(runtime: Runtime) -> None:
    """Releases what a runtime from make_runtime holds (Docker's `close`, Kubernetes'
    `aclose`); a runtime with neither is left alone."""
    aclose = getattr(runtime, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    close = getattr(runtime, "close", None)
    if close is not None:
        result = close()
        if inspect.isawaitable(result):
            await result


def kubernetes_config_from_settings(settings: Settings) -> KubernetesConfig:
    """The KubernetesConfig the PODS_K8S_* settings describe."""
    return kubernetes_config(
        namespace=settings.k8s_namespace,
        image_pull_policy=settings.k8s_image_pull_policy,
        image_pull_secrets=settings.k8s_image_pull_secrets,
        compute_queues=settings.k8s_compute_queues,
        non_root_images=settings.k8s_non_root_images,
    )


def runtime_from_settings(settings: Settings, *, creates: bool = False) -> Runtime:
    """The runtime PODS_RUNTIME names, configured from the PODS_K8S_* settings. `creates`:
    the runtime that creates pods (the spawner's reconciler), which in the per-pod network
    mode keeps PODS_DOCKER_NETWORK_POOL warm networks; others (observers) keep none."""
    per_pod = settings.docker_network_mode == "per-pod"
    return make_runtime(
        settings.runtime,
        settings.deployment_id,
        kubernetes=kubernetes_config_from_settings(settings)
        if settings.runtime == KUBERNETES
        else None,
        exec_workers=settings.exec_max_total,
        lifecycle_workers=settings.spawner_concurrency,
        pids_limit=settings.pod_pids_limit,
        network_mode=settings.docker_network_mode,
        network_subnet=settings.docker_network_subnet,
        network_pool=settings.docker_network_pool if creates and per_pod else 0,
        allow_fake=settings.allow_fake_runtime,
    )


def volume_store_from_settings(settings: Settings) -> VolumeStore:
    """The store for PODS_RUNTIME; ValueError names a bad setting. Neither store connects
    yet: both reach their engine or API server on first use."""
    check_runtime_kind(settings.runtime, allow_fake=settings.allow_fake_runtime)
    if settings.runtime == FAKE:
        from services.common.storage.fake import FakeVolumeStore

        return FakeVolumeStore(deployment_id=settings.deployment_id)
    if settings.runtime == DOCKER:
        from services.spawner.platforms.docker.volumes import DockerVolumeStore

        return DockerVolumeStore(settings.deployment_id)
    if settings.runtime == KUBERNETES:
        from services.spawner.platforms.kubernetes.claims import ClaimSettings
        from services.spawner.platforms.kubernetes.volumes import KubernetesVolumeStore

        return KubernetesVolumeStore(
            settings.deployment_id,
            kubernetes_config_from_settings(settings),
            ClaimSettings(
                storage_class=settings.k8s_storage_class,
                access_mode=settings.k8s_volume_access_mode,
                helper_image=settings.k8s_storage_helper_image,
            ),
        )
    raise ValueError(f"runtime must be one of {', '.join(RUNTIME_KINDS)}, got {settings.runtime!r}")


def close_volume_store(store: VolumeStore) -> None:
    """Releases the client a store from volume_store_from_settings holds."""
    close = getattr(store, "close", None)
    if callable(close):
        close()
