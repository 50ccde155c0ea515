"""KubernetesConfig: what the Kubernetes runtime needs to know about the cluster it runs on.

Built once per process by services/common/runtime/factory.py (from settings values) and passed
to runtime.KubernetesRuntime and the pure builders in manifests.py. Pure data plus parsing of
the compute-queue table from its JSON text form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.common.runtime import hardening

PULL_POLICIES = frozenset({"Always", "IfNotPresent", "Never"})
TOLERATION_OPERATORS = frozenset({"Equal", "Exists"})
TAINT_EFFECTS = frozenset({"", "NoSchedule", "PreferNoSchedule", "NoExecute"})
DEFAULT_QUEUE = "default"

# The shared baseline (runtime/hardening.py: what an image needs to step down from root) plus
# NET_BIND_SERVICE: unlike Docker, a kubelet does not lower ip_unprivileged_port_start inside
# pods, so an image binding a port below 1024 as root needs it there. Everything else in the
# container runtime's default set (NET_RAW, MKNOD, SETFCAP, SETPCAP, SYS_CHROOT, AUDIT_WRITE,
# FSETID) is dropped.
ROOT_STEP_DOWN_CAPABILITIES: tuple[str, ...] = tuple(
    sorted((*hardening.ROOT_STEP_DOWN_CAPABILITIES, "NET_BIND_SERVICE"))
)


@dataclass(frozen=True)
class Toleration:
    """One toleration of a compute queue (the fields of a Kubernetes Toleration)."""

    key: str = ""
    operator: str = "Equal"  # Equal | Exists
    value: str = ""
    effect: str = ""  # "" (any) | NoSchedule | PreferNoSchedule | NoExecute

    def __post_init__(self) -> None:
        if self.operator not in TOLERATION_OPERATORS:
            raise ValueError(f"toleration operator must be Equal or Exists, got {self.operator!r}")
        if self.effect not in TAINT_EFFECTS:
            raise ValueError(f"toleration effect {self.effect!r} is not a taint effect")
        if self.operator == "Exists" and self.value:
            raise ValueError("a toleration with operator Exists takes no value")


@dataclass(frozen=True)
class ComputeQueue:
    """Where a pod of this queue may run: node labels it requires and taints it tolerates."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()


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


def parse_compute_queues(text: str) -> dict[str, ComputeQueue]:
    """The compute-queue table from its JSON form (PODS_K8S_COMPUTE_QUEUES), e.g.

    {"gpu": {"node_selector": {"pods.example.org/gpu": "a100"},
             "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                              "effect": "NoSchedule"}]}}

    An empty text gives only the "default" queue; "default" is added when missing.
    ValueError names what is wrong."""
    queues: dict[str, ComputeQueue] = {DEFAULT_QUEUE: ComputeQueue()}
    if not text.strip():
        return queues
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"compute queues are not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("compute queues must be a JSON object of queue name -> queue")
    for name, body in raw.items():
        queues[str(name)] = _queue(str(name), body)
    return queues


def _queue(name: str, body: Any) -> ComputeQueue:
    if not isinstance(body, dict) or set(body) - {"node_selector", "tolerations"}:
        raise ValueError(f"compute queue {name!r} takes only node_selector and tolerations")
    selector = body.get("node_selector", {})
    if not isinstance(selector, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in selector.items()
    ):
        raise ValueError(f"node_selector of compute queue {name!r} must map strings to strings")
    tolerations = body.get("tolerations", [])
    if not isinstance(tolerations, list):
        raise ValueError(f"tolerations of compute queue {name!r} must be a list")
    parsed: list[Toleration] = []
    for item in tolerations:
        if not isinstance(item, dict) or set(item) - {"key", "operator", "value", "effect"}:
            raise ValueError(
                f"a toleration of compute queue {name!r} takes key, operator, value, effect"
            )
        parsed.append(Toleration(**{k: str(v) for k, v in item.items()}))
    return ComputeQueue(node_selector=dict(selector), tolerations=tuple(parsed))


def split_names(text: str) -> tuple[str, ...]:
    """A comma-separated list of names (PODS_K8S_IMAGE_PULL_SECRETS) without blanks."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
