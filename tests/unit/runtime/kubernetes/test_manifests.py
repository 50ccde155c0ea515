"""The pure manifest builders, compared with literal expected objects, and every object they
build validated against the Kubernetes OpenAPI models of the client (unknown fields and
missing required fields rejected)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from kubernetes.client import V1Pod, V1Secret, V1Service

from services.common.outcomes import PermanentError
from services.common.runtime.kubernetes.queues import ComputeQueue, Toleration
from services.common.runtime.naming import with_hash
from services.common.runtime.types import (
    ContainerSpec,
    MountSpec,
    PodKey,
    PortSpec,
    StorageKind,
)
from services.spawner.platforms.kubernetes.config import KubernetesConfig, SecurityDefaults
from services.spawner.platforms.kubernetes.manifests import (
    Placement,
    literal,
    placement_of,
    pod_manifest,
    secret_manifest,
    service_manifest,
)

KEY = PodKey("dev", "web1")
SPEC = with_hash(
    ContainerSpec(
        key=KEY,
        image="pods-http:latest",
        command=("/bin/busybox",),
        arguments=("httpd", "-f", "$(HOME)"),
        environment={"POD_MESSAGE": "hi", "A": "1"},
        ports=(
            PortSpec(name="web", port=5000, protocol="http"),
            PortSpec(name="default", port=5432, protocol="postgres"),
            PortSpec(name="side", port=6000, protocol="local_only"),
        ),
        cpu_limit_millis=500,
        mem_limit_mib=256,
    )
)
CONFIG = KubernetesConfig(namespace="pods")
LABELS = {
    "org.pods-service.deployment": "prod",
    "org.pods-service.tenant": "dev",
    "org.pods-service.pod": "web1",
    "app.kubernetes.io/managed-by": "pods-service",
}
ANNOTATIONS = {
    "org.pods-service.deployment": "prod",
    "org.pods-service.tenant": "dev",
    "org.pods-service.pod": "web1",
}
NAME = "pods-prod-dev-web1"


def valid(model: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` after checking it against the client's model of its kind (strict)."""
    model.model_validate(obj)
    return obj


def test_secret_holds_the_environment() -> None:
    assert valid(V1Secret, secret_manifest("prod", SPEC, CONFIG)) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": NAME,
            "namespace": "pods",
            "labels": LABELS,
            "annotations": ANNOTATIONS,
        },
        "type": "Opaque",
        "data": {"A": "MQ==", "POD_MESSAGE": "aGk="},
    }


def test_a_pod_is_annotated_with_the_run_it_starts_and_only_the_pod() -> None:
    spec = dataclasses.replace(SPEC, run=3)
    annotations = pod_manifest("prod", spec, CONFIG)["metadata"]["annotations"]
    assert annotations["org.pods-service.run"] == "3"
    unlabelled = pod_manifest("prod", SPEC, CONFIG)["metadata"]["annotations"]
    assert "org.pods-service.run" not in unlabelled
    service = service_manifest("prod", spec, CONFIG, "uid-1")
    assert service is not None and "org.pods-service.run" not in service["metadata"]["annotations"]


def test_pod() -> None:
    assert valid(V1Pod, pod_manifest("prod", SPEC, CONFIG)) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": NAME,
            "namespace": "pods",
            "labels": LABELS,
            "annotations": {**ANNOTATIONS, "org.pods-service.spec-hash": SPEC.spec_hash},
        },
        "spec": {
            "containers": [
                {
                    "name": "main",
                    "image": "pods-http:latest",
                    "command": ["/bin/busybox"],
                    "args": ["httpd", "-f", "$$(HOME)"],
                    "env": [
                        {"name": "A", "valueFrom": {"secretKeyRef": {"name": NAME, "key": "A"}}},
                        {
                            "name": "POD_MESSAGE",
                            "valueFrom": {"secretKeyRef": {"name": NAME, "key": "POD_MESSAGE"}},
                        },
                    ],
                    "ports": [
                        {"name": "web", "containerPort": 5000, "protocol": "TCP"},
                        {"name": "default", "containerPort": 5432, "protocol": "TCP"},
                        {"name": "side", "containerPort": 6000, "protocol": "TCP"},
                    ],
                    "resources": {
                        "requests": {"cpu": "250m", "memory": "256Mi"},
                        "limits": {"cpu": "500m", "memory": "256Mi"},
                    },
                    "imagePullPolicy": "IfNotPresent",
                    "securityContext": {
                        "privileged": False,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {
                            "drop": ["ALL"],
                            "add": [
                                "CHOWN",
                                "DAC_OVERRIDE",
                                "FOWNER",
                                "KILL",
                                "NET_BIND_SERVICE",
                                "SETGID",
                                "SETUID",
                            ],
                        },
                        "readOnlyRootFilesystem": False,
                    },
                    "readinessProbe": {
                        "tcpSocket": {"port": 5432},  # the "default" stanza first
                        "periodSeconds": 2,
                        "timeoutSeconds": 1,
                    },
                }
            ],
            "restartPolicy": "Never",
            "enableServiceLinks": False,
            "automountServiceAccountToken": False,
            "terminationGracePeriodSeconds": 30,
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        },
    }


def test_no_secret_value_appears_in_the_pod() -> None:
    text = repr(pod_manifest("prod", SPEC, CONFIG))
    assert "hi" not in text.replace("httpd", "").replace("POD_MESSAGE", "")
    assert "MQ==" not in text and "aGk=" not in text


def test_service_publishes_routed_ports_and_is_owned_by_the_pod() -> None:
    service = service_manifest("prod", SPEC, CONFIG, "uid-7")
    assert service is not None
    assert valid(V1Service, service) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": NAME,
            "namespace": "pods",
            "labels": LABELS,
            "annotations": ANNOTATIONS,
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": NAME, "uid": "uid-7"}],
        },
        "spec": {
            "type": "ClusterIP",
            "selector": {k: v for k, v in LABELS.items() if k.startswith("org.")},
            "ports": [
                {"name": "default", "port": 5432, "targetPort": 5432, "protocol": "TCP"},
                {"name": "web", "port": 5000, "targetPort": 5000, "protocol": "TCP"},
            ],
        },
    }


def test_a_pod_with_only_local_ports_has_no_service_and_no_probe() -> None:
    spec = with_hash(
        dataclasses.replace(SPEC, ports=(PortSpec("side", 6000, "local_only"),), environment={})
    )
    assert service_manifest("prod", spec, CONFIG, "uid") is None
    container = valid(V1Pod, pod_manifest("prod", spec, CONFIG))["spec"]["containers"][0]
    assert "readinessProbe" not in container and "env" not in container


GPU_CONFIG = KubernetesConfig(
    namespace="science",
    image_pull_policy="Always",
    image_pull_secrets=("registry-a", "registry-b"),
    compute_queues={
        "default": ComputeQueue(),
        "gpu": ComputeQueue(
            node_selector={"pods.example.org/gpu": "a100"},
            tolerations=(
                Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule"),
                Toleration(key="dedicated", value="science"),
            ),
        ),
    },
    service_account="pod-runner",
    termination_grace_seconds=10,
    security=SecurityDefaults(non_root_images=("ghcr.io/acme/",)),
)


def test_gpus_queue_pull_settings_and_the_restricted_profile() -> None:
    spec = with_hash(
        ContainerSpec(
            key=KEY, image="ghcr.io/acme/jupyter:1", cpu_limit_millis=4000, mem_limit_mib=8192
        )
    )
    placement = Placement(
        cpu_request_millis=1000, mem_request_mib=10000, gpus=2, compute_queue="gpu"
    )
    pod = valid(V1Pod, pod_manifest("prod", spec, GPU_CONFIG, placement))
    assert pod["spec"] == {
        "containers": [
            {
                "name": "main",
                "image": "ghcr.io/acme/jupyter:1",
                "resources": {
                    "requests": {"cpu": "1000m", "memory": "8192Mi"},  # capped at the limit
                    "limits": {"cpu": "4000m", "memory": "8192Mi", "nvidia.com/gpu": "2"},
                },
                "imagePullPolicy": "Always",
                "securityContext": {
                    "privileged": False,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": False,
                    "runAsNonRoot": True,
                },
            }
        ],
        "restartPolicy": "Never",
        "enableServiceLinks": False,
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 10,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsNonRoot": True},
        "nodeSelector": {"pods.example.org/gpu": "a100"},
        "tolerations": [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "dedicated", "operator": "Equal", "value": "science"},
        ],
        "serviceAccountName": "pod-runner",
        "imagePullSecrets": [{"name": "registry-a"}, {"name": "registry-b"}],
    }
    assert pod["metadata"]["namespace"] == "science"


def test_an_unknown_compute_queue_is_a_permanent_error() -> None:
    with pytest.raises(PermanentError, match="compute queue 'nope' is not configured"):
        pod_manifest("prod", SPEC, CONFIG, Placement(compute_queue="nope"))


def mounted(*mounts: MountSpec) -> dict[str, Any]:
    """The validated Pod of SPEC with `mounts`."""
    return valid(
        V1Pod, pod_manifest("prod", with_hash(dataclasses.replace(SPEC, mounts=mounts)), CONFIG)
    )


def test_a_pod_without_mounts_has_no_volumes() -> None:
    pod = pod_manifest("prod", SPEC, CONFIG)
    assert "volumes" not in pod["spec"] and "volumeMounts" not in pod["spec"]["containers"][0]


def test_a_volume_is_mounted_read_write_from_its_claim() -> None:
    pod = mounted(MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-data", "/data", False))
    assert pod["spec"]["volumes"] == [
        {
            "name": "data-0",
            "persistentVolumeClaim": {"claimName": "pods-prod-vol-dev-data", "readOnly": False},
        }
    ]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data-0", "mountPath": "/data", "readOnly": False}
    ]


def test_a_read_only_volume_mounts_its_sub_path() -> None:
    pod = mounted(
        MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-data", "/in", True, "inputs/run-1")
    )
    assert pod["spec"]["volumes"] == [
        {
            "name": "data-0",
            "persistentVolumeClaim": {"claimName": "pods-prod-vol-dev-data", "readOnly": True},
        }
    ]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data-0", "mountPath": "/in", "readOnly": True, "subPath": "inputs/run-1"}
    ]


def test_a_snapshot_is_always_mounted_read_only() -> None:
    pod = mounted(MountSpec(StorageKind.SNAPSHOT, "pods-prod-snap-dev-s1", "/snap", False))
    assert pod["spec"]["volumes"] == [
        {
            "name": "data-0",
            "persistentVolumeClaim": {"claimName": "pods-prod-snap-dev-s1", "readOnly": True},
        }
    ]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data-0", "mountPath": "/snap", "readOnly": True}
    ]


def test_mounts_keep_their_order_and_are_named_by_position() -> None:
    pod = mounted(
        MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-b", "/b", False),
        MountSpec(StorageKind.SNAPSHOT, "pods-prod-snap-dev-a", "/a", True, "x"),
    )
    assert pod["spec"]["volumes"] == [
        {
            "name": "data-0",
            "persistentVolumeClaim": {"claimName": "pods-prod-vol-dev-b", "readOnly": False},
        },
        {
            "name": "data-1",
            "persistentVolumeClaim": {"claimName": "pods-prod-snap-dev-a", "readOnly": True},
        },
    ]
    assert pod["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data-0", "mountPath": "/b", "readOnly": False},
        {"name": "data-1", "mountPath": "/a", "readOnly": True, "subPath": "x"},
    ]


def test_placement_comes_from_the_spec() -> None:
    richer = dataclasses.replace(
        SPEC, cpu_request_millis=100, mem_request_mib=64, gpus=1, compute_queue="gpu"
    )
    assert placement_of(richer) == Placement(100, 64, 1, "gpu")


@pytest.mark.parametrize(
    ("text", "escaped"),
    [("$(HOME)", "$$(HOME)"), ("$$", "$$$$"), ("a$", "a$$"), ("plain", "plain")],
)
def test_command_text_is_protected_from_variable_expansion(text: str, escaped: str) -> None:
    assert literal(text) == escaped


def test_a_read_only_root_gets_in_memory_tmp_and_run_after_the_claims() -> None:
    spec = dataclasses.replace(
        SPEC,
        read_only_root=True,
        mounts=(MountSpec(StorageKind.VOLUME, "pods-prod-vol-dev-data", "/data", False),),
    )
    pod = valid(V1Pod, pod_manifest("prod", with_hash(spec), CONFIG))
    container = pod["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["volumeMounts"] == [
        {"name": "data-0", "mountPath": "/data", "readOnly": False},
        {"name": "scratch-0", "mountPath": "/tmp"},
        {"name": "scratch-1", "mountPath": "/run"},
    ]
    assert pod["spec"]["volumes"] == [
        {
            "name": "data-0",
            "persistentVolumeClaim": {"claimName": "pods-prod-vol-dev-data", "readOnly": False},
        },
        {"name": "scratch-0", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "scratch-1", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
    ]


def test_no_host_path_and_no_host_namespaces_ever() -> None:
    spec = dataclasses.replace(
        SPEC,
        read_only_root=True,
        mounts=(MountSpec(StorageKind.SNAPSHOT, "pods-prod-snap-dev-s", "/s", True),),
    )
    pod = pod_manifest("prod", with_hash(spec), CONFIG)
    assert all(set(v) & {"persistentVolumeClaim", "emptyDir"} for v in pod["spec"]["volumes"])
    assert "hostPath" not in repr(pod) and "docker.sock" not in repr(pod)
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod["spec"])
