"""Chooses and builds the Runtime a process uses: Docker on one machine, Kubernetes on a
cluster.

Called at start-up by services/spawner/server.py and services/health/server.py with values
from Settings (PODS_RUNTIME and the PODS_K8S_* variables); the settings themselves are not
read here. The runtime modules are imported only when chosen, so a Docker installation never
loads the kubernetes client and vice versa.
"""

from __future__ import annotations

import inspect

from services.common.runtime.hardening import DEFAULT_PIDS_LIMIT
from services.common.runtime.kubernetes.config import (
    KubernetesConfig,
    SecurityDefaults,
    parse_compute_queues,
    split_names,
)
from services.common.runtime.types import Runtime
from services.common.settings import Settings

DOCKER = "docker"
KUBERNETES = "kubernetes"
RUNTIME_KINDS = (DOCKER, KUBERNETES)


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


def make_runtime(
    kind: str,
    deployment_id: str,
    *,
    kubernetes: KubernetesConfig | None = None,
    docker_base_url: str | None = None,
    exec_workers: int = 32,
    pids_limit: int = DEFAULT_PIDS_LIMIT,
) -> Runtime:
    """The runtime named `kind` ("docker" or "kubernetes") for `deployment_id`. Neither
    connects yet: both reach their engine or API server on first use. `pids_limit` is the
    Docker container's; on Kubernetes the kubelet's podPidsLimit sets it, per node."""
    if kind == DOCKER:
        from services.common.runtime.docker_runtime import DockerRuntime

        return DockerRuntime(
            deployment_id,
            base_url=docker_base_url,
            exec_workers=exec_workers,
            pids_limit=pids_limit,
        )
    if kind == KUBERNETES:
        from services.common.runtime.kubernetes.runtime import KubernetesRuntime

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


def runtime_from_settings(settings: Settings) -> Runtime:
    """The runtime PODS_RUNTIME names, configured from the PODS_K8S_* settings."""
    return make_runtime(
        settings.runtime,
        settings.deployment_id,
        kubernetes=kubernetes_config_from_settings(settings)
        if settings.runtime == KUBERNETES
        else None,
        exec_workers=settings.exec_max_total,
        pids_limit=settings.pod_pids_limit,
    )
