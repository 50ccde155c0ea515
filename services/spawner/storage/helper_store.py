"""HelperVolumeStore: what both platform stores do the same way, written once over a few
platform primitives: volumes and snapshots are platform objects (a Docker named volume, a
PersistentVolumeClaim) carrying our notes (labels, annotations), and their files are reached
through helper containers (helper_ops) kept warm by a HelperPool.

Subclassed by services/spawner/platforms/docker/volumes.py (DockerVolumeStore) and
services/spawner/platforms/kubernetes/volumes.py (KubernetesVolumeStore), which provide the
primitives (find, create and discard an object; describe a helper mount; start, stop and probe
a helper; open a file through a helper). Written here once: the volume and snapshot records,
lookups and listings, uploads, usage and file listings, and the snapshot algorithm:

1. A snapshot that exists must come from the same source volume and path (else
   StorageConflict); a complete one (its marker carries the object's copy token) is returned
   as it is, even if its source has been deleted since.
2. Otherwise the source volume must exist; a new snapshot object is created with a random copy
   token, and the copy runs (again, for an interrupted one) in a helper mounting the source
   read-only at HELPER_ROOT and the snapshot at COPY_TARGET.
3. A copy that failed for good (PermanentError) leaves an incomplete snapshot that asking again
   will not complete: it is discarded, after the helper is gone so the object is free.
"""

from __future__ import annotations

import abc
import contextlib
import secrets
from collections.abc import Hashable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Generic, TypeVar

from services.common.outcomes import PermanentError
from services.common.runtime.types import LABEL_TENANT
from services.common.storage.chunks import FileChunks
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_SNAPSHOT,
    LABEL_SOURCE_PATH,
    LABEL_SOURCE_VOLUME,
    LABEL_VOLUME,
    FileEntry,
    MountSpec,
    SnapshotInfo,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeInfo,
    VolumeKey,
    snapshot_name,
    volume_name,
)
from services.spawner.storage import helper_ops
from services.spawner.storage.helper_answers import (
    COPY_TARGET,
    HELPER_LIFETIME_S,
    HELPER_ROOT,
    LABEL_COPY_TOKEN,
)
from services.spawner.storage.helper_ops import HelperShell
from services.spawner.storage.helper_pool import HelperPool
from services.spawner.storage.threaded_store import ThreadedVolumeStore

R = TypeVar("R")  # the platform's object of a volume or snapshot (inspect attrs, a claim)
M = TypeVar("M", bound=Hashable)  # one mount of a helper, as the platform describes it
HelperKey = tuple[str, tuple[M, ...]]  # tenant, mounts
HelperContext = contextlib.AbstractContextManager[HelperShell]  # a helper, held while entered
HELPER_REUSE_MARGIN_S = 300  # a helper this close to its end is not lent again


class HelperVolumeStore(ThreadedVolumeStore, Generic[R, M]):
    """ThreadedVolumeStore over platform objects and helper containers (module docstring)."""

    def __init__(
        self, deployment_id: str, *, file_owner: tuple[int, int], helper_idle_s: float
    ) -> None:
        """`file_owner`: uid and gid of uploaded files and the directories created for them.
        `helper_idle_s`: how long a helper with one mount waits for the next call on the
        same volume (0: removed at once)."""
        super().__init__(deployment_id)
        self.file_owner = file_owner
        self._pool: HelperPool[HelperKey[M], str] = HelperPool(
            self._start_helper,
            self._stop_helper,
            self._helper_alive,
            idle_s=helper_idle_s,
            max_age_s=HELPER_LIFETIME_S - HELPER_REUSE_MARGIN_S,
        )

    # --- the platform primitives a subclass provides ---------------------------------------

    @abc.abstractmethod
    def _notes(self, record: R) -> Mapping[str, str]:
        """Our labels (Docker) or annotations (claim) on the object."""

    @abc.abstractmethod
    def _record_name(self, record: R) -> str:
        """The object's name on the platform."""

    @abc.abstractmethod
    def _created_at(self, record: R) -> datetime | None: ...

    @abc.abstractmethod
    def _find_volume(self, key: VolumeKey) -> R | None:
        """The volume's object; None when absent; StorageConflict when not ours."""

    @abc.abstractmethod
    def _find_snapshot(self, key: SnapshotKey) -> R | None:
        """The snapshot's object; None when absent; StorageConflict when not ours."""

    @abc.abstractmethod
    def _our_objects(self, kind_label: str, tenant_id: str | None) -> list[R]:
        """Objects of this deployment carrying `kind_label` (of `tenant_id` if given)."""

    @abc.abstractmethod
    def _new_volume(self, key: VolumeKey, size_limit_bytes: int) -> R:
        """Creates the volume's object (a name taken meanwhile is read back: ours or not)."""

    @abc.abstractmethod
    def _new_snapshot(
        self,
        key: SnapshotKey,
        source_key: VolumeKey,
        source: R,
        relative: str,
        size_limit_bytes: int | None,
        copy_token: str,
    ) -> R:
        """Creates the snapshot's object, noting its source and `copy_token`."""

    @abc.abstractmethod
    def _discard_snapshot(self, key: SnapshotKey) -> None:
        """Removes an incomplete snapshot's object; best effort."""

    @abc.abstractmethod
    def _volume_mount(self, key: VolumeKey, record: R, read_only: bool) -> M:
        """The volume mounted at HELPER_ROOT."""

    @abc.abstractmethod
    def _snapshot_mount(self, key: SnapshotKey, record: R, target: str, read_only: bool) -> M:
        """The snapshot mounted at `target`."""

    @abc.abstractmethod
    def _start_helper(self, key: HelperKey[M]) -> tuple[str, HelperShell]:
        """Starts a helper with the mounts of `key`: its handle and shell."""

    @abc.abstractmethod
    def _stop_helper(self, handle: str) -> None: ...

    @abc.abstractmethod
    def _helper_alive(self, handle: str) -> bool: ...

    @abc.abstractmethod
    def _open_in(self, helper: HelperContext, relative: str, hidden: frozenset[str]) -> FileChunks:
        """The file's chunks, read through `helper` (entered here)."""

    def _check_sub_path(self, kind: StorageKind, relative: str) -> None:
        """Raises InvalidStorageRequest when the platform cannot mount a sub path; by
        default it can."""

    def _before_mount(self, name: str) -> None:
        """Called when a pod is about to mount the object `name`; by default nothing."""

    # --- helpers ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _helper(self, tenant_id: str, mounts: Sequence[M]) -> Iterator[HelperShell]:
        """A running helper with `mounts`. Helpers with one mount come from (and go back to)
        the pool; others are removed after."""
        with self._pool.helper((tenant_id, tuple(mounts)), pooled=len(mounts) == 1) as shell:
            yield shell

    @contextlib.contextmanager
    def _complete_snapshot(self, key: SnapshotKey) -> Iterator[HelperShell]:
        """A helper with the snapshot mounted read-only at HELPER_ROOT; StorageConflict if
        its copy was interrupted."""
        record = self._require_snapshot(key)
        mount = self._snapshot_mount(key, record, HELPER_ROOT, True)
        with self._helper(key.tenant_id, [mount]) as helper:
            helper_ops.check_complete(helper, key, self._copy_token(record))
            yield helper

    def _volume_helper(self, key: VolumeKey, read_only: bool) -> HelperContext:
        record = self._require_volume(key)
        return self._helper(key.tenant_id, [self._volume_mount(key, record, read_only)])

    def _resolve_sub_path(self, key: VolumeKey | SnapshotKey, record: R, relative: str) -> str:
        """The sub path as it really lies in the volume: a directory, reached without
        leaving the volume (links inside it resolved)."""
        if isinstance(key, VolumeKey):
            mount = self._volume_mount(key, record, True)
        else:
            mount = self._snapshot_mount(key, record, HELPER_ROOT, True)
        with self._helper(key.tenant_id, [mount]) as helper:
            return helper_ops.resolve_sub_path(helper, relative)

    # --- records ---------------------------------------------------------------------------

    def _copy_token(self, record: R) -> str:
        return str(self._notes(record).get(LABEL_COPY_TOKEN, ""))

    def _require_volume(self, key: VolumeKey) -> R:
        record = self._find_volume(key)
        if record is None:
            raise StorageNotFound(
                f"volume {key.volume_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return record

    def _require_snapshot(self, key: SnapshotKey) -> R:
        record = self._find_snapshot(key)
        if record is None:
            raise StorageNotFound(
                f"snapshot {key.snapshot_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return record

    def _volume_info(self, key: VolumeKey, record: R) -> VolumeInfo:
        try:
            limit = int(self._notes(record).get(LABEL_SIZE_LIMIT, ""))
        except ValueError:
            limit = 0
        return VolumeInfo(
            key=key,
            name=self._record_name(record) or volume_name(self.deployment_id, key),
            size_limit_bytes=limit,
            created_at=self._created_at(record),
        )

    def _snapshot_info(self, key: SnapshotKey, record: R, size: int | None) -> SnapshotInfo:
        notes = self._notes(record)
        return SnapshotInfo(
            key=key,
            name=self._record_name(record) or snapshot_name(self.deployment_id, key),
            source=VolumeKey(key.tenant_id, str(notes.get(LABEL_SOURCE_VOLUME, ""))),
            source_path=str(notes.get(LABEL_SOURCE_PATH, "")),
            created_at=self._created_at(record),
            size_bytes=size,
        )

    def _listed(self, kind_label: str, tenant_id: str | None) -> Iterator[tuple[str, str, R]]:
        """(tenant, id, object) of each object of ours of that kind whose name is the one its notes
        give (an object with other notes or another name is not ours to list)."""
        for record in self._our_objects(kind_label, tenant_id):
            notes = self._notes(record)
            tenant, object_id = str(notes.get(LABEL_TENANT, "")), str(notes.get(kind_label, ""))
            if tenant_id is not None and tenant != tenant_id:
                continue
            try:
                expected = (
                    volume_name(self.deployment_id, VolumeKey(tenant, object_id))
                    if kind_label == LABEL_VOLUME
                    else snapshot_name(self.deployment_id, SnapshotKey(tenant, object_id))
                )
            except ValueError:
                continue
            if self._record_name(record) == expected:
                yield tenant, object_id, record

    # --- volumes ---------------------------------------------------------------------------

    def _create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        record = self._find_volume(key)
        if record is None:
            record = self._new_volume(key, size_limit_bytes)
        info = self._volume_info(key, record)
        if info.size_limit_bytes != size_limit_bytes:
            raise StorageConflict(
                f"volume {key.volume_id!r} already exists with a size limit of "
                f"{info.size_limit_bytes} bytes, not {size_limit_bytes}"
            )
        return info

    def _get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        record = self._find_volume(key)
        return None if record is None else self._volume_info(key, record)

    def _list_volumes(self, tenant_id: str | None) -> list[VolumeInfo]:
        infos = [
            self._volume_info(VolumeKey(tenant, volume_id), record)
            for tenant, volume_id, record in self._listed(LABEL_VOLUME, tenant_id)
        ]
        return sorted(infos, key=lambda info: info.key)

    def _upload(self, key: VolumeKey, relative: str, data: bytes) -> FileEntry:
        record = self._require_volume(key)
        limit = self._volume_info(key, record).size_limit_bytes
        with self._helper(key.tenant_id, [self._volume_mount(key, record, False)]) as helper:
            return helper_ops.upload_into(
                helper, key.volume_id, relative, data, limit, self.file_owner
            )

    def _usage(self, key: VolumeKey | SnapshotKey) -> int:
        if isinstance(key, SnapshotKey):
            with self._complete_snapshot(key) as helper:
                return helper_ops.measure(helper, snapshot=True)
        with self._volume_helper(key, True) as helper:
            return helper_ops.measure(helper)

    def _list_files_volume(self, key: VolumeKey, relative: str, recursive: bool) -> list[FileEntry]:
        with self._volume_helper(key, True) as helper:
            return helper_ops.list_in(helper, relative, recursive)

    def _open_volume_file(self, key: VolumeKey, relative: str) -> FileChunks:
        return self._open_in(self._volume_helper(key, True), relative, frozenset())

    # --- snapshots -------------------------------------------------------------------------

    def _create_snapshot(
        self,
        source_key: VolumeKey,
        key: SnapshotKey,
        relative: str,
        size_limit_bytes: int | None,
    ) -> SnapshotInfo:
        record = self._find_snapshot(key)
        if record is not None:
            notes = self._notes(record)
            existing = (notes.get(LABEL_SOURCE_VOLUME), notes.get(LABEL_SOURCE_PATH))
            if existing != (source_key.volume_id, relative):
                raise StorageConflict(
                    f"snapshot {key.snapshot_id!r} already exists, taken from volume "
                    f"{existing[0]!r} path {existing[1]!r}"
                )
            # A replay: a complete snapshot is returned as it is, even if its source is gone.
            mount = self._snapshot_mount(key, record, HELPER_ROOT, True)
            with self._helper(key.tenant_id, [mount]) as helper:
                size = helper_ops.read_marker(helper, key, self._copy_token(record), HELPER_ROOT)
            if size is not None:
                return self._snapshot_info(key, record, size)
        source = self._require_volume(source_key)
        if record is None:
            token = secrets.token_hex(16)
            record = self._new_snapshot(key, source_key, source, relative, size_limit_bytes, token)
        mounts = [
            self._volume_mount(source_key, source, True),
            self._snapshot_mount(key, record, COPY_TARGET, False),
        ]
        discard = False
        try:
            with self._helper(key.tenant_id, mounts) as helper:
                try:  # new, or an interrupted copy: (re)copy
                    size = helper_ops.copy_snapshot(
                        helper,
                        key,
                        self._copy_token(record),
                        source_key,
                        relative,
                        size_limit_bytes,
                    )
                except PermanentError:
                    discard = True  # incomplete, and asking again will not help
                    raise
            return self._snapshot_info(key, record, size)
        finally:
            if discard:  # after the helper is gone, so the object is free
                self._discard_snapshot(key)

    def _get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        record = self._find_snapshot(key)
        return None if record is None else self._snapshot_info(key, record, None)

    def _list_snapshots(self, tenant_id: str | None) -> list[SnapshotInfo]:
        infos = [
            self._snapshot_info(SnapshotKey(tenant, snapshot_id), record, None)
            for tenant, snapshot_id, record in self._listed(LABEL_SNAPSHOT, tenant_id)
        ]
        return sorted(infos, key=lambda info: info.key)

    def _list_files_snapshot(
        self, key: SnapshotKey, relative: str, recursive: bool
    ) -> list[FileEntry]:
        with self._complete_snapshot(key) as helper:
            return helper_ops.list_in(helper, relative, recursive, helper_ops.SNAPSHOT_HIDDEN)

    def _open_snapshot_file(self, key: SnapshotKey, relative: str) -> FileChunks:
        return self._open_in(self._complete_snapshot(key), relative, helper_ops.SNAPSHOT_HIDDEN)

    # --- mounts ----------------------------------------------------------------------------

    def _mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        target: str,
        relative: str,
        read_only: bool,
    ) -> MountSpec:
        record = (
            self._require_volume(key) if isinstance(key, VolumeKey) else self._require_snapshot(key)
        )
        sub_path = ""
        if relative:
            self._check_sub_path(kind, relative)
            sub_path = self._resolve_sub_path(key, record, relative)
        name = self._name_of(key)
        self._before_mount(name)
        return MountSpec(
            kind=kind, volume_name=name, target=target, read_only=read_only, sub_path=sub_path
        )
