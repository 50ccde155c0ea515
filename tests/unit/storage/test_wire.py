"""The volume store's wire (services/common/storage/wire.py): every store error survives the
trip through a gRPC status code as the same class with the same message; a spawner that does
not answer is a TemporaryError; data round-trips through its messages unchanged."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import grpc
import pytest

from services.api.remote_volumes import RemoteVolumeStore
from services.common.outcomes import PermanentError, TemporaryError
from services.common.storage import wire
from services.common.storage.types import (
    FileEntry,
    InvalidStorageRequest,
    MountSpec,
    QuotaExceeded,
    SnapshotInfo,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeInfo,
    VolumeKey,
)

WHEN = datetime(2026, 12, 6, 19, 30, 1, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "error",
    [
        StorageNotFound("no file 'a/b' in volume vol1"),
        InvalidStorageRequest("path '..' leaves the volume"),
        StorageConflict("volume vol1 is mounted by pod web1"),
        QuotaExceeded("the volume's size limit of 1000 bytes"),
        PermanentError("the helper image is missing"),
        TemporaryError("the engine did not answer"),
    ],
)
def test_store_errors_cross_the_wire_unchanged(error: Exception) -> None:
    code = wire.code_for(error)
    assert code is not None
    back = wire.error_for(code, str(error))
    assert (type(back), str(back)) == (type(error), str(error))


def test_codes_are_distinct_and_bugs_have_none() -> None:
    errors = [StorageNotFound, InvalidStorageRequest, StorageConflict, QuotaExceeded]
    codes = {wire.code_for(kind("x")) for kind in [*errors, PermanentError, TemporaryError]}
    assert len(codes) == 6
    assert wire.code_for(RuntimeError("a bug")) is None


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED]
)
def test_a_spawner_that_does_not_answer_is_temporary(code: grpc.StatusCode) -> None:
    error = wire.error_for(code, "connection refused")
    assert isinstance(error, TemporaryError)
    assert "the spawner did not answer: connection refused" in str(error)


def test_data_round_trips() -> None:
    volume = VolumeInfo(VolumeKey("dev", "vol1"), "pods-x-vol-dev-vol1", 1000, WHEN)
    assert wire.volume_from_pb(wire.volume_to_pb(volume)) == volume
    undated = VolumeInfo(VolumeKey("dev", "vol1"), "n", 1)
    assert wire.volume_from_pb(wire.volume_to_pb(undated)) == undated
    snapshot = SnapshotInfo(
        SnapshotKey("dev", "snap1"), "n", VolumeKey("dev", "vol1"), "d", WHEN, 0
    )
    assert wire.snapshot_from_pb(wire.snapshot_to_pb(snapshot)) == snapshot
    unmeasured = SnapshotInfo(SnapshotKey("dev", "snap1"), "n", VolumeKey("dev", "vol1"), "")
    assert wire.snapshot_from_pb(wire.snapshot_to_pb(unmeasured)) == unmeasured
    entry = FileEntry("d/l", 0, False, WHEN, is_symlink=True)
    assert wire.file_from_pb(wire.file_to_pb(entry)) == entry
    mount = MountSpec(StorageKind.SNAPSHOT, "n", "/data", True, "sub")
    assert wire.mount_from_pb(wire.mount_to_pb(mount)) == mount


def test_an_unknown_storage_kind_is_refused() -> None:
    ref = wire.storage_ref(VolumeKey("dev", "vol1"))
    ref.kind = "bucket"
    with pytest.raises(InvalidStorageRequest, match="must be volume or snapshot, not 'bucket'"):
        wire.key_of(ref)


async def test_a_spawner_that_is_down_makes_store_calls_temporary_errors() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = RemoteVolumeStore(f"127.0.0.1:{port}")
    try:
        # UNAVAILABLE: the API answers 503 ("temporarily unavailable: ...").
        with pytest.raises(TemporaryError, match=r"Connection refused|failed to connect"):
            await store.list_volumes()
        with pytest.raises(TemporaryError, match=r"Connection refused|failed to connect"):
            await store.open_download(VolumeKey("dev", "vol1"), "a")
    finally:
        await store.close()
