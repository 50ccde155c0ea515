"""DockerVolumeStore: the VolumeStore seam implemented with Docker named volumes.

Called by the API layer (services/api) for Tapis Pods volumes and snapshots; the runtime
mounts what `mount_for` returns (`docker_mount` turns a MountSpec into the Docker mount dict).
The only module of the storage package that imports `docker`. The async API is
threaded_store.ThreadedVolumeStore's: it runs the blocking methods here in worker threads;
SDK errors are translated into TemporaryError and the PermanentError subclasses of
storage.types.

A volume is a labelled Docker volume whose size limit is a label; a snapshot is another
labelled volume holding a copy (`cp -a`) of the source volume or of one of its directories
or files. Files are reached through a short-lived helper container (image
`helper_image`, default pods-http:latest: it needs busybox's sh, sleep, realpath, find,
stat, cp, rm and cat): no network, read-only root filesystem, all capabilities dropped but
those needed to read and copy files of any owner, no new privileges, labelled with the
deployment and tenant, the volume mounted at /v, and removed afterwards (it also removes
itself after HELPER_LIFETIME_S should we crash); a helper with one mount is kept for the
next call on the same volume for a while (helper_pool). The file operations themselves
(commands, confinement, size checks, snapshot copies) are helper_ops', shared with the
Kubernetes store; this module provides their HelperSession: exec, and content moving with
put_archive and get_archive. The few commands run take argument lists, and the only shell
scripts are constants (helper_answers) that receive user data as positional arguments. Every
command's output ends with a trailer carrying its exit status; an answer without it (a
loaded engine can cut a quick exec's output short) is asked for again, so a listing or a
usage figure is never silently truncated.

Confinement: user paths are normalized by storage.paths first. Then, inside the helper, every
prefix of the path (the root, the first segment, the first two, ...) is resolved with
`realpath`; each must stay under /v, a symbolic link leading nowhere is refused, and the
operation then uses the resolved path. So a link planted in the volume (pointing at
/etc/passwd, or a directory link pointing out) never lets list, download, upload or
snapshot reach outside /v. Links inside the volume are followed. Residual window: a pod
writing the same volume can swap a checked directory for a link between the check and the
transfer; Docker resolves archive paths inside the helper's own root and that root is a
read-only public image, so the most such a race can reach is the helper image's own files.

Size limits are checked at upload (usage = the sum of regular-file sizes; replacing a file
counts its old size out) and at snapshot time; Docker's local driver has no quotas, so a
pod writing into a mounted volume is not held to the limit by this module.

Snapshot completeness: the copy's last step writes SNAPSHOT_MARKER at the snapshot's root
(JSON naming the snapshot and the random token its Docker volume got as a label when it was
created: Docker's CreatedAt of a local volume moves with the directory's mtime, so it cannot
serve). A snapshot without a valid
marker is an interrupted copy: create_snapshot copies again, the file operations refuse it.
The marker is hidden from snapshot listings and downloads (pods mounting the snapshot see it).

Concurrency: operations on one volume are serialized within this process (upload's limit
check, snapshot copy, delete). Several processes sharing volumes need their own coordination.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors

from services.common.docker_errors import translated_docker_errors
from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import validate_slug
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage import helper_ops
from services.common.storage.chunks import CHUNK_SIZE, FileChunks, tar_member_chunks
from services.common.storage.helper_answers import (
    COPY_TARGET,
    HELPER_CAPABILITIES,
    HELPER_LIFETIME_S,
    HELPER_ROOT,
    LABEL_COPY_TOKEN,
    LABEL_CREATED_AT,
)
from services.common.storage.helper_ops import HelperShell
from services.common.storage.helper_pool import DEFAULT_IDLE_S, HelperPool
from services.common.storage.threaded_store import ThreadedVolumeStore
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_SNAPSHOT,
    LABEL_SOURCE_PATH,
    LABEL_SOURCE_VOLUME,
    LABEL_STORAGE_HELPER,
    LABEL_VOLUME,
    FileEntry,
    InvalidStorageRequest,
    MountSpec,
    SnapshotInfo,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    StorageNotFound,
    VolumeInfo,
    VolumeKey,
    snapshot_labels,
    snapshot_name,
    volume_labels,
    volume_name,
)

Attrs = dict[str, Any]
# A helper mount: volume, target, read-only, the volume's labels (sorted pairs); a helper's
# key: tenant and mounts.
_Mount = tuple[str, str, bool, tuple[tuple[str, str], ...]]
_HelperKey = tuple[str, tuple[_Mount, ...]]
HELPER_REUSE_MARGIN_S = 300  # a helper this close to its end is not lent again

DEFAULT_HELPER_IMAGE = "pods-http:latest"
HELPER_MEMORY = "256m"
HELPER_PIDS = 64
DEFAULT_TIMEOUT_S = 600.0
SUBPATH_MIN_API = (1, 45)


# --- pure pieces (unit-tested without Docker) ---------------------------------------------


def api_version_at_least(version: str, minimum: tuple[int, int]) -> bool:
    """True if the Docker API version text ("1.41") is at least `minimum`."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= minimum


def docker_mount(spec: MountSpec) -> dict[str, Any]:
    """The Docker Engine API mount (for `mounts=[...]` of containers.create) of a MountSpec.

    NoCopy keeps Docker from copying the image's files at the target into the volume."""
    options: dict[str, Any] = {"NoCopy": True}
    if spec.sub_path:
        options["Subpath"] = spec.sub_path
    return {
        "Type": "volume",
        "Source": spec.volume_name,
        "Target": spec.target,
        "ReadOnly": spec.read_only,
        "VolumeOptions": options,
    }


def parse_created(attrs: Mapping[str, Any]) -> datetime | None:
    """When a volume was created: our label, else Docker's CreatedAt; None when absent."""
    for value in ((attrs.get("Labels") or {}).get(LABEL_CREATED_AT), attrs.get("CreatedAt")):
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                continue
    return None


# --- the helper container ----------------------------------------------------------------


class _DockerSession:
    """helper_ops.HelperSession over a running helper container (exec and archives)."""

    def __init__(self, api: Any, container_id: str) -> None:
        self._api = api
        self.id = container_id

    def exec(self, argv: Sequence[str]) -> tuple[bytes, bytes]:
        exec_id = self._api.exec_create(self.id, list(argv), stdout=True, stderr=True)["Id"]
        out, err = self._api.exec_start(exec_id, demux=True)
        return out or b"", err or b""

    def put(self, directory: str, archive: bytes) -> None:
        if not self._api.put_archive(self.id, directory, archive):
            raise TemporaryError(f"docker did not accept the upload into {directory}")

    def read_chunks(self, real: str, size: int, shown: str) -> Iterator[bytes]:
        # The engine answers a tar stream of the one file; it is read as it comes, a chunk
        # at a time, never whole.
        stream, _ = self._api.get_archive(self.id, real, chunk_size=CHUNK_SIZE)
        return tar_member_chunks(stream, shown)


# --- the store --------------------------------------------------------------------------


class DockerVolumeStore(ThreadedVolumeStore):
    """VolumeStore over one Docker engine; manages only volumes labelled `deployment_id`."""

    def __init__(
        self,
        deployment_id: str,
        client: Any | None = None,
        *,
        base_url: str | None = None,
        helper_image: str = DEFAULT_HELPER_IMAGE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        file_owner: tuple[int, int] = (0, 0),
        helper_idle_s: float = DEFAULT_IDLE_S,
    ) -> None:
        """`client`: an SDK client to use (left open by close); otherwise one is created
        on first use from `base_url` or the environment, with `timeout_s` per request
        (long copies and listings run inside one request). `file_owner`: uid and gid of
        uploaded files and the directories created for them. `helper_idle_s`: how long a
        helper waits for the next file call on the same volume (0: removed at once)."""
        super().__init__(deployment_id)
        self.helper_image = helper_image
        self.file_owner = file_owner
        self._client = client
        self._owns_client = client is None
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._client_lock = threading.Lock()
        self._api_version: str | None = None
        self._pool: HelperPool[_HelperKey, str] = HelperPool(
            self._start_helper,
            self._stop_helper,
            self._helper_alive,
            idle_s=helper_idle_s,
            max_age_s=HELPER_LIFETIME_S - HELPER_REUSE_MARGIN_S,
        )

    def close(self) -> None:
        """Removes the pooled helpers, then closes the SDK client if this store created it."""
        self._pool.close()
        with self._client_lock:
            if self._owns_client and self._client is not None:
                self._client.close()
                self._client = None

    async def engine_api_version(self) -> str:
        """The API version this store speaks with the engine (the lower of both ends)."""
        return await self._thread("asking the engine's version", self._engine_api_version)

    async def subpath_supported(self) -> bool:
        """True if mounts may use VolumeOptions.Subpath (engine API >= 1.45)."""
        return api_version_at_least(await self.engine_api_version(), SUBPATH_MIN_API)

    # --- plumbing -------------------------------------------------------------------------

    def _engine_errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return translated_docker_errors(action, vanished="something")

    def _docker(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = (
                    docker.DockerClient(base_url=self._base_url, timeout=int(self._timeout_s))
                    if self._base_url
                    else docker.from_env(timeout=int(self._timeout_s))
                )
            return self._client

    def _inspect_volume(self, name: str) -> Attrs | None:
        try:
            attrs: Attrs = self._docker().api.inspect_volume(name)
        except docker.errors.NotFound:
            return None
        return attrs

    def _volume_owner(self, key: VolumeKey) -> Mapping[str, str]:
        return {
            LABEL_DEPLOYMENT: self.deployment_id,
            LABEL_TENANT: key.tenant_id,
            LABEL_VOLUME: key.volume_id,
        }

    def _snapshot_owner(self, key: SnapshotKey) -> Mapping[str, str]:
        return {
            LABEL_DEPLOYMENT: self.deployment_id,
            LABEL_TENANT: key.tenant_id,
            LABEL_SNAPSHOT: key.snapshot_id,
        }

    def _owned(self, name: str, owner: Mapping[str, str], what: str) -> Attrs | None:
        """Inspect result of the Docker volume `name` if it carries `owner`'s labels; None
        when absent; StorageConflict when someone else's volume holds the name."""
        attrs = self._inspect_volume(name)
        if attrs is None:
            return None
        labels = attrs.get("Labels") or {}
        if any(labels.get(label) != value for label, value in owner.items()):
            raise StorageConflict(
                f"a Docker volume named {name!r} exists that deployment "
                f"{self.deployment_id!r} did not create for {what}; it is left untouched"
            )
        return attrs

    def _require_volume(self, key: VolumeKey) -> Attrs:
        attrs = self._owned(
            volume_name(self.deployment_id, key),
            self._volume_owner(key),
            f"volume {key.volume_id!r}",
        )
        if attrs is None:
            raise StorageNotFound(
                f"volume {key.volume_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return attrs

    def _require_snapshot(self, key: SnapshotKey) -> Attrs:
        attrs = self._owned(
            snapshot_name(self.deployment_id, key),
            self._snapshot_owner(key),
            f"snapshot {key.snapshot_id!r}",
        )
        if attrs is None:
            raise StorageNotFound(
                f"snapshot {key.snapshot_id!r} of tenant {key.tenant_id!r} does not exist"
            )
        return attrs

    @contextlib.contextmanager
    def _helper(self, tenant_id: str, mounts: Sequence[_Mount]) -> Iterator[HelperShell]:
        """A running helper container with (volume, target, read_only, labels) mounted;
        `labels` are what Docker gives the volume should it have to create it (a volume
        deleted meanwhile elsewhere is then recreated as ours, never anonymous). Helpers with
        one mount come from (and go back to) the pool; others are removed after."""
        with self._pool.helper((tenant_id, tuple(mounts)), pooled=len(mounts) == 1) as shell:
            yield shell

    def _start_helper(self, key: _HelperKey) -> tuple[str, HelperShell]:
        tenant_id, mounts = key
        client = self._docker()
        kwargs: dict[str, Any] = {
            "image": self.helper_image,
            "entrypoint": ["sleep"],
            "command": [str(HELPER_LIFETIME_S)],
            "labels": {
                LABEL_DEPLOYMENT: self.deployment_id,
                LABEL_TENANT: tenant_id,
                LABEL_STORAGE_HELPER: "1",
            },
            "mounts": [
                {
                    "Type": "volume",
                    "Source": source,
                    "Target": target,
                    "ReadOnly": read_only,
                    "VolumeOptions": {"NoCopy": True, "Labels": dict(labels)},
                }
                for source, target, read_only, labels in mounts
            ],
            "init": True,
            "network_mode": "none",
            "read_only": True,
            "user": "0:0",
            "working_dir": "/",
            "cap_drop": ["ALL"],
            "cap_add": list(HELPER_CAPABILITIES),
            "security_opt": ["no-new-privileges"],
            "mem_limit": HELPER_MEMORY,
            "pids_limit": HELPER_PIDS,
            "auto_remove": True,
        }
        try:
            container = client.containers.create(**kwargs)
        except docker.errors.ImageNotFound as exc:
            raise PermanentError(
                f"the storage helper image {self.helper_image!r} is not on this machine "
                "(build it with scripts/build-images or configure another busybox image)"
            ) from exc
        try:
            client.api.start(container.id)
        except BaseException:
            self._stop_helper(container.id)
            raise
        return container.id, HelperShell(_DockerSession(client.api, container.id))

    def _stop_helper(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self._docker().api.remove_container(container_id, force=True)

    def _helper_alive(self, container_id: str) -> bool:
        try:
            state = self._docker().api.inspect_container(container_id).get("State") or {}
        except docker.errors.NotFound:
            return False
        return bool(state.get("Running"))

    def _volume_mount(self, key: VolumeKey, attrs: Attrs, read_only: bool) -> _Mount:
        labels = attrs.get("Labels") or {}
        limit = int(labels.get(LABEL_SIZE_LIMIT, "1"))
        name = volume_name(self.deployment_id, key)
        labelled = volume_labels(self.deployment_id, key, limit)
        return name, HELPER_ROOT, read_only, tuple(sorted(labelled.items()))

    def _snapshot_mount(
        self, key: SnapshotKey, attrs: Attrs, target: str, read_only: bool
    ) -> _Mount:
        labels = attrs.get("Labels") or {}
        source = VolumeKey(key.tenant_id, str(labels.get(LABEL_SOURCE_VOLUME, "")))
        source_path = str(labels.get(LABEL_SOURCE_PATH, ""))
        name = snapshot_name(self.deployment_id, key)
        owner = (
            snapshot_labels(self.deployment_id, key, source, source_path)
            if source.volume_id
            else dict(self._snapshot_owner(key))
        )
        return name, target, read_only, tuple(sorted(owner.items()))

    # --- volumes ------------------------------------------------------------------------

    def _volume_info(self, key: VolumeKey, attrs: Attrs) -> VolumeInfo:
        labels = attrs.get("Labels") or {}
        try:
            limit = int(labels.get(LABEL_SIZE_LIMIT, ""))
        except ValueError:
            limit = 0
        return VolumeInfo(
            key=key,
            name=str(attrs.get("Name", volume_name(self.deployment_id, key))),
            size_limit_bytes=limit,
            created_at=parse_created(attrs),
        )

    def _create_volume(self, key: VolumeKey, size_limit_bytes: int) -> VolumeInfo:
        name = volume_name(self.deployment_id, key)
        what = f"volume {key.volume_id!r}"
        attrs = self._owned(name, self._volume_owner(key), what)
        if attrs is None:
            labels = {
                **volume_labels(self.deployment_id, key, size_limit_bytes),
                LABEL_CREATED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
            }
            self._docker().api.create_volume(name=name, driver="local", labels=labels)
            # Docker answers a create of an existing name with that volume: check it again.
            attrs = self._owned(name, self._volume_owner(key), what)
            if attrs is None:
                raise TemporaryError(f"volume {name} vanished right after its creation")
        info = self._volume_info(key, attrs)
        if info.size_limit_bytes != size_limit_bytes:
            raise StorageConflict(
                f"{what} already exists with a size limit of {info.size_limit_bytes} bytes, "
                f"not {size_limit_bytes}"
            )
        return info

    def _get_volume(self, key: VolumeKey) -> VolumeInfo | None:
        name = volume_name(self.deployment_id, key)
        attrs = self._owned(name, self._volume_owner(key), f"volume {key.volume_id!r}")
        return None if attrs is None else self._volume_info(key, attrs)

    def _our_volumes(self, kind_label: str, tenant_id: str | None) -> list[Attrs]:
        filters = [f"{LABEL_DEPLOYMENT}={self.deployment_id}", kind_label]
        if tenant_id is not None:
            filters.append(f"{LABEL_TENANT}={validate_slug('tenant id', tenant_id)}")
        answer = self._docker().api.volumes(filters={"label": filters}) or {}
        return list(answer.get("Volumes") or [])

    def _list_volumes(self, tenant_id: str | None) -> list[VolumeInfo]:
        infos = []
        for attrs in self._our_volumes(LABEL_VOLUME, tenant_id):
            labels = attrs.get("Labels") or {}
            key = VolumeKey(str(labels.get(LABEL_TENANT, "")), str(labels.get(LABEL_VOLUME, "")))
            try:
                expected = volume_name(self.deployment_id, key)
            except ValueError:
                continue
            if attrs.get("Name") == expected:
                infos.append(self._volume_info(key, attrs))
        return sorted(infos, key=lambda info: info.key)

    def _delete_volume(self, key: VolumeKey) -> bool:
        return self._delete(volume_name(self.deployment_id, key), self._volume_owner(key))

    def _delete_snapshot(self, key: SnapshotKey) -> bool:
        return self._delete(snapshot_name(self.deployment_id, key), self._snapshot_owner(key))

    def _delete(self, name: str, owner: Mapping[str, str]) -> bool:
        """Deletes an owned volume or snapshot unless a container other than our helpers
        uses it; our helpers (an operation of another process, or a leftover) are removed."""
        what = f"volume {name!r}"
        if self._owned(name, owner, what) is None:
            return False
        api = self._docker().api
        users = api.containers(all=True, filters={"volume": name})
        helpers: list[Mapping[str, Any]] = []
        others: list[Mapping[str, Any]] = []
        for summary in users:
            labels = summary.get("Labels") or {}
            ours = labels.get(LABEL_DEPLOYMENT) == self.deployment_id
            (helpers if ours and labels.get(LABEL_STORAGE_HELPER) else others).append(summary)
        if others:
            raise StorageConflict(
                f"{_kind_of(owner)} {_id_of(owner)!r} is still mounted by "
                f"{_describe_users(others)}; remove those first"
            )
        for summary in helpers:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(summary["Id"], force=True)
        try:
            api.remove_volume(name)
        except docker.errors.NotFound:
            return False
        return True

    def _upload(self, key: VolumeKey, relative: str, data: bytes) -> FileEntry:
        attrs = self._require_volume(key)
        limit = self._volume_info(key, attrs).size_limit_bytes
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, False)]) as helper:
            return helper_ops.upload_into(
                helper, key.volume_id, relative, data, limit, self.file_owner
            )

    def _usage(self, key: VolumeKey | SnapshotKey) -> int:
        if isinstance(key, SnapshotKey):
            with self._complete_snapshot(key) as helper:
                return helper_ops.measure(helper, snapshot=True)
        attrs = self._require_volume(key)
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, True)]) as helper:
            return helper_ops.measure(helper)

    # --- reading files -------------------------------------------------------------------

    def _list_files_volume(self, key: VolumeKey, relative: str, recursive: bool) -> list[FileEntry]:
        attrs = self._require_volume(key)
        with self._helper(key.tenant_id, [self._volume_mount(key, attrs, True)]) as helper:
            return helper_ops.list_in(helper, relative, recursive)

    def _open_volume_file(self, key: VolumeKey, relative: str) -> FileChunks:
        attrs = self._require_volume(key)
        helper = self._helper(key.tenant_id, [self._volume_mount(key, attrs, True)])
        return _opened(helper, relative, frozenset())

    # --- snapshots ----------------------------------------------------------------------

    def _snapshot_info(self, key: SnapshotKey, attrs: Attrs, size: int | None) -> SnapshotInfo:
        labels = attrs.get("Labels") or {}
        return SnapshotInfo(
            key=key,
            name=str(attrs.get("Name", snapshot_name(self.deployment_id, key))),
            source=VolumeKey(key.tenant_id, str(labels.get(LABEL_SOURCE_VOLUME, ""))),
            source_path=str(labels.get(LABEL_SOURCE_PATH, "")),
            created_at=parse_created(attrs),
            size_bytes=size,
        )

    def _create_snapshot(
        self,
        source_key: VolumeKey,
        key: SnapshotKey,
        relative: str,
        size_limit_bytes: int | None,
    ) -> SnapshotInfo:
        name = snapshot_name(self.deployment_id, key)
        attrs = self._owned(name, self._snapshot_owner(key), f"snapshot {key.snapshot_id!r}")
        if attrs is not None:
            existing = attrs.get("Labels") or {}
            if (existing.get(LABEL_SOURCE_VOLUME), existing.get(LABEL_SOURCE_PATH)) != (
                source_key.volume_id,
                relative,
            ):
                raise StorageConflict(
                    f"snapshot {key.snapshot_id!r} already exists, taken from volume "
                    f"{existing.get(LABEL_SOURCE_VOLUME)!r} path "
                    f"{existing.get(LABEL_SOURCE_PATH)!r}"
                )
            # A replay: complete snapshots are returned as they are, even if their source
            # has been deleted since.
            mount = self._snapshot_mount(key, attrs, HELPER_ROOT, True)
            with self._helper(key.tenant_id, [mount]) as helper:
                size = helper_ops.read_marker(helper, key, _copy_token(attrs), HELPER_ROOT)
            if size is not None:
                return self._snapshot_info(key, attrs, size)
        source_attrs = self._require_volume(source_key)
        if attrs is None:
            labels = {
                **snapshot_labels(self.deployment_id, key, source_key, relative),
                LABEL_CREATED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
                LABEL_COPY_TOKEN: secrets.token_hex(16),
            }
            self._docker().api.create_volume(name=name, driver="local", labels=labels)
            attrs = self._require_snapshot(key)
        mounts = [
            self._volume_mount(source_key, source_attrs, True),
            self._snapshot_mount(key, attrs, COPY_TARGET, False),
        ]
        discard = False
        try:
            with self._helper(key.tenant_id, mounts) as helper:
                try:  # new, or an interrupted copy: (re)copy
                    size = helper_ops.copy_snapshot(
                        helper, key, _copy_token(attrs), source_key, relative, size_limit_bytes
                    )
                except PermanentError:
                    discard = True  # incomplete, and asking again will not help
                    raise
            return self._snapshot_info(key, attrs, size)
        finally:
            if discard:  # after the helper is gone, so the volume is free
                with contextlib.suppress(docker.errors.APIError):
                    self._docker().api.remove_volume(name)

    def _get_snapshot(self, key: SnapshotKey) -> SnapshotInfo | None:
        name = snapshot_name(self.deployment_id, key)
        attrs = self._owned(name, self._snapshot_owner(key), f"snapshot {key.snapshot_id!r}")
        return None if attrs is None else self._snapshot_info(key, attrs, None)

    def _list_snapshots(self, tenant_id: str | None) -> list[SnapshotInfo]:
        infos = []
        for attrs in self._our_volumes(LABEL_SNAPSHOT, tenant_id):
            labels = attrs.get("Labels") or {}
            key = SnapshotKey(
                str(labels.get(LABEL_TENANT, "")), str(labels.get(LABEL_SNAPSHOT, ""))
            )
            try:
                expected = snapshot_name(self.deployment_id, key)
            except ValueError:
                continue
            if attrs.get("Name") == expected:
                infos.append(self._snapshot_info(key, attrs, None))
        return sorted(infos, key=lambda info: info.key)

    @contextlib.contextmanager
    def _complete_snapshot(self, key: SnapshotKey) -> Iterator[HelperShell]:
        """A helper with the snapshot mounted read-only at HELPER_ROOT; StorageConflict if
        its copy was interrupted."""
        attrs = self._require_snapshot(key)
        mount = self._snapshot_mount(key, attrs, HELPER_ROOT, True)
        with self._helper(key.tenant_id, [mount]) as helper:
            helper_ops.check_complete(helper, key, _copy_token(attrs))
            yield helper

    def _list_files_snapshot(
        self, key: SnapshotKey, relative: str, recursive: bool
    ) -> list[FileEntry]:
        with self._complete_snapshot(key) as helper:
            return helper_ops.list_in(helper, relative, recursive, helper_ops.SNAPSHOT_HIDDEN)

    def _open_snapshot_file(self, key: SnapshotKey, relative: str) -> FileChunks:
        return _opened(self._complete_snapshot(key), relative, helper_ops.SNAPSHOT_HIDDEN)

    # --- mounts -------------------------------------------------------------------------

    def _engine_api_version(self) -> str:
        if self._api_version is None:
            client = self._docker()
            server = str(client.version().get("ApiVersion", "0.0"))
            spoken = str(client.api.api_version)
            both = sorted((server, spoken), key=_version_tuple)
            self._api_version = both[0]
        return self._api_version

    def _mount_for(
        self,
        kind: StorageKind,
        key: VolumeKey | SnapshotKey,
        target: str,
        relative: str,
        read_only: bool,
    ) -> MountSpec:
        if isinstance(key, VolumeKey):
            attrs = self._require_volume(key)
        else:
            attrs = self._require_snapshot(key)
        sub_path = ""
        if relative:
            version = self._engine_api_version()
            if not api_version_at_least(version, SUBPATH_MIN_API):
                raise InvalidStorageRequest(
                    f"sub_path {relative!r} needs Docker engine API >= 1.45 (volume subpath "
                    f"mounts); this engine speaks {version}. Mount the whole "
                    f"{kind.value} instead"
                )
            sub_path = self._resolve_sub_path(key, attrs, relative)
        return MountSpec(
            kind=kind,
            volume_name=self._name_of(key),
            target=target,
            read_only=read_only,
            sub_path=sub_path,
        )

    def _resolve_sub_path(self, key: VolumeKey | SnapshotKey, attrs: Attrs, relative: str) -> str:
        """The sub path as it really lies in the volume: a directory, reached without
        leaving the volume (links inside it resolved)."""
        if isinstance(key, VolumeKey):
            mount = self._volume_mount(key, attrs, True)
        else:
            mount = self._snapshot_mount(key, attrs, HELPER_ROOT, True)
        with self._helper(key.tenant_id, [mount]) as helper:
            return helper_ops.resolve_sub_path(helper, relative)


def _opened(
    helper: contextlib.AbstractContextManager[HelperShell], relative: str, hidden: frozenset[str]
) -> FileChunks:
    """The file's chunks, holding the helper until they are closed (the helper goes back to
    the pool then, or is stopped if the reading failed)."""
    held = contextlib.ExitStack()
    try:
        shell = held.enter_context(helper)
        chunks = helper_ops.open_in(shell, relative, hidden)
    except BaseException:
        held.close()
        raise

    def release(failed: BaseException | None) -> None:
        if failed is None:
            held.close()
        else:
            held.__exit__(type(failed), failed, failed.__traceback__)

    return FileChunks(chunks, release)


def _copy_token(attrs: Mapping[str, Any]) -> str:
    return str((attrs.get("Labels") or {}).get(LABEL_COPY_TOKEN, ""))


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def _kind_of(owner: Mapping[str, str]) -> str:
    return "snapshot" if LABEL_SNAPSHOT in owner else "volume"


def _id_of(owner: Mapping[str, str]) -> str:
    return owner.get(LABEL_SNAPSHOT) or owner.get(LABEL_VOLUME) or "?"


def _describe_users(summaries: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for summary in summaries:
        names = summary.get("Names") or [str(summary.get("Id", ""))[:12]]
        name = str(names[0]).lstrip("/")
        pod = (summary.get("Labels") or {}).get(LABEL_POD)
        state = summary.get("State", "")
        parts.append(f"container {name}" + (f" (pod {pod}, {state})" if pod else f" ({state})"))
    return ", ".join(parts)
