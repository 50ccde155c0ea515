"""What the test_runtime_*.py modules share: the pod spec, deployment and config
KubernetesRuntime is tested with, and helpers reading and building the Kubernetes objects
FakeKubeApi holds (owner references, a running status, Secret data, an object of another
deployment)."""

from __future__ import annotations

import base64
from typing import Any

from services.common.runtime.kubernetes.names import labels, object_annotations
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, PodKey, PortSpec
from services.spawner.platforms.kubernetes.config import KubernetesConfig

KEY = PodKey("dev", "web1")
NAME = "pods-prod-dev-web1"
SPEC = with_hash(
    ContainerSpec(
        key=KEY,
        image="pods-http:latest",
        environment={"A": "1", "B": "2"},
        ports=(PortSpec("default", 5000, "http"), PortSpec("side", 6000, "local_only")),
    )
)
CONFIG = KubernetesConfig(namespace="pods")


def owners(obj: dict[str, Any]) -> list[str]:
    return [ref["uid"] for ref in obj["metadata"].get("ownerReferences", [])]


def running(ready: bool = True) -> dict[str, Any]:
    return {
        "phase": "Running",
        "containerStatuses": [
            {
                "name": "main",
                "ready": ready,
                "state": {"running": {"startedAt": "2024-05-01T10:00:00Z"}},
            }
        ],
    }


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def foreign(kind: str) -> dict[str, Any]:
    other = PodKey("dev", "web1")
    body: dict[str, Any] = {
        "metadata": {
            "name": NAME,
            "labels": labels("other", other),
            "annotations": object_annotations("other", other),
        }
    }
    if kind == "pods":
        body["spec"] = {"containers": [{"name": "main", "image": "x"}]}
    if kind == "services":
        body["spec"] = {"ports": [{"port": 1}]}
    return body
