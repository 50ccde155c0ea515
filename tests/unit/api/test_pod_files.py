"""Files put into a pod (upload_to_pod): the destination path's rules, the size limit, ADMIN
on the pod as Tapis requires, an AVAILABLE pod, and the multipart form tapipy sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.domain.access import Access
from services.api.domain.pod_files import MAX_UPLOAD_BYTES, PodFiles, checked_dest_path
from services.api.domain.pods import Pods
from services.api.domain.principal import Principal
from services.api.domain.validation import PodRequest
from services.api.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from services.api.transport.uploads import pod_upload
from services.common.db.database import Repositories
from services.common.pods_model import ContainerStatus, Status
from services.common.runtime.types import PodKey

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ALICE = Principal("dev", "alice")
BOB = Principal("dev", "bob")


class RecordingWriter:
    def __init__(self) -> None:
        self.files: dict[tuple[PodKey, str], bytes] = {}

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        self.files[(key, dest_path)] = data


@pytest.mark.parametrize(
    ("path", "rule"),
    [
        ("", "is required"),
        ("tmp/x", "absolute"),
        ("/tmp/", "not end with '/'"),
        ("/", "not end with '/'"),
        ("/tmp/../etc/passwd", "'..'"),
        ("/tmp/a\0b", "NUL"),
        ("/" + "a" * 5000, "at most"),
    ],
)
def test_a_bad_destination_is_refused_naming_dest_path(path: str, rule: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rule) as info:
        checked_dest_path(path)
    assert info.value.field == "dest_path"


def test_a_destination_is_normalized() -> None:
    assert checked_dest_path("/tmp//./x.txt") == "/tmp/x.txt"


@pytest.fixture
def writer() -> RecordingWriter:
    return RecordingWriter()


@pytest.fixture
def files(store: Repositories, writer: RecordingWriter) -> PodFiles:
    return PodFiles(Access(store, lambda: NOW), writer)


async def test_the_owner_uploads_into_an_available_pod(
    pods: Pods, files: PodFiles, writer: RecordingWriter, store: Repositories
) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(FailedPreconditionError, match="REQUESTED"):
        await files.upload(ALICE, "web1", "/tmp/x.txt", b"hello")
    await store.pod_state.record_observation(
        PodKey("dev", "web1"), Status.AVAILABLE, ContainerStatus(phase="running"), NOW
    )
    done = await files.upload(ALICE, "web1", "/tmp//x.txt", b"hello")
    assert (done.pod_id, done.dest_path, done.size) == ("web1", "/tmp/x.txt", 5)
    assert writer.files == {(PodKey("dev", "web1"), "/tmp/x.txt"): b"hello"}
    with pytest.raises(InvalidArgumentError, match="at most"):
        await files.upload(ALICE, "web1", "/tmp/big", b"x" * (MAX_UPLOAD_BYTES + 1))


async def test_uploading_needs_admin_on_the_pod(pods: Pods, files: PodFiles) -> None:
    await pods.create(ALICE, PodRequest(pod_id="web1", image="pods-http:latest"))
    with pytest.raises(NotFoundError):
        await files.upload(BOB, "web1", "/tmp/x", b"")
    await pods.set_permission(ALICE, "web1", "bob", "USER")
    with pytest.raises(PermissionDeniedError, match="ADMIN"):
        await files.upload(BOB, "web1", "/tmp/x", b"")


def _form(*parts: tuple[str, bytes]) -> tuple[str, bytes]:
    boundary = "b0undary"
    body = b"".join(
        b"--"
        + boundary.encode()
        + b"\r\n"
        + f'Content-Disposition: form-data; name="{name}"; filename="{name}"\r\n\r\n'.encode()
        + content
        + b"\r\n"
        for name, content in parts
    )
    return f"multipart/form-data; boundary={boundary}", body + b"--" + boundary.encode() + b"--\r\n"


def test_tapipys_form_carries_the_file_and_its_destination() -> None:
    content_type, body = _form(("file", b"\x00bin\r\n"), ("dest_path", b"/tmp/a.bin"))
    assert pod_upload(content_type, body, "") == (b"\x00bin\r\n", "/tmp/a.bin")
    assert pod_upload(content_type, body, "/tmp/a.bin") == (b"\x00bin\r\n", "/tmp/a.bin")
    with pytest.raises(InvalidArgumentError, match="different"):
        pod_upload(content_type, body, "/tmp/other")


def test_other_forms_take_the_destination_from_the_query_or_the_json() -> None:
    assert pod_upload("application/octet-stream", b"raw", "/tmp/r") == (b"raw", "/tmp/r")
    json_body = b'{"dest_path": "/tmp/j", "content": "aGk="}'
    assert pod_upload("application/json", json_body, "") == (b"hi", "/tmp/j")
    content_type, body = _form(("file", b"only the file"))
    assert pod_upload(content_type, body, "") == (b"only the file", "")
