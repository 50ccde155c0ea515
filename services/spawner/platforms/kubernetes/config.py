"""KubernetesConfig: what the Kubernetes runtime needs to know about the cluster it runs on.

Built once per process by services/spawner/platforms/factory.py (from settings values) and
passed to runtime.KubernetesRuntime, the volume store and the pure builders in manifests.py.
Pure data; the compute-queue table and its parsing are shared with the API
(services/common/runtime/kubernetes/queues.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from services.common.runtime.kubernetes.queues import DEFAULT_QUEUE, ComputeQueue
from services.spawner.platforms import hardening

PULL_POLICIES = frozenset({"Always", "IfNotPresent", "Never"})

# The shared baseline (platforms/hardening.py: what an image needs to step down from root) plus
# NET_BIND_SERVICE: unlike Docker, a kubelet does not lower ip_unprivileged_port_start inside
# pods, so an image binding a port below 1024 as root needs it there. Everything else in the
# container runtime's default set (NET_RAW, MKNOD, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE,
# FSETID) is dropped.
ROOT_STEP_DOWN_CAPABILITIES: tuple[str, ...] = tuple(
    sorted((*hardening.ROOT_STEP_DOWN_CAPABILITIES, "NET_BIND_SERVICE"))
)


@dataclass(frozen=True)
class SecurityDefaults:
    """The container security context of user pods.

    Every pod gets seccomp RuntimeDefault, no privilege escalation and all capabilities
    dropped but `add_capabilities`. Images whose name starts with one of `non_root_images`
    are known to run as a non-root user: they get the Pod Security "restricted" profile
    (runAsNonRoot, no capability added back)."""

    add_capabilities: tuple[str, ...] = ROOT_STEP_DOWN_CAPABILITIES
    non_root_images: tuple[str, ...] = ()

    def restricted(self, image: str) -> bool:
        """True when `image` gets the restricted profile."""
        return any(image.startswith(prefix) for prefix in self.non_root_images)


@dataclass(frozen=True)
class InformerTiming:
    """How the pod cache follows the cluster. Seconds."""

    relist_interval: float = 300.0  # a full list at least this often, even when watches work
    watch_timeout: int = 240  # the API server ends each watch after this (timeoutSeconds)
    backoff_initial: float = 0.5  # first pause after a failed list or watch
    backoff_max: float = 30.0  # pauses double up to this

    def __post_init__(self) -> None:
        if self.watch_timeout <= 0 or self.relist_interval <= 0:
            raise ValueError("watch_timeout and relist_interval must be positive")
        if not 0 < self.backoff_initial <= self.backoff_max:
            raise ValueError("need 0 < backoff_initial <= backoff_max")


@dataclass(frozen=True)
class KubernetesConfig:
    """The cluster side of the Kubernetes runtime. Sizes in millicores and MiB."""

    namespace: str = "pods"  # where user pods, their Services and Secrets live
    image_pull_policy: str = "IfNotPresent"
    image_pull_secrets: tuple[str, ...] = ()  # names of docker-registry Secrets in namespace
    compute_queues: Mapping[str, ComputeQueue] = field(
        default_factory=lambda: {DEFAULT_QUEUE: ComputeQueue()}
    )
    gpu_resource: str = "nvidia.com/gpu"
    service_account: str = ""  # "" runs user pods as the namespace's default account
    termination_grace_seconds: int = 30
    # Requests when the spec carries none (ContainerSpec has only limits so far); capped at
    # the limits.
    default_cpu_request_millis: int = 250
    default_mem_request_mib: int = 256
    security: SecurityDefaults = field(default_factory=SecurityDefaults)
    cluster_domain: str = "cluster.local"
    request_timeout: float = 30.0  # seconds for each API call (watches excepted)
    informer: InformerTiming = field(default_factory=InformerTiming)

    def __post_init__(self) -> None:
        if self.image_pull_policy not in PULL_POLICIES:
            raise ValueError(
                f"image pull policy must be one of {sorted(PULL_POLICIES)}, "
                f"got {self.image_pull_policy!r}"
            )
        if not self.namespace:
            raise ValueError("the namespace of user pods must be set")
        if self.termination_grace_seconds < 0:
            raise ValueError("termination_grace_seconds cannot be negative")


def split_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (PODS_K8S_IMAGE_PULL_SECRETS) without blanks."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
