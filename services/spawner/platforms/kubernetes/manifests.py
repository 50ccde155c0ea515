"""Pure builders of a pod's Kubernetes objects: its Secret, Pod and Service, as plain dicts in
the API's JSON form (camelCase keys), ready to send and easy to compare with literals.

Called by runtime.KubernetesRuntime.ensure (and by the tests, which compare the results with
expected dicts and validate them against the client's OpenAPI models). No I/O.

- The Secret holds the whole environment of the spec (user variables and generated
  credentials alike); the Pod refers to each variable by name, so no value appears in the Pod.
- The Pod runs one container, never restarted by the kubelet (restartPolicy Never, like
  Docker's "no": health reports why it stopped), without service links or a service account
  token, with requests and limits, GPUs where asked, the compute queue's node selector and
  tolerations, a restricted security context, and a TCP readiness probe on its first routed
  port (the "default" stanza first), so that Ready means "accepts connections".
- The security context follows platforms/hardening.py: never privileged, no privilege
  escalation, all capabilities dropped but the configured few, seccomp RuntimeDefault, and a
  read-only root filesystem when the spec asks for one (then /tmp and /run are in-memory
  emptyDir volumes of TMPFS_SIZE_MIB). Only claims are mounted, never a host path. A pids
  limit is a node setting on Kubernetes (the kubelet's podPidsLimit), not part of the Pod.
  Pods reaching each other is the CNI's concern: deploy/kubernetes/base/network-policies.yaml.
- The Service is a ClusterIP with one port per routed stanza (not local_only), owned by the
  Pod; a spec with no routed port has no Service.

`Placement` gathers what only a Kubernetes pod uses of the spec (requests, GPUs, compute
queue); `placement_of` reads it from the ContainerSpec.

Each of ContainerSpec.mounts (pod volumes and snapshots, in mount order) becomes a Pod volume
"data-<n>" on the PersistentVolumeClaim named by its volume_name, mounted into the container at
its target (with its sub_path, if any; snapshots always read-only). The claims are created and
filled by services/spawner/platforms/kubernetes/volumes.py; a missing one keeps the Pod Pending.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.common.outcomes import PermanentError
from services.common.runtime.kubernetes.names import (
    labels,
    object_annotations,
    object_name,
    pod_selector,
    port_name,
)
from services.common.runtime.kubernetes.queues import DEFAULT_QUEUE
from services.common.runtime.types import (
    ContainerSpec,
    MountSpec,
    PodKey,
    PortSpec,
    StorageKind,
)
from services.spawner.platforms.hardening import READ_ONLY_ROOT_TMPFS, TMPFS_SIZE_MIB
from services.spawner.platforms.kubernetes.config import KubernetesConfig

Obj = dict[str, Any]

CONTAINER_NAME = "main"
LOCAL_ONLY = "local_only"
READINESS_PERIOD_SECONDS = 2
READINESS_TIMEOUT_SECONDS = 1
MOUNT_VOLUME_PREFIX = "data-"
SCRATCH_VOLUME_PREFIX = "scratch-"


@dataclass(frozen=True)
class Placement:
    """Scheduling needs of a pod beyond ContainerSpec: requests, GPUs, compute queue."""

    cpu_request_millis: int | None = None  # None: the configured default, capped at the limit
    mem_request_mib: int | None = None
    gpus: int = 0
    compute_queue: str = DEFAULT_QUEUE


def placement_of(spec: ContainerSpec) -> Placement:
    """The spec's placement fields where it has them (see the module docstring)."""
    return Placement(
        cpu_request_millis=spec.cpu_request_millis,
        mem_request_mib=spec.mem_request_mib,
        gpus=spec.gpus,
        compute_queue=spec.compute_queue or DEFAULT_QUEUE,
    )


def metadata(
    deployment_id: str, key: PodKey, namespace: str, spec_hash: str = "", run: int = 0
) -> Obj:
    """The metadata every object of the pod carries: name, namespace, labels, annotations."""
    return {
        "name": object_name(deployment_id, key),
        "namespace": namespace,
        "labels": labels(deployment_id, key),
        "annotations": object_annotations(deployment_id, key, spec_hash, run),
    }


def owner_reference(pod_name: str, pod_uid: str) -> Obj:
    """A reference making the Pod the owner: deleting the Pod deletes the object too."""
    return {"apiVersion": "v1", "kind": "Pod", "name": pod_name, "uid": pod_uid}


def encode_data(environment: Mapping[str, str]) -> dict[str, str]:
    """Secret `data`: each value base64-encoded (UTF-8), keys in order."""
    return {
        name: base64.b64encode(value.encode()).decode("ascii")
        for name, value in sorted(environment.items())
    }


def secret_manifest(deployment_id: str, spec: ContainerSpec, config: KubernetesConfig) -> Obj:
    """The Secret holding the spec's environment (without owner: it exists before the Pod)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(deployment_id, spec.key, config.namespace),
        "type": "Opaque",
        "data": encode_data(spec.environment),
    }


def routed_ports(spec: ContainerSpec) -> list[PortSpec]:
    """The ports reachable from outside the pod, the "default" stanza first, then by name."""
    ports = [port for port in spec.ports if port.protocol != LOCAL_ONLY]
    return sorted(ports, key=lambda port: (port.name != "default", port.name))


def literal(text: str) -> str:
    """`text` escaped so that Kubernetes' $(VAR) expansion in command and args leaves it as
    written ("$$" becomes "$"), as Docker would run it."""
    return text.replace("$", "$$")


def _resources(spec: ContainerSpec, placement: Placement, config: KubernetesConfig) -> Obj:
    cpu_request = placement.cpu_request_millis or config.default_cpu_request_millis
    mem_request = placement.mem_request_mib or config.default_mem_request_mib
    limits: Obj = {"cpu": f"{spec.cpu_limit_millis}m", "memory": f"{spec.mem_limit_mib}Mi"}
    if placement.gpus > 0:
        limits[config.gpu_resource] = str(placement.gpus)  # extended resources: limits only
    return {
        "requests": {
            "cpu": f"{min(cpu_request, spec.cpu_limit_millis)}m",
            "memory": f"{min(mem_request, spec.mem_limit_mib)}Mi",
        },
        "limits": limits,
    }


def _container_security(spec: ContainerSpec, config: KubernetesConfig) -> Obj:
    restricted = config.security.restricted(spec.image)
    capabilities: Obj = {"drop": ["ALL"]}
    if config.security.add_capabilities and not restricted:
        capabilities["add"] = list(config.security.add_capabilities)
    context: Obj = {
        "privileged": False,
        "allowPrivilegeEscalation": False,
        "capabilities": capabilities,
        "readOnlyRootFilesystem": spec.read_only_root,
    }
    if restricted:
        context["runAsNonRoot"] = True
    return context


def scratch_volumes(spec: ContainerSpec) -> list[Obj]:
    """The in-memory volumes of a read-only root's writable directories (none otherwise)."""
    if not spec.read_only_root:
        return []
    return [
        {
            "name": f"{SCRATCH_VOLUME_PREFIX}{n}",
            "emptyDir": {"medium": "Memory", "sizeLimit": f"{TMPFS_SIZE_MIB}Mi"},
        }
        for n in range(len(READ_ONLY_ROOT_TMPFS))
    ]


def scratch_mounts(spec: ContainerSpec) -> list[Obj]:
    """Where scratch_volumes are mounted: READ_ONLY_ROOT_TMPFS, in order."""
    if not spec.read_only_root:
        return []
    return [
        {"name": f"{SCRATCH_VOLUME_PREFIX}{n}", "mountPath": path}
        for n, path in enumerate(READ_ONLY_ROOT_TMPFS)
    ]


def mount_volume_name(index: int) -> str:
    """The Pod volume name of the spec's mount at `index` (a DNS-1123 label)."""
    return f"{MOUNT_VOLUME_PREFIX}{index}"


def mount_read_only(mount: MountSpec) -> bool:
    """Whether the mount is read-only: as asked, and always for a snapshot."""
    return mount.read_only or mount.kind is StorageKind.SNAPSHOT


def claim_volume(index: int, mount: MountSpec) -> Obj:
    """The Pod volume of the mount at `index`: the PVC named by its volume_name."""
    return {
        "name": mount_volume_name(index),
        "persistentVolumeClaim": {
            "claimName": mount.volume_name,
            "readOnly": mount_read_only(mount),
        },
    }


def volume_mount(index: int, mount: MountSpec) -> Obj:
    """The container's mount of the Pod volume of the mount at `index`."""
    entry: Obj = {
        "name": mount_volume_name(index),
        "mountPath": mount.target,
        "readOnly": mount_read_only(mount),
    }
    if mount.sub_path:
        entry["subPath"] = mount.sub_path
    return entry


def _container(
    deployment_id: str, spec: ContainerSpec, placement: Placement, config: KubernetesConfig
) -> Obj:
    secret = object_name(deployment_id, spec.key)
    container: Obj = {"name": CONTAINER_NAME, "image": spec.image}
    if spec.command:
        container["command"] = [literal(part) for part in spec.command]
    if spec.arguments:
        container["args"] = [literal(part) for part in spec.arguments]
    if spec.environment:
        container["env"] = [
            {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": name}}}
            for name in sorted(spec.environment)
        ]
    if spec.ports:
        container["ports"] = [
            {"name": port_name(port.name), "containerPort": port.port, "protocol": "TCP"}
            for port in spec.ports
        ]
    container["resources"] = _resources(spec, placement, config)
    container["imagePullPolicy"] = config.image_pull_policy
    container["securityContext"] = _container_security(spec, config)
    mounts = [volume_mount(n, mount) for n, mount in enumerate(spec.mounts)]
    mounts += scratch_mounts(spec)
    if mounts:
        container["volumeMounts"] = mounts
    routed = routed_ports(spec)
    if routed:
        container["readinessProbe"] = {
            "tcpSocket": {"port": routed[0].port},
            "periodSeconds": READINESS_PERIOD_SECONDS,
            "timeoutSeconds": READINESS_TIMEOUT_SECONDS,
        }
    return container


def _scheduling(placement: Placement, config: KubernetesConfig) -> Obj:
    queue = config.compute_queues.get(placement.compute_queue)
    if queue is None:
        raise PermanentError(
            f"compute queue {placement.compute_queue!r} is not configured on this cluster "
            f"(known: {', '.join(sorted(config.compute_queues))})"
        )
    scheduling: Obj = {}
    if queue.node_selector:
        scheduling["nodeSelector"] = dict(sorted(queue.node_selector.items()))
    if queue.tolerations:
        scheduling["tolerations"] = [
            {
                name: value
                for name, value in (
                    ("key", t.key),
                    ("operator", t.operator),
                    ("value", t.value),
                    ("effect", t.effect),
                )
                if value
            }
            for t in queue.tolerations
        ]
    return scheduling


def pod_manifest(
    deployment_id: str,
    spec: ContainerSpec,
    config: KubernetesConfig,
    placement: Placement | None = None,
) -> Obj:
    """The Pod running the spec's container; its annotations carry the spec hash."""
    placement = placement or placement_of(spec)
    security: Obj = {"seccompProfile": {"type": "RuntimeDefault"}}
    if config.security.restricted(spec.image):
        security["runAsNonRoot"] = True
    pod_spec: Obj = {
        "containers": [_container(deployment_id, spec, placement, config)],
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": config.termination_grace_seconds,
        "securityContext": security,
        **_scheduling(placement, config),
    }
    volumes = [claim_volume(n, mount) for n, mount in enumerate(spec.mounts)]
    volumes += scratch_volumes(spec)
    if volumes:
        pod_spec["volumes"] = volumes
    if config.service_account:
        pod_spec["serviceAccountName"] = config.service_account
    if config.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": name} for name in config.image_pull_secrets]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(deployment_id, spec.key, config.namespace, spec.spec_hash, spec.run),
        "spec": pod_spec,
    }


def service_ports(spec: ContainerSpec) -> list[Obj]:
    """One Service port per routed stanza, named after it, same number as the container's."""
    return [
        {
            "name": port_name(port.name),
            "port": port.port,
            "targetPort": port.port,
            "protocol": "TCP",
        }
        for port in routed_ports(spec)
    ]


def service_manifest(
    deployment_id: str, spec: ContainerSpec, config: KubernetesConfig, owner_uid: str
) -> Obj | None:
    """The ClusterIP Service of the spec's routed ports, owned by the Pod with `owner_uid`;
    None when no port is routed."""
    ports = service_ports(spec)
    if not ports:
        return None
    meta = metadata(deployment_id, spec.key, config.namespace)
    meta["ownerReferences"] = [owner_reference(meta["name"], owner_uid)]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "ClusterIP",
            "selector": pod_selector(deployment_id, spec.key),
            "ports": ports,
        },
    }
