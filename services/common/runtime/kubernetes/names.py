"""Names, labels and annotations of a pod's Kubernetes objects, derived without any I/O.

Called by manifests.py (to build objects), runtime.py and informer.py (to find and recognise
them), and usable by the gateway to address a pod's Service (`service_host`).

Object names: the Pod, its Service and its Secret share one name,
`pods-<deployment>-<tenant>-<pod_id>`, which must be a DNS-1035 label (Service names): at most
63 characters, lowercase alphanumerics and '-', starting with a letter. A name of at most 62
characters is used as it is. Within one deployment these are unambiguous, because pod ids
contain no '-': the pod id is what follows the last '-'. A longer name becomes its first 46
characters, '-' and 16 hex digits of its sha256: always exactly 63 characters, so it can never
equal an unhashed name, and two hashed names are equal only if their sha256 prefixes are
(64 bits). As with Docker, two deployments sharing one namespace could produce the same name
(deployment "a-b" with tenant "c", deployment "a" with tenant "b-c"); the runtime then finds
another deployment's annotations on the object and refuses to touch it.

Labels are for selecting (label values are limited to 63 characters, so longer ids are
shortened the same way); the exact deployment, tenant and pod ids are kept in annotations, and
ownership is decided on those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from services.common.runtime.naming import validate_key, validate_slug
from services.common.runtime.types import (
    LABEL_DEPLOYMENT,
    LABEL_POD,
    LABEL_RUN,
    LABEL_SPEC_HASH,
    LABEL_TENANT,
    PodKey,
)

MAX_NAME_LENGTH = 63
MAX_PORT_NAME_LENGTH = 15  # IANA service names, which Kubernetes port names are
_DIGEST_LENGTH = 16
_PORT_DIGEST_LENGTH = 5
NAME_PREFIX = "pods"
ANNOTATION_SPEC_HASH = LABEL_SPEC_HASH
MANAGED_BY = {"app.kubernetes.io/managed-by": "pods-service"}


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def fit(text: str) -> str:
    """`text` if it has at most 62 characters, else its first 46, '-' and 16 hex digits of
    its sha256 (63 characters). Deterministic; an unshortened text never equals a shortened
    one (their lengths differ)."""
    if len(text) < MAX_NAME_LENGTH:
        return text
    return f"{text[: MAX_NAME_LENGTH - _DIGEST_LENGTH - 1]}-{_digest(text, _DIGEST_LENGTH)}"


def object_name(deployment_id: str, key: PodKey) -> str:
    """The name of the pod's Pod, Service and Secret (see the module docstring)."""
    validate_slug("deployment id", deployment_id)
    validate_key(key)
    return fit(f"{NAME_PREFIX}-{deployment_id}-{key.tenant_id}-{key.pod_id}")


def label_value(value: str) -> str:
    """A label value standing for `value` (slugs are valid label values up to 63 chars)."""
    return fit(value)


def labels(deployment_id: str, key: PodKey) -> dict[str, str]:
    """Labels of every object of the pod: deployment, tenant, pod, and who manages it."""
    validate_key(key)
    return {
        LABEL_DEPLOYMENT: label_value(validate_slug("deployment id", deployment_id)),
        LABEL_TENANT: label_value(key.tenant_id),
        LABEL_POD: label_value(key.pod_id),
        **MANAGED_BY,
    }


def pod_selector(deployment_id: str, key: PodKey) -> dict[str, str]:
    """The labels that select exactly the pod's Pod (a Service's selector)."""
    return {k: v for k, v in labels(deployment_id, key).items() if k not in MANAGED_BY}


def object_annotations(
    deployment_id: str, key: PodKey, spec_hash: str = "", run: int = 0
) -> dict[str, str]:
    """Annotations of every object of the pod: the exact ids, and the spec hash and the log
    run the Pod was made to start if given."""
    result = {LABEL_DEPLOYMENT: deployment_id, LABEL_TENANT: key.tenant_id, LABEL_POD: key.pod_id}
    if spec_hash:
        result[ANNOTATION_SPEC_HASH] = spec_hash
    if run > 0:
        result[LABEL_RUN] = str(run)
    return result


def deployment_selector(deployment_id: str) -> str:
    """The label selector (query form) of every object of the deployment."""
    return f"{LABEL_DEPLOYMENT}={label_value(validate_slug('deployment id', deployment_id))}"


def owned_key(deployment_id: str, metadata: Mapping[str, Any] | None) -> PodKey | None:
    """The pod an object belongs to, if its labels and annotations say this deployment made
    it; None for anything else."""
    if not metadata:
        return None
    notes = metadata.get("annotations") or {}
    tags = metadata.get("labels") or {}
    if notes.get(LABEL_DEPLOYMENT) != deployment_id:
        return None
    if tags.get(LABEL_DEPLOYMENT) != label_value(deployment_id):
        return None
    tenant, pod = str(notes.get(LABEL_TENANT, "")), str(notes.get(LABEL_POD, ""))
    if not tenant or not pod:
        return None
    key = PodKey(tenant_id=tenant, pod_id=pod)
    try:
        validate_key(key)
    except ValueError:
        return None
    return key


def port_name(stanza: str) -> str:
    """A port name (at most 15 characters, with a letter) for a networking stanza name.

    Stanza names are lowercase alphanumeric: one of at most 15 characters with a letter is
    used as it is; a longer one becomes its first 9 characters, '-' and 5 hex digits of its
    sha256, which contains a '-' and so never equals a stanza name; one of digits only
    ("8080") gets "n-" before its first 7 digits in that form, for the letter a port name
    needs."""
    digest = _digest(stanza, _PORT_DIGEST_LENGTH)
    keep = MAX_PORT_NAME_LENGTH - _PORT_DIGEST_LENGTH - 1
    if not any(c.isalpha() for c in stanza):
        return f"n-{stanza[: keep - 2]}-{digest}"
    if len(stanza) <= MAX_PORT_NAME_LENGTH:
        return stanza
    return f"{stanza[:keep]}-{digest}"


def service_host(
    deployment_id: str, key: PodKey, namespace: str, cluster_domain: str = "cluster.local"
) -> str:
    """The cluster DNS name of the pod's Service: where the gateway reaches its ports."""
    return f"{object_name(deployment_id, key)}.{namespace}.svc.{cluster_domain}"
