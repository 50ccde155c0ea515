"""DockerVolumeStore: the VolumeStore seam implemented with Docker named volumes.

Built by services/spawner/platforms/factory.py and served by the spawner
(services/spawner/storage_servicer.py) for Tapis Pods volumes and snapshots; the runtime
mounts what `mount_for` returns (`docker_mount` turns a MountSpec into the Docker mount dict).
What both platform stores do alike (records, listings, uploads, the snapshot algorithm) is
services/spawner/storage/helper_store.py's, over the Docker primitives here; its async API is
threaded_store.ThreadedVolumeStore's, running the blocking methods in worker threads. SDK
errors are translated into TemporaryError and the PermanentError subclasses of
services/common/storage/types.py.

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
Kubernetes store; helpers.py provides their HelperSession: exec, and content moving with
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
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import docker
import docker.errors

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import validate_slug
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD, LABEL_TENANT
from services.common.storage.chunks import FileChunks
from services.common.storage.types import (
    LABEL_SIZE_LIMIT,
    LABEL_SNAPSHOT,
    LABEL_SOURCE_PATH,
    LABEL_SOURCE_VOLUME,
    LABEL_STORAGE_HELPER,
    LABEL_VOLUME,
    InvalidStorageRequest,
    MountSpec,
    SnapshotKey,
    StorageConflict,
    StorageKind,
    VolumeKey,
    snapshot_labels,
    snapshot_name,
    volume_labels,
    volume_name,
)
from services.spawner.platforms.docker.errors import translated_docker_errors
from services.spawner.platforms.docker.helpers import (
    DEFAULT_HELPER_IMAGE,
    DockerSession,
    HelperMount,
    helper_container_kwargs,
)
from services.spawner.storage import helper_ops
from services.spawner.storage.helper_answers import (
    HELPER_ROOT,
    LABEL_COPY_TOKEN,
    LABEL_CREATED_AT,
)
from services.spawner.storage.helper_ops import HelperShell
from services.spawner.storage.helper_pool import DEFAULT_IDLE_S
from services.spawner.storage.helper_store import HelperContext, HelperKey, HelperVolumeStore

Attrs = dict[str, Any]
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


# --- the store --------------------------------------------------------------------------


class DockerVolumeStore(HelperVolumeStore[Attrs, HelperMount]):
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
        super().__init__(deployment_id, file_owner=file_owner, helper_idle_s=helper_idle_s)
        self.helper_image = helper_image
        self._client = client
        self._owns_client = client is None
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._client_lock = threading.Lock()
        self._api_version: str | None = None

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

    def _find_volume(self, key: VolumeKey) -> Attrs | None:
        name = volume_name(self.deployment_id, key)
        return self._owned(name, self._volume_owner(key), f"volume {key.volume_id!r}")

    def _find_snapshot(self, key: SnapshotKey) -> Attrs | None:
        name = snapshot_name(self.deployment_id, key)
        return self._owned(name, self._snapshot_owner(key), f"snapshot {key.snapshot_id!r}")

    def _notes(self, record: Attrs) -> Mapping[str, str]:
        notes: Mapping[str, str] = record.get("Labels") or {}
        return notes

    def _record_name(self, record: Attrs) -> str:
        return str(record.get("Name", ""))

    def _created_at(self, record: Attrs) -> datetime | None:
        return parse_created(record)

    def _start_helper(self, key: HelperKey[HelperMount]) -> tuple[str, HelperShell]:
        """A helper container with each (volume, target, read_only, labels) mounted; `labels`
        are what Docker gives the volume should it have to create it (a volume deleted
        meanwhile elsewhere is then recreated as ours, never anonymous)."""
        tenant_id, mounts = key
        client = self._docker()
        kwargs = helper_container_kwargs(self.helper_image, self.deployment_id, tenant_id, mounts)
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
        return container.id, HelperShell(DockerSession(client.api, container.id))

    def _stop_helper(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
            self._docker().api.remove_container(container_id, force=True)

    def _helper_alive(self, container_id: str) -> bool:
        try:
            state = self._docker().api.inspect_container(container_id).get("State") or {}
        except docker.errors.NotFound:
            return False
        return bool(state.get("Running"))

    def _volume_mount(self, key: VolumeKey, attrs: Attrs, read_only: bool) -> HelperMount:
        labels = attrs.get("Labels") or {}
        limit = int(labels.get(LABEL_SIZE_LIMIT, "1"))
        name = volume_name(self.deployment_id, key)
        labelled = volume_labels(self.deployment_id, key, limit)
        return name, HELPER_ROOT, read_only, tuple(sorted(labelled.items()))

    def _snapshot_mount(
        self, key: SnapshotKey, attrs: Attrs, target: str, read_only: bool
    ) -> HelperMount:
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

    def _new_volume(self, key: VolumeKey, size_limit_bytes: int) -> Attrs:
        name = volume_name(self.deployment_id, key)
        labels = {
            **volume_labels(self.deployment_id, key, size_limit_bytes),
            LABEL_CREATED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._docker().api.create_volume(name=name, driver="local", labels=labels)
        # Docker answers a create of an existing name with that volume: check it again.
        attrs = self._find_volume(key)
        if attrs is None:
            raise TemporaryError(f"volume {name} vanished right after its creation")
        return attrs

    def _our_objects(self, kind_label: str, tenant_id: str | None) -> list[Attrs]:
        filters = [f"{LABEL_DEPLOYMENT}={self.deployment_id}", kind_label]
        if tenant_id is not None:
            filters.append(f"{LABEL_TENANT}={validate_slug('tenant id', tenant_id)}")
        answer = self._docker().api.volumes(filters={"label": filters}) or {}
        return list(answer.get("Volumes") or [])

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

    def _open_in(self, helper: HelperContext, relative: str, hidden: frozenset[str]) -> FileChunks:
        """The file's chunks, holding the helper until they are closed (the helper goes back
        to the pool then, or is stopped if the reading failed)."""
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

    # --- snapshots ----------------------------------------------------------------------

    def _new_snapshot(
        self,
        key: SnapshotKey,
        source_key: VolumeKey,
        source: Attrs,
        relative: str,
        size_limit_bytes: int | None,
        copy_token: str,
    ) -> Attrs:
        labels = {
            **snapshot_labels(self.deployment_id, key, source_key, relative),
            LABEL_CREATED_AT: datetime.now(UTC).isoformat(timespec="seconds"),
            LABEL_COPY_TOKEN: copy_token,
        }
        name = snapshot_name(self.deployment_id, key)
        self._docker().api.create_volume(name=name, driver="local", labels=labels)
        return self._require_snapshot(key)

    def _discard_snapshot(self, key: SnapshotKey) -> None:
        with contextlib.suppress(docker.errors.APIError):
            self._docker().api.remove_volume(snapshot_name(self.deployment_id, key))

    # --- mounts -------------------------------------------------------------------------

    def _engine_api_version(self) -> str:
        if self._api_version is None:
            client = self._docker()
            server = str(client.version().get("ApiVersion", "0.0"))
            spoken = str(client.api.api_version)
            both = sorted((server, spoken), key=_version_tuple)
            self._api_version = both[0]
        return self._api_version

    def _check_sub_path(self, kind: StorageKind, relative: str) -> None:
        version = self._engine_api_version()
        if not api_version_at_least(version, SUBPATH_MIN_API):
            raise InvalidStorageRequest(
                f"sub_path {relative!r} needs Docker engine API >= 1.45 (volume subpath "
                f"mounts); this engine speaks {version}. Mount the whole {kind.value} instead"
            )


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
