"""Names, labels and spec hashes that every runtime derives from a pod, without any I/O.

Called by the runtimes (services/spawner/platforms/: Docker, Kubernetes) and
fake.FakeRuntime so that all of them agree on what a pod's container is called, how it is labelled
and when its spec has changed. Also holds `tail_text`, the log trimming both runtimes share.

Names are deterministic so that a replayed command adopts the container an earlier attempt
created. Within one deployment `pods-<deployment>-<tenant>-<pod_id>` is unambiguous because
pod ids contain no '-'. Two deployments on one engine could still produce the same name
(deployment "a-b" + tenant "c" versus deployment "a" + tenant "b-c"); the runtime then sees
labels of another deployment and refuses to touch the container rather than sharing it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping

from services.common.runtime.types import (
    LABEL_DEPLOYMENT,
    LABEL_POD,
    LABEL_RUN,
    LABEL_SPEC_HASH,
    LABEL_TENANT,
    ContainerSpec,
    PodKey,
)

MAX_NAME_LENGTH = 128
_HASHED_SUFFIX_LENGTH = 16
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_POD_ID = re.compile(r"[a-z0-9]+")
_HASH_SCHEME = "pods-spec-v1"


def validate_slug(what: str, value: str) -> str:
    """Returns `value` if it is lowercase alphanumerics and inner '-', else ValueError."""
    if not _SLUG.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be lowercase letters, digits and inner '-'")
    return value


def validate_key(key: PodKey) -> PodKey:
    """Returns `key` if its tenant is a slug and its pod id lowercase alphanumeric."""
    validate_slug("tenant id", key.tenant_id)
    if not _POD_ID.fullmatch(key.pod_id):
        raise ValueError(f"pod id {key.pod_id!r} must be lowercase letters and digits")
    return key


def container_name(deployment_id: str, key: PodKey) -> str:
    """The deterministic container name of a pod in a deployment.

    `pods-<deployment>-<tenant>-<pod_id>`, or when that exceeds 128 characters its first
    111 characters, '-' and 16 hex digits of its sha256 (still deterministic and distinct).
    """
    validate_slug("deployment id", deployment_id)
    validate_key(key)
    full = f"pods-{deployment_id}-{key.tenant_id}-{key.pod_id}"
    if len(full) <= MAX_NAME_LENGTH:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_HASHED_SUFFIX_LENGTH]
    return f"{full[: MAX_NAME_LENGTH - _HASHED_SUFFIX_LENGTH - 1]}-{digest}"


def labels_for(deployment_id: str, key: PodKey, spec_hash: str, run: int = 0) -> dict[str, str]:
    """The labels a pod's container carries: deployment, tenant, pod, spec hash, and the log
    run it was made to start (when there is one)."""
    labels = {
        LABEL_DEPLOYMENT: validate_slug("deployment id", deployment_id),
        LABEL_TENANT: validate_key(key).tenant_id,
        LABEL_POD: key.pod_id,
        LABEL_SPEC_HASH: spec_hash,
    }
    if run > 0:
        labels[LABEL_RUN] = str(run)
    return labels


def labelled_run(labels: Mapping[str, object] | None) -> int:
    """The run in a container's LABEL_RUN; 0 when absent or not a plain positive number."""
    value = str((labels or {}).get(LABEL_RUN, ""))
    return int(value) if value.isdigit() and len(value) <= 9 else 0


def owned_key(deployment_id: str, labels: Mapping[str, str] | None) -> PodKey | None:
    """The pod a container belongs to, if its labels say this deployment created it."""
    if not labels or labels.get(LABEL_DEPLOYMENT) != deployment_id:
        return None
    tenant, pod = labels.get(LABEL_TENANT, ""), labels.get(LABEL_POD, "")
    if not tenant or not pod:
        return None
    return PodKey(tenant_id=tenant, pod_id=pod)


def _canonical_spec(spec: ContainerSpec) -> str:
    """Canonical JSON of every ContainerSpec field except spec_hash itself."""
    fields: dict[str, object] = {
        "scheme": _HASH_SCHEME,
        "key": [spec.key.tenant_id, spec.key.pod_id],
        "image": spec.image,
        "command": list(spec.command),
        "arguments": list(spec.arguments),
        "environment": dict(spec.environment),
        "ports": [[port.name, port.port, port.protocol] for port in spec.ports],
        "cpu_limit_millis": spec.cpu_limit_millis,
        "mem_limit_mib": spec.mem_limit_mib,
        "cpu_request_millis": spec.cpu_request_millis,
        "mem_request_mib": spec.mem_request_mib,
        "gpus": spec.gpus,
        "compute_queue": spec.compute_queue,
    }
    if spec.mounts:  # absent when empty: specs without mounts keep their earlier hashes
        fields["mounts"] = [
            [m.kind.value, m.volume_name, m.target, m.read_only, m.sub_path] for m in spec.mounts
        ]
    if spec.read_only_root:  # absent when off: earlier specs keep their hashes
        fields["read_only_root"] = True
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def spec_hash(spec: ContainerSpec) -> str:
    """Stable sha256 (hex) of the spec's content; the spec's own spec_hash is ignored."""
    return hashlib.sha256(_canonical_spec(spec).encode()).hexdigest()


def with_hash(spec: ContainerSpec) -> ContainerSpec:
    """A copy of `spec` with spec_hash filled from its content."""
    return dataclasses.replace(spec, spec_hash=spec_hash(spec))


def tail_text(text: str, limit_bytes: int) -> str:
    """At most the last `limit_bytes` bytes (UTF-8) of `text`, cut at a line start if possible.

    When the kept bytes contain an earlier line break, everything up to and including the
    first one is dropped so the result starts with a whole line; a single line longer than
    the limit is cut mid-line. A character split by the cut is dropped.
    """
    data = text.encode()
    if len(data) <= limit_bytes:
        return text
    if limit_bytes <= 0:
        return ""
    kept = data[-limit_bytes:]
    if data[-limit_bytes - 1 : -limit_bytes] != b"\n":
        newline = kept.find(b"\n")
        if 0 <= newline < len(kept) - 1:
            kept = kept[newline + 1 :]
    return kept.decode(errors="ignore")
