"""Fixtures of the volume and snapshot use-case tests (test_volumes.py, test_snapshots.py):
an in-memory VolumeStore, and `Volumes` and `Pods` on the SQLite repositories. Modules that
define fixtures of the same name (test_pods.py, ...) use their own."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from services.api.domain.pods import Pods
from services.api.domain.validation import Limits
from services.api.domain.volumes import Volumes
from services.common.db.database import Repositories
from services.common.secretbox import SecretBox
from services.common.storage.fake import FakeVolumeStore
from tests.unit.api.volume_cases import LIMITS, NOW, NoBus, NoCommands


@pytest.fixture
def files() -> FakeVolumeStore:
    return FakeVolumeStore()


@pytest.fixture
def volumes(store: Repositories, files: FakeVolumeStore) -> Volumes:
    return Volumes(store=store, files=files, limits=LIMITS, clock=lambda: NOW)


@pytest.fixture
def pods(store: Repositories, volumes: Volumes) -> Pods:
    return Pods(
        store=store,
        reconciler=NoBus(),
        secrets=SecretBox(Fernet.generate_key()),
        limits=Limits(),
        log_limit_bytes=1000,
        clock=lambda: NOW,
        runner=NoCommands(),  # type: ignore[arg-type]
        mounts=volumes,
    )
