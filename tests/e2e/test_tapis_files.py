"""Tapis's file and image calls end to end through the real tapipy client, unchanged:
upload_to_pod puts a file into a running pod (read back from inside the container),
add_images and get_image on the allow-list, and zipped downloads of a volume's and a
snapshot's directories (unzipped and compared)."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import quote

import pytest

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import Stack, eventually
from tests.e2e.refusals import refusal
from tests.e2e.test_volumes import client

pytestmark = [pytest.mark.docker, pytest.mark.stack]


def read_in_container(stack: Stack, pod_id: str, path: str) -> bytes:
    (container,) = stack.containers(pod_id)
    result = container.exec_run(["cat", path])
    assert result.exit_code == 0, result.output
    return bytes(result.output)


def test_upload_to_pod_puts_the_file_into_the_running_container(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = client(stack)
    pod_id = cleanup.pod(unique("upload"))
    t.pods.create_pod(pod_id=pod_id, image="pods-http:latest")
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", what="pod up")
    content = b"binary \x00\xff and lines\r\n" * 1000

    done = t.pods.upload_to_pod(pod_id=pod_id, file=content, dest_path="/tmp/up.bin")

    assert (done.uploaded, done.pod_name, done.size) == ("/tmp/up.bin", pod_id, len(content))
    assert read_in_container(stack, pod_id, "/tmp/up.bin") == content
    t.pods.upload_to_pod(pod_id=pod_id, file=b"replaced", dest_path="/tmp/up.bin")
    assert read_in_container(stack, pod_id, "/tmp/up.bin") == b"replaced"

    refusal(
        lambda: t.pods.upload_to_pod(pod_id=pod_id, file=b"x", dest_path="/tmp/../etc/x"),
        400,
        "dest_path",
        "'..'",
    )
    refusal(
        lambda: t.pods.upload_to_pod(pod_id=pod_id, file=b"x", dest_path="/no/such/dir/x"),
        400,
        "dest_path",
        "'/no/such/dir' does not exist",
    )
    refusal(
        lambda: t.pods.upload_to_pod(pod_id=pod_id, file=b"x", dest_path="/tmp"),
        400,
        "dest_path",
        "'/tmp' is a directory",
    )
    assert read_in_container(stack, pod_id, "/tmp/up.bin") == b"replaced"  # /tmp still there
    other = client(stack, "otheruser", "otherpass")
    refusal(lambda: other.pods.upload_to_pod(pod_id=pod_id, file=b"x", dest_path="/tmp/o"), 404)
    t.pods.set_pod_permission(pod_id=pod_id, user="otheruser", level="USER")
    refusal(
        lambda: other.pods.upload_to_pod(pod_id=pod_id, file=b"x", dest_path="/tmp/o"),
        403,
        "ADMIN",
    )


def test_images_are_added_in_bulk_and_read_one_by_one(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    admin = client(stack, "adminuser", "adminpass")
    first, second = cleanup.image(unique("bulka") + ":1"), cleanup.image(unique("bulkb") + "/*")

    added = admin.pods.add_images(
        request_body=[{"image": first, "description": "one"}, {"image": second}]
    )

    assert [(i.image, i.description, i.added_by) for i in added] == [
        (first, "one", "adminuser"),
        (second, "", "adminuser"),
    ]
    t = client(stack)
    got = t.pods.get_image(image_id=second)  # tapipy sends the slash as it is
    assert (got.image, got.tenants) == (second, ["dev"])
    status, _, body = stack.request(
        "GET", f"/v3/pods/images/{quote(second, safe='')}", token=stack.token()
    )
    assert (status, body["result"]["image"]) == (200, second)  # type: ignore[index]
    refusal(
        lambda: admin.pods.add_images(request_body=[{"image": first}]),
        409,
        first,
        "skip_duplicates",
    )
    assert admin.pods.add_images(request_body=[{"image": first}], skip_duplicates=True) == []
    refusal(lambda: t.pods.add_images(request_body=[{"image": "mine:1"}]), 403)
    refusal(lambda: t.pods.get_image(image_id="nosuch:1"), 404, "not on the allow-list")


def test_directories_download_as_zip_archives(
    stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    t = client(stack)
    volume_id = cleanup.volume(unique("zipvol"))
    t.pods.create_volume(volume_id=volume_id)
    files = {
        "top/a.txt": b"alpha\n",
        "top/deep/b.bin": bytes(range(256)) * 4096,  # 1 MiB, several chunks
        "top/deep/c.txt": b"",
        "other.txt": b"not in the archive",
    }
    for path, content in files.items():
        t.pods.upload_to_volume(volume_id=volume_id, path=path, file=content)
    snapshot_id = cleanup.snapshot(unique("zipsnap"))
    t.pods.create_snapshot(
        snapshot_id=snapshot_id, source_volume_id=volume_id, source_volume_path="top"
    )
    wanted = {p: c for p, c in files.items() if p.startswith("top/")}
    deep = {p.removeprefix("top/"): c for p, c in wanted.items() if "/deep/" in p}

    for archive_bytes, expected in (
        (t.pods.get_volume_contents(volume_id=volume_id, path="top", zip=True), wanted),
        (t.pods.get_volume_contents(volume_id=volume_id, path="top/deep", zip=True), deep),
        (t.pods.get_snapshot_contents(snapshot_id=snapshot_id, path="deep", zip=True), deep),
    ):
        with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
            assert archive.testzip() is None
            unzipped = {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
        assert unzipped == expected

    refusal(lambda: t.pods.get_volume_contents(volume_id=volume_id, path="nosuch", zip=True), 404)
