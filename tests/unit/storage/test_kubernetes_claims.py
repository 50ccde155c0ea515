"""The claims and helper pods behind volumes on Kubernetes (services/spawner/platforms/kubernetes/claims.py), and
KubernetesVolumeStore's own decisions against the in-memory KubeApi double: helper start-up,
failures, placement, and exactly which API verbs it uses (the spawner's Role)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import V1PersistentVolumeClaim, V1Pod

from services.common.outcomes import PermanentError, TemporaryError
from services.common.storage.types import SnapshotKey, VolumeKey
from services.spawner.platforms.kubernetes.api import API_VERBS, STORAGE_ACCESS, ExecBytes
from services.spawner.platforms.kubernetes.claims import (
    ClaimSettings,
    claim_selector,
    helper_name,
    helper_pod,
    helper_state,
    node_for,
    snapshot_claim,
    users_of,
    volume_claim,
)
from services.spawner.platforms.kubernetes.config import KubernetesConfig
from services.spawner.platforms.kubernetes.volumes import KubernetesVolumeStore
from tests.unit.runtime.kubernetes.fake_api import FakeKubeApi

WHEN = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
VOL = VolumeKey("dev", "vol1")
SETTINGS = ClaimSettings(storage_class="fast", access_mode="ReadWriteMany")


def valid(model: Any, obj: dict[str, Any]) -> dict[str, Any]:
    model.model_validate(obj)
    return obj


def test_a_volume_claim_requests_its_size_limit() -> None:
    assert valid(V1PersistentVolumeClaim, volume_claim("prod", VOL, 5000, WHEN, SETTINGS)) == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "pods-prod-vol-dev-vol1",
            "labels": {
                "org.pods-service.deployment": "prod",
                "org.pods-service.tenant": "dev",
                "org.pods-service.volume": "vol1",
                "app.kubernetes.io/managed-by": "pods-service",
            },
            "annotations": {
                "org.pods-service.deployment": "prod",
                "org.pods-service.tenant": "dev",
                "org.pods-service.volume": "vol1",
                "org.pods-service.size-limit-bytes": "5000",
                "org.pods-service.created-at": "2024-05-01T10:00:00+00:00",
            },
        },
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "resources": {"requests": {"storage": "5000"}},
            "storageClassName": "fast",
        },
    }


def test_a_snapshot_claim_names_its_source_and_token_and_takes_the_default_class() -> None:
    claim = snapshot_claim(
        "prod", SnapshotKey("dev", "snap1"), VOL, "data", 7000, "tok", WHEN, ClaimSettings()
    )
    valid(V1PersistentVolumeClaim, claim)
    assert claim["metadata"]["name"] == "pods-prod-snap-dev-snap1"
    assert claim["metadata"]["annotations"]["org.pods-service.source-volume"] == "vol1"
    assert claim["metadata"]["annotations"]["org.pods-service.source-path"] == "data"
    assert claim["metadata"]["annotations"]["org.pods-service.copy-token"] == "tok"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "7000"}},
    }


def test_claim_settings_refuse_an_unknown_access_mode() -> None:
    with pytest.raises(ValueError, match="access mode"):
        ClaimSettings(access_mode="ReadOnlyMany!")


def test_claim_selector_selects_the_kind_and_tenant() -> None:
    assert claim_selector("prod", "org.pods-service.volume", "dev") == (
        "org.pods-service.deployment=prod,org.pods-service.volume,org.pods-service.tenant=dev"
    )


def test_helper_names_are_dns_labels_whatever_the_deployment() -> None:
    name = helper_name("a-very-long-deployment-id-" * 4, "0123456789ab")
    assert len(name) <= 63 and name.startswith("pods-helper-") and name.endswith("0123456789ab")


def test_the_helper_pod_is_locked_down_and_mounts_what_it_is_given() -> None:
    config = KubernetesConfig(image_pull_secrets=("regcred",), image_pull_policy="Always")
    pod = valid(
        V1Pod,
        helper_pod(
            "prod",
            "dev",
            "pods-helper-x",
            [("c1", "/v", True), ("c2", "/s", False)],
            "n1",
            config,
            ClaimSettings(helper_image="reg/busybox:1"),
        ),
    )
    spec = pod["spec"]
    assert pod["metadata"]["labels"]["org.pods-service.storage-helper"] == "1"
    assert spec["nodeName"] == "n1"
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert spec["activeDeadlineSeconds"] == 3600
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    assert spec["volumes"] == [
        {"name": "v0", "persistentVolumeClaim": {"claimName": "c1", "readOnly": True}},
        {"name": "v1", "persistentVolumeClaim": {"claimName": "c2", "readOnly": False}},
    ]
    container = spec["containers"][0]
    assert (container["image"], container["imagePullPolicy"]) == ("reg/busybox:1", "Always")
    assert container["volumeMounts"] == [
        {"name": "v0", "mountPath": "/v", "readOnly": True},
        {"name": "v1", "mountPath": "/s", "readOnly": False},
    ]
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert "SYS_ADMIN" not in container["securityContext"]["capabilities"]["add"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]}, "running"),
        ({"phase": "Pending"}, "waiting"),
        (
            {
                "phase": "Pending",
                "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unsched"}],
            },
            "waiting",
        ),
        (
            {
                "phase": "Pending",
                "containerStatuses": [{"state": {"waiting": {"reason": "ErrImagePull"}}}],
            },
            "failed",
        ),
        ({"phase": "Failed", "message": "deadline"}, "failed"),
    ],
)
def test_helper_state_reads_the_pod_status(status: dict[str, Any], state: str) -> None:
    assert helper_state({"status": status})[0] == state


def _pod(name: str, claim: str, node: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, **extra},
        "spec": {
            "nodeName": node,
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
        },
        "status": {"phase": "Running"},
    }


def test_users_and_node_of_a_claim_ignore_pods_being_deleted() -> None:
    gone = _pod("old", "c1", "n0", deletionTimestamp="2024-01-01T00:00:00Z")
    pods = [gone, _pod("a", "c2", "n2"), _pod("b", "c1", "n1")]
    assert [p["metadata"]["name"] for p in users_of(pods, "c1")] == ["b"]
    assert node_for(pods, ["c1"]) == "n1"
    assert node_for(pods, ["c3"]) == ""


# --- the store against the in-memory double --------------------------------------------------


def make_store(api: FakeKubeApi, timeout: float = 5.0) -> KubernetesVolumeStore:
    return KubernetesVolumeStore(
        "prod",
        KubernetesConfig(),
        ClaimSettings(helper_start_timeout_s=timeout),
        api_factory=lambda: api,
        poll_interval_s=0.01,
    )


def an_empty_volume(pod: str, argv: list[str], stdin: bytes | None) -> ExecBytes:
    """Answers the helper's commands as busybox would on an empty volume: the root is a
    directory, any path below it is absent, every other command succeeds silently."""
    if any("probe()" in arg for arg in argv):
        absent = b"-n\0\0\0" if argv[-1] else b""
        return ExecBytes(0, b"-d\0/v\n\0\0" + absent + b"\0pods-end 0\0", b"")
    return ExecBytes(0, b"\0pods-end 0\0", b"")


def run_helpers(api: FakeKubeApi) -> None:
    """Every helper Pod created from now on reports Running at once."""
    create = api.create

    def create_running(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        created = create(kind, body)
        if kind == "pods":
            api.set_status(
                body["metadata"]["name"],
                {"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]},
            )
        return created

    api.create = create_running  # type: ignore[method-assign]


async def test_an_image_that_cannot_be_pulled_is_permanent_and_the_helper_is_deleted() -> None:
    api = FakeKubeApi()
    store = make_store(api)
    await store.create_volume(VOL, 100)
    create = api.create

    def create_failing(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        created = create(kind, body)
        if kind == "pods":
            waiting = {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}
            api.set_status(
                body["metadata"]["name"],
                {"phase": "Pending", "containerStatuses": [{"state": waiting}]},
            )
        return created

    api.create = create_failing  # type: ignore[method-assign]
    with pytest.raises(PermanentError, match="ImagePullBackOff"):
        await store.list_files(VOL)
    assert api.names("pods") == []


async def test_a_helper_that_never_starts_is_temporary_with_the_reason() -> None:
    api = FakeKubeApi()
    store = make_store(api, timeout=0.2)
    await store.create_volume(VOL, 100)
    with pytest.raises(TemporaryError, match="did not start within"):
        await store.list_files(VOL)
    assert api.names("pods") == []


async def test_a_claim_being_deleted_counts_as_absent() -> None:
    api = FakeKubeApi()
    store = make_store(api)
    info = await store.create_volume(VOL, 100)
    api.objects[("persistentvolumeclaims", info.name)]["metadata"]["deletionTimestamp"] = "x"
    assert await store.get_volume(VOL) is None
    with pytest.raises(TemporaryError, match="still being deleted"):
        await store.create_volume(VOL, 100)


async def test_the_store_uses_exactly_the_verbs_of_its_role() -> None:
    """Every KubeApi call the store makes, over all its operations, maps to a verb the API's
    Role grants (client.STORAGE_ACCESS), and every granted verb is used."""
    api = FakeKubeApi()
    run_helpers(api)

    api.exec_bytes_handler = an_empty_volume
    store = make_store(api)
    await store.create_volume(VOL, 100)
    await store.list_volumes("dev")
    await store.upload(VOL, "f", b"x")
    await store.list_files(VOL)
    await store.create_snapshot(VOL, SnapshotKey("dev", "snap1"))
    assert await store.delete_volume(VOL) is True
    used: dict[str, set[str]] = {}
    for method, resource in api.calls:
        used.setdefault(resource, set()).update(API_VERBS[method][0])
    assert used == {k: set(v) for k, v in STORAGE_ACCESS.items()}


async def test_helpers_left_by_a_crash_are_deleted_by_the_next_operation() -> None:
    api = FakeKubeApi(exec_bytes_handler=an_empty_volume)
    run_helpers(api)
    store = make_store(api)
    await store.create_volume(VOL, 100)
    leftover = helper_pod(
        "prod",
        "dev",
        "pods-helper-old",
        [("c", "/v", True)],
        "",
        KubernetesConfig(),
        ClaimSettings(),
    )
    api.add_object("pods", leftover)
    api.set_status("pods-helper-old", {"phase": "Failed", "reason": "DeadlineExceeded"})
    api.add_object(
        "pods",
        {
            **_pod("pods-x-dev-web1", "c"),
            "metadata": {
                "name": "pods-x-dev-web1",
                "labels": {"org.pods-service.deployment": "prod"},
            },
        },
    )
    await store.list_volumes()  # no helper: nothing swept
    assert "pods-helper-old" in api.names("pods")
    await store.list_files(VOL)
    assert "pods-helper-old" not in api.names("pods")
    assert "pods-x-dev-web1" in api.names("pods")  # the user's pod is never touched
