"""Pure builders and readers of the Kubernetes objects behind volumes and snapshots: the
PersistentVolumeClaim of each, and the short-lived helper Pod that reaches their files.

Called by volumes.KubernetesVolumeStore (and by the tests, which compare the
results with expected dicts and validate them against the client's OpenAPI models). No I/O.

Claims are named exactly as storage.types.volume_name / snapshot_name say (lowercase
alphanumerics and '-', at most 128 characters: valid claim names), because the spawner mounts
them by that name without asking the store. Labels (values shortened to 63 characters by
names.label_value) are for selecting; the exact deployment, tenant and object ids are in
annotations, and ownership is decided on those, as for a pod's objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.common.runtime.kubernetes.names import MANAGED_BY, label_value
from services.common.runtime.naming import validate_slug
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_TENANT
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_SNAPSHOT,
    LABEL_SOURCE_PATH,
    LABEL_SOURCE_VOLUME,
    LABEL_STORAGE_HELPER,
    LABEL_VOLUME,
    SnapshotKey,
    VolumeKey,
    snapshot_name,
    volume_name,
)
from services.spawner.platforms.kubernetes.config import KubernetesConfig
from services.spawner.storage.helper_answers import (
    HELPER_CAPABILITIES,
    HELPER_LIFETIME_S,
    LABEL_COPY_TOKEN,
    LABEL_CREATED_AT,
)

Obj = dict[str, Any]

ACCESS_MODES = frozenset({"ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"})
DEFAULT_HELPER_IMAGE = "busybox:1.36"
HELPER_CONTAINER = "helper"
HELPER_CPU_LIMIT = "500m"
HELPER_MEMORY_LIMIT = "256Mi"
_HELPER_REQUESTS = {"cpu": "50m", "memory": "64Mi"}


@dataclass(frozen=True)
class ClaimSettings:
    """How volumes and snapshots become claims, and how their files are reached."""

    storage_class: str = ""  # "" takes the cluster's default StorageClass
    access_mode: str = "ReadWriteOnce"
    helper_image: str = DEFAULT_HELPER_IMAGE  # busybox: sh, sleep, realpath, find, stat, tar...
    helper_start_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.access_mode not in ACCESS_MODES:
            raise ValueError(
                f"volume access mode must be one of {sorted(ACCESS_MODES)}, "
                f"got {self.access_mode!r}"
            )
        if not self.helper_image:
            raise ValueError("the storage helper image must be set")
        if self.helper_start_timeout_s <= 0:
            raise ValueError("helper_start_timeout_s must be positive")


# --- claims ---------------------------------------------------------------------------------


def _claim(
    name: str,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    size_bytes: int,
    settings: ClaimSettings,
) -> Obj:
    spec: Obj = {
        "accessModes": [settings.access_mode],
        "resources": {"requests": {"storage": str(size_bytes)}},
    }
    if settings.storage_class:
        spec["storageClassName"] = settings.storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": name,
            "labels": {**labels, **MANAGED_BY},
            "annotations": dict(annotations),
        },
        "spec": spec,
    }


def volume_claim(
    deployment_id: str,
    key: VolumeKey,
    size_limit_bytes: int,
    created_at: datetime,
    settings: ClaimSettings,
) -> Obj:
    """The claim of a volume: it requests the size limit as its capacity."""
    return _claim(
        volume_name(deployment_id, key),
        {
            LABEL_DEPLOYMENT: label_value(deployment_id),
            LABEL_TENANT: label_value(key.tenant_id),
            LABEL_VOLUME: label_value(key.volume_id),
        },
        {
            **volume_owner(deployment_id, key),
            LABEL_SIZE_LIMIT: str(size_limit_bytes),
            LABEL_CREATED_AT: created_at.isoformat(timespec="seconds"),
        },
        size_limit_bytes,
        settings,
    )


def snapshot_claim(
    deployment_id: str,
    key: SnapshotKey,
    source: VolumeKey,
    source_path: str,
    capacity_bytes: int,
    copy_token: str,
    created_at: datetime,
    settings: ClaimSettings,
) -> Obj:
    """The claim of a snapshot, with its source and the token its marker must repeat."""
    return _claim(
        snapshot_name(deployment_id, key),
        {
            LABEL_DEPLOYMENT: label_value(deployment_id),
            LABEL_TENANT: label_value(key.tenant_id),
            LABEL_SNAPSHOT: label_value(key.snapshot_id),
        },
        {
            **snapshot_owner(deployment_id, key),
            LABEL_SOURCE_VOLUME: source.volume_id,
            LABEL_SOURCE_PATH: source_path,
            LABEL_COPY_TOKEN: copy_token,
            LABEL_CREATED_AT: created_at.isoformat(timespec="seconds"),
        },
        capacity_bytes,
        settings,
    )


def volume_owner(deployment_id: str, key: VolumeKey) -> dict[str, str]:
    """The annotations that make a claim this deployment's volume `key`."""
    return {
        LABEL_DEPLOYMENT: deployment_id,
        LABEL_TENANT: key.tenant_id,
        LABEL_VOLUME: key.volume_id,
    }


def snapshot_owner(deployment_id: str, key: SnapshotKey) -> dict[str, str]:
    """The annotations that make a claim this deployment's snapshot `key`."""
    return {
        LABEL_DEPLOYMENT: deployment_id,
        LABEL_TENANT: key.tenant_id,
        LABEL_SNAPSHOT: key.snapshot_id,
    }


def annotations_of(obj: Obj) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def carries(obj: Obj, owner: Mapping[str, str]) -> bool:
    """True if the object's annotations include every pair of `owner`."""
    notes = annotations_of(obj)
    return all(notes.get(k) == v for k, v in owner.items())


def is_terminating(obj: Obj) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def claim_selector(deployment_id: str, kind_label: str, tenant_id: str | None) -> str:
    """The label selector of the deployment's volume (or snapshot) claims, of one tenant."""
    terms = [f"{LABEL_DEPLOYMENT}={label_value(validate_slug('deployment id', deployment_id))}"]
    terms.append(kind_label)  # existence: a claim of that kind
    if tenant_id is not None:
        terms.append(f"{LABEL_TENANT}={label_value(validate_slug('tenant id', tenant_id))}")
    return ",".join(terms)


def created_at(obj: Obj) -> datetime | None:
    """Our annotation, else the API server's creationTimestamp; None when neither parses."""
    metadata = obj.get("metadata") or {}
    for value in (annotations_of(obj).get(LABEL_CREATED_AT), metadata.get("creationTimestamp")):
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


# --- who uses a claim -----------------------------------------------------------------------


def claims_of(pod: Obj) -> set[str]:
    """The names of the claims a Pod mounts."""
    volumes = (pod.get("spec") or {}).get("volumes") or []
    return {
        str(v["persistentVolumeClaim"].get("claimName", ""))
        for v in volumes
        if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)
    }


def is_helper(pod: Obj) -> bool:
    return bool(((pod.get("metadata") or {}).get("labels") or {}).get(LABEL_STORAGE_HELPER))


def is_finished(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def users_of(pods: Sequence[Obj], claim: str) -> list[Obj]:
    """The Pods among `pods` that mount `claim` and are not being deleted."""
    return [p for p in pods if claim in claims_of(p) and not is_terminating(p)]


def node_for(pods: Sequence[Obj], claims: Sequence[str]) -> str:
    """The node a helper mounting `claims` must run on: where a live Pod already mounts one
    of them (a ReadWriteOnce volume attaches to one node at a time), else "" (any node)."""
    for pod in pods:
        if is_finished(pod) or is_terminating(pod) or not claims_of(pod) & set(claims):
            continue
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            return str(node)
    return ""


def describe_users(pods: Sequence[Obj]) -> str:
    """ "pod a (Running), pod b (Pending)" for an error message."""
    return ", ".join(
        f"pod {(p.get('metadata') or {}).get('name', '?')} "
        f"({(p.get('status') or {}).get('phase', 'Unknown')})"
        for p in pods
    )


# --- the helper pod -------------------------------------------------------------------------


def helper_name(deployment_id: str, nonce: str) -> str:
    """A helper Pod's name: unique per operation (`nonce`: lowercase hex), 63 characters at
    most whatever the deployment id."""
    digest = hashlib.sha256(deployment_id.encode()).hexdigest()[:8]
    return f"pods-helper-{digest}-{nonce}"[:63]


def helper_pod(
    deployment_id: str,
    tenant_id: str,
    name: str,
    mounts: Sequence[tuple[str, str, bool]],
    node_name: str,
    config: KubernetesConfig,
    settings: ClaimSettings,
) -> Obj:
    """A helper Pod with each (claim, target, read_only) of `mounts` mounted; it only sleeps
    (commands arrive by exec), deletes itself after HELPER_LIFETIME_S (activeDeadlineSeconds),
    has no service account token, a read-only root filesystem and only the capabilities
    needed to read and write files of any owner."""
    volumes = [
        {"name": f"v{i}", "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}}
        for i, (claim, _, read_only) in enumerate(mounts)
    ]
    volume_mounts = [
        {"name": f"v{i}", "mountPath": target, "readOnly": read_only}
        for i, (_, target, read_only) in enumerate(mounts)
    ]
    spec: Obj = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": HELPER_LIFETIME_S,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": 0,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": HELPER_CONTAINER,
                "image": settings.helper_image,
                "imagePullPolicy": config.image_pull_policy,
                "command": ["sleep", str(HELPER_LIFETIME_S)],
                "workingDir": "/",
                "securityContext": {
                    "runAsUser": 0,
                    "runAsGroup": 0,
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"], "add": list(HELPER_CAPABILITIES)},
                },
                "resources": {
                    "requests": dict(_HELPER_REQUESTS),
                    "limits": {"cpu": HELPER_CPU_LIMIT, "memory": HELPER_MEMORY_LIMIT},
                },
                "volumeMounts": volume_mounts,
            }
        ],
        "volumes": volumes,
    }
    if node_name:
        spec["nodeName"] = node_name
    if config.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in config.image_pull_secrets]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "labels": {
                LABEL_DEPLOYMENT: label_value(deployment_id),
                LABEL_TENANT: label_value(tenant_id),
                LABEL_STORAGE_HELPER: "1",
                **MANAGED_BY,
            },
            "annotations": {LABEL_DEPLOYMENT: deployment_id, LABEL_TENANT: tenant_id},
        },
        "spec": spec,
    }


def helper_state(pod: Obj) -> tuple[str, str]:
    """("running" | "waiting" | "failed", why) for a helper Pod's status. An image that
    cannot be pulled, or a Pod that ended, is "failed"; unscheduled is "waiting" with the
    scheduler's message."""
    status = pod.get("status") or {}
    phase = status.get("phase", "Pending")
    if phase in ("Succeeded", "Failed"):
        return "failed", f"the helper pod ended ({phase}): {status.get('message', '')}".strip()
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        if "running" in state and phase == "Running":
            return "running", ""
        waiting = state.get("waiting") or {}
        reason = str(waiting.get("reason", ""))
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
            return "failed", f"{reason}: {waiting.get('message', '')}".strip()
        if reason:
            return "waiting", f"{reason}: {waiting.get('message', '')}".strip()
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return "waiting", f"{condition.get('reason', '')}: {condition.get('message', '')}"
    return "waiting", phase
