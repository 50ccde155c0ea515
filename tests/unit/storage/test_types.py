"""Ids, Docker names and labels of volumes and snapshots (services/common/storage/types.py)."""

from __future__ import annotations

import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_TENANT
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_SNAPSHOT,
    LABEL_SOURCE_PATH,
    LABEL_SOURCE_VOLUME,
    LABEL_VOLUME,
    InvalidStorageRequest,
    QuotaExceeded,
    SnapshotKey,
    StorageConflict,
    StorageNotFound,
    VolumeKey,
    check_size_limit,
    snapshot_labels,
    snapshot_name,
    validate_storage_id,
    volume_labels,
    volume_name,
)


@pytest.mark.parametrize("good", ["abc", "vol1", "a" * 64, "x12"])
def test_storage_ids_accepted(good: str) -> None:
    assert validate_storage_id("volume id", good) == good


@pytest.mark.parametrize(
    "bad", ["", "ab", "a" * 65, "1abc", "Abc", "ab-c", "ab_c", "ab c", "ab.c", "äbc", "abc\n"]
)
def test_storage_ids_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="3 to 64 lowercase letters and digits"):
        validate_storage_id("volume id", bad)


def test_names() -> None:
    assert volume_name("local", VolumeKey("dev", "vol1")) == "pods-local-vol-dev-vol1"
    assert snapshot_name("local", SnapshotKey("dev", "snap1")) == "pods-local-snap-dev-snap1"


def test_long_names_are_hashed_deterministically() -> None:
    key = VolumeKey("t" * 60, "v" * 64)
    name = volume_name("d" * 20, key)
    assert len(name) == 128
    assert name == volume_name("d" * 20, key)
    assert name != volume_name("d" * 20, VolumeKey("t" * 60, "v" * 63 + "w"))


@pytest.mark.parametrize(
    ("deployment", "key", "message"),
    [
        ("Local", VolumeKey("dev", "vol1"), "deployment id"),
        ("local", VolumeKey("dev-", "vol1"), "tenant id"),
        ("local", VolumeKey("DEV", "vol1"), "tenant id"),
        ("local", VolumeKey("dev", "v"), "volume id"),
        ("local", VolumeKey("dev", "../x"), "volume id"),
    ],
)
def test_names_validate(deployment: str, key: VolumeKey, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        volume_name(deployment, key)


def test_labels() -> None:
    assert volume_labels("local", VolumeKey("dev", "vol1"), 1000) == {
        LABEL_DEPLOYMENT: "local",
        LABEL_TENANT: "dev",
        LABEL_VOLUME: "vol1",
        LABEL_SIZE_LIMIT: "1000",
    }
    assert snapshot_labels(
        "local", SnapshotKey("dev", "snap1"), VolumeKey("dev", "vol1"), "a/b"
    ) == {
        LABEL_DEPLOYMENT: "local",
        LABEL_TENANT: "dev",
        LABEL_SNAPSHOT: "snap1",
        LABEL_SOURCE_VOLUME: "vol1",
        LABEL_SOURCE_PATH: "a/b",
    }


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_size_limit_checked(bad: object) -> None:
    with pytest.raises(ValueError, match="size limit"):
        check_size_limit(bad)  # type: ignore[arg-type]


def test_error_classes_are_permanent() -> None:
    for cls in (StorageNotFound, InvalidStorageRequest, StorageConflict, QuotaExceeded):
        assert issubclass(cls, PermanentError)
