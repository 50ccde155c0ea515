"""The canonical API is gRPC: the same calls natively through the gateway's port, with the
token in metadata, the same rules and the right status codes, on each public service
(PodsService, TemplatesService, VolumesService, SnapshotsService, IdentityService)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf.struct_pb2 import ListValue, Value

from services.common.generated.pods.v1 import (
    identity_service_pb2,
    identity_service_pb2_grpc,
    pod_pb2,
    snapshots_service_pb2,
    snapshots_service_pb2_grpc,
    template_pb2,
    volume_pb2,
    volumes_service_pb2,
    volumes_service_pb2_grpc,
)
from services.common.generated.pods.v1 import pods_service_pb2 as pb
from services.common.generated.pods.v1 import pods_service_pb2_grpc as pb_grpc
from services.common.generated.pods.v1 import templates_service_pb2 as tpl
from services.common.generated.pods.v1 import templates_service_pb2_grpc as tpl_grpc
from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]


@pytest.fixture(scope="module")
def channel(stack: Stack) -> Iterator[grpc.Channel]:
    port = stack.env["PODS_GATEWAY_PORT"]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(channel: grpc.Channel) -> pb_grpc.PodsServiceStub:
    return pb_grpc.PodsServiceStub(channel)


@pytest.fixture(scope="module")
def templates(channel: grpc.Channel) -> tpl_grpc.TemplatesServiceStub:
    return tpl_grpc.TemplatesServiceStub(channel)


def test_pods_over_native_grpc(
    stack: Stack, stub: pb_grpc.PodsServiceStub, unique: Unique, cleanup: Cleanup
) -> None:
    auth = (("x-tapis-token", stack.token()),)
    grpcpod = cleanup.pod(unique("grpcpod"))
    created = stub.CreatePod(
        pb.CreatePodRequest(pod=pod_pb2.Pod(pod_id=grpcpod, image="pods-http:latest")),
        metadata=auth,
        timeout=10,
    )
    assert created.result.status == "REQUESTED"
    deadline = time.monotonic() + 60
    while stub.GetPod(pb.GetPodRequest(pod_id=grpcpod), metadata=auth).result.status != (
        "AVAILABLE"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    listed = stub.ListPods(pb.ListPodsRequest(), metadata=auth)
    assert grpcpod in [p.pod_id for p in listed.result]
    stopped = stub.StopPod(pb.StopPodRequest(pod_id=grpcpod), metadata=auth)
    assert stopped.result.status_requested == "OFF"
    stub.DeletePod(pb.DeletePodRequest(pod_id=grpcpod), metadata=auth)


@pytest.mark.parametrize(
    ("call", "code", "words"),
    [
        (
            lambda c, a: pb_grpc.PodsServiceStub(c).GetPod(
                pb.GetPodRequest(pod_id="nosuchpod"), metadata=a
            ),
            "NOT_FOUND",
            "pod 'nosuchpod' not found",
        ),
        (
            lambda c, a: pb_grpc.PodsServiceStub(c).CreatePod(
                pb.CreatePodRequest(pod=pod_pb2.Pod(pod_id="x")), metadata=a
            ),
            "INVALID_ARGUMENT",
            "pod_id: must be 3 to 64",
        ),
        (
            lambda c, a: pb_grpc.PodsServiceStub(c).ListPods(pb.ListPodsRequest()),
            "UNAUTHENTICATED",
            "no token",
        ),
        (
            lambda c, a: tpl_grpc.TemplatesServiceStub(c).AddImage(
                tpl.AddImageRequest(), metadata=a
            ),
            "PERMISSION_DENIED",
            "only tenant admins",
        ),
        (
            lambda c, a: volumes_service_pb2_grpc.VolumesServiceStub(c).GetVolume(
                volumes_service_pb2.GetVolumeRequest(volume_id="nosuchvol"), metadata=a
            ),
            "NOT_FOUND",
            "volume 'nosuchvol' not found",
        ),
        (
            lambda c, a: snapshots_service_pb2_grpc.SnapshotsServiceStub(c).ListSnapshots(
                snapshots_service_pb2.ListSnapshotsRequest()
            ),
            "UNAUTHENTICATED",
            "no token",
        ),
    ],
)
def test_errors_carry_their_grpc_status(
    stack: Stack,
    channel: grpc.Channel,
    call: Callable[[grpc.Channel, tuple[tuple[str, str], ...]], object],
    code: str,
    words: str,
) -> None:
    auth = (("x-tapis-token", stack.token()),)
    with pytest.raises(grpc.RpcError) as info:
        call(channel, auth)
    assert info.value.code().name == code
    assert words in (info.value.details() or "")


def test_the_rest_of_the_pod_calls_over_native_grpc(
    stack: Stack, stub: pb_grpc.PodsServiceStub, unique: Unique, cleanup: Cleanup
) -> None:
    auth = (("x-tapis-token", stack.token()),)
    other = (("x-tapis-token", stack.token("otheruser", "otherpass")),)
    grpcdb = cleanup.pod(unique("grpcdb"))
    stub.CreatePod(
        pb.CreatePodRequest(pod=pod_pb2.Pod(pod_id=grpcdb, template="postgres")), metadata=auth
    )
    eventually(
        lambda: (
            stub.GetPod(pb.GetPodRequest(pod_id=grpcdb), metadata=auth).result.status == "AVAILABLE"
        ),
        what="grpcdb AVAILABLE",
    )
    creds = stub.GetPodCredentials(pb.GetPodCredentialsRequest(pod_id=grpcdb), metadata=auth)
    assert creds.result.user_username == grpcdb
    logs = eventually(
        lambda: (
            "ready to accept"
            in (
                r := stub.GetPodLogs(pb.GetPodLogsRequest(pod_id=grpcdb), metadata=auth)
            ).result.logs
            and r
        ),
        what="logs",
    )
    assert logs.result.action_logs
    one_command = ListValue(values=[Value(string_value="id"), Value(string_value="-u")])
    ran = stub.ExecPodCommands(
        pb.ExecPodCommandsRequest(pod_id=grpcdb, commands=one_command), metadata=auth
    )
    assert ran.result.execution_results[0].success
    updated = stub.UpdatePod(
        pb.UpdatePodRequest(pod_id=grpcdb, pod=pod_pb2.Pod(description="over grpc")),
        metadata=auth,
    )
    assert "no restart" in updated.message
    granted = stub.SetPodPermission(
        pb.SetPodPermissionRequest(pod_id=grpcdb, user="otheruser", level="READ"), metadata=auth
    )
    assert "otheruser:READ" in granted.result.permissions
    with pytest.raises(grpc.RpcError) as info:
        stub.GetPodCredentials(pb.GetPodCredentialsRequest(pod_id=grpcdb), metadata=other)
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "USER" in (info.value.details() or "")
    stub.DeletePodPermission(
        pb.DeletePodPermissionRequest(pod_id=grpcdb, user="otheruser"), metadata=auth
    )
    listed = stub.GetPodPermissions(pb.GetPodPermissionsRequest(pod_id=grpcdb), metadata=auth)
    assert list(listed.result.permissions) == ["testuser:ADMIN"]
    assert stub.RestartPod(pb.RestartPodRequest(pod_id=grpcdb), metadata=auth).result
    assert stub.StartPod(pb.StartPodRequest(pod_id=grpcdb), metadata=auth).message
    stub.DeletePod(pb.DeletePodRequest(pod_id=grpcdb), metadata=auth)


def test_templates_and_images_over_native_grpc(
    stack: Stack, templates: tpl_grpc.TemplatesServiceStub, unique: Unique, cleanup: Cleanup
) -> None:
    admin = (("x-tapis-token", stack.token("adminuser", "adminpass")),)
    user = (("x-tapis-token", stack.token()),)
    grpctpl = cleanup.template(unique("grpctpl"))
    created = templates.CreateTemplate(
        tpl.CreateTemplateRequest(
            template=template_pb2.Template(template_id=grpctpl, image="pods-http:latest")
        ),
        metadata=admin,
    )
    assert created.result.owner == "adminuser"
    with pytest.raises(grpc.RpcError) as info:
        templates.GetTemplate(tpl.GetTemplateRequest(template_id=grpctpl), metadata=user)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert f"template '{grpctpl}' not found" in (info.value.details() or "")
    templates.SetTemplatePermission(
        tpl.SetTemplatePermissionRequest(template_id=grpctpl, user="testuser", level="READ"),
        metadata=admin,
    )
    assert templates.GetTemplate(tpl.GetTemplateRequest(template_id=grpctpl), metadata=user).result
    names = [
        t.template_id
        for t in templates.ListTemplates(tpl.ListTemplatesRequest(), metadata=user).result
    ]
    assert {grpctpl, "postgres", "neo4j"} <= set(names)
    templates.UpdateTemplate(
        tpl.UpdateTemplateRequest(
            template_id=grpctpl, template=template_pb2.Template(description="changed")
        ),
        metadata=admin,
    )
    perms = templates.GetTemplatePermissions(
        tpl.GetTemplatePermissionsRequest(template_id=grpctpl), metadata=admin
    )
    assert "testuser:READ" in perms.result.permissions
    templates.DeleteTemplatePermission(
        tpl.DeleteTemplatePermissionRequest(template_id=grpctpl, user="testuser"), metadata=admin
    )
    templates.DeleteTemplate(tpl.DeleteTemplateRequest(template_id=grpctpl), metadata=admin)

    # The allow-list is the tenant's, shared by every test: the cleanup fixture removes the
    # rule whatever happens here (while it exists, pods of other images are refused).
    templates.AddImage(
        tpl.AddImageRequest(image=template_pb2.ImageRule(image=cleanup.image("pods-http:*"))),
        metadata=admin,
    )
    listed = templates.ListImages(tpl.ListImagesRequest(), metadata=user).result
    assert "pods-http:*" in [r.image for r in listed]
    templates.DeleteImage(tpl.DeleteImageRequest(image_id="pods-http:*"), metadata=admin)
    listed = templates.ListImages(tpl.ListImagesRequest(), metadata=user).result
    assert "pods-http:*" not in [r.image for r in listed]


def test_volumes_and_snapshots_over_native_grpc(
    stack: Stack, channel: grpc.Channel, unique: Unique, cleanup: Cleanup
) -> None:
    grpcvol = cleanup.volume(unique("grpcvol"))
    grpcsnap = cleanup.snapshot(unique("grpcsnap"))
    auth = (("x-tapis-token", stack.token()),)
    volumes = volumes_service_pb2_grpc.VolumesServiceStub(channel)
    snapshots = snapshots_service_pb2_grpc.SnapshotsServiceStub(channel)
    vol = volumes_service_pb2
    volumes.CreateVolume(
        vol.CreateVolumeRequest(volume=volume_pb2.Volume(volume_id=grpcvol)), metadata=auth
    )
    upload = vol.UploadToVolumeRequest(volume_id=grpcvol, path="a/b.txt")
    upload.file.data = b"over grpc"
    assert volumes.UploadToVolume(upload, metadata=auth).result == "a/b.txt"
    # Downloads are a stream of HttpBody chunks; the first names the content type.
    got = list(
        volumes.GetVolumeContents(
            vol.GetVolumeContentsRequest(volume_id=grpcvol, path="a/b.txt"), metadata=auth
        )
    )
    assert got[0].content_type == "application/octet-stream"
    assert b"".join(message.data for message in got) == b"over grpc"
    with pytest.raises(grpc.RpcError) as missing:
        list(
            volumes.GetVolumeContents(
                vol.GetVolumeContentsRequest(volume_id=grpcvol, path="nope"), metadata=auth
            )
        )
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    for bad in ("../x", "/etc/passwd", "a/../../x"):
        upload.path = bad
        with pytest.raises(grpc.RpcError) as info:
            volumes.UploadToVolume(upload, metadata=auth)
        assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT

    snap = snapshots_service_pb2
    taken = snapshots.CreateSnapshot(
        snap.CreateSnapshotRequest(
            snapshot=volume_pb2.Snapshot(
                snapshot_id=grpcsnap, source_volume_id=grpcvol, source_volume_path="/"
            )
        ),
        metadata=auth,
    )
    assert taken.result.source_volume_id == grpcvol
    listed = snapshots.ListSnapshotFiles(
        snap.ListSnapshotFilesRequest(snapshot_id=grpcsnap, recursive=True), metadata=auth
    )
    assert "a/b.txt" in [entry.path for entry in listed.result]
    copied = snapshots.GetSnapshotContents(
        snap.GetSnapshotContentsRequest(snapshot_id=grpcsnap, path="a/b.txt"), metadata=auth
    )
    assert b"".join(message.data for message in copied) == b"over grpc"
    snapshots.DeleteSnapshot(snap.DeleteSnapshotRequest(snapshot_id=grpcsnap), metadata=auth)
    volumes.DeleteVolume(vol.DeleteVolumeRequest(volume_id=grpcvol), metadata=auth)


def test_tokens_over_native_grpc(stack: Stack) -> None:
    port = stack.env["PODS_GATEWAY_PORT"]
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        identity = identity_service_pb2_grpc.IdentityServiceStub(channel)
        token = identity.CreateToken(
            identity_service_pb2.CreateTokenRequest(
                username="testuser", password="testpass", grant_type="password"
            )
        )
        assert token.result.access_token.access_token.count(".") == 2
        with pytest.raises(grpc.RpcError) as info:
            identity.CreateToken(
                identity_service_pb2.CreateTokenRequest(
                    username="testuser", password="nope", grant_type="password"
                )
            )
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
