"""KubernetesVolumeStore: the VolumeStore seam on a Kubernetes cluster, with one
PersistentVolumeClaim per volume and per snapshot.

Called by the API layer (services/api) when PODS_RUNTIME=kubernetes; the runtime mounts the
claims by name (manifests.py). Talks to the cluster only through our
api.KubeApi seam (blocking calls in worker threads); KubeErrors become TemporaryError or
PermanentError through errors.py.

- A volume is a claim (claims.volume_claim) requesting its size limit as capacity:
  on block-backed storage classes the filesystem itself holds pods to the limit; uploads are
  also checked against it here.
- A snapshot is another claim, filled by a copy (`cp -a`) of the source volume or of one of
  its directories or files, then marked complete (helper_answers.SNAPSHOT_MARKER carrying the
  copy token annotated on the claim). Portable: it needs no CSI snapshot support.
- Files are reached through a helper Pod per operation (claims.helper_pod) with
  the claims mounted; the file operations are helper_ops', shared with the Docker store. This
  module's HelperSession execs into the helper: uploads are sent on stdin and read by
  `head -c <size> | tar -x` (the exec stream needs no end-of-input), downloads come back as
  raw bytes. Known limit: the exec client (kubernetes' WSClient) hands a command's output over
  whole, so a download is read into memory at once, at most `max_transfer_bytes` (256 MiB by
  default), and only then streamed to the caller in chunks; the Docker store streams all the
  way. A ReadWriteOnce claim in use by a pod attaches to that pod's node only, so the
  helper is placed on that node (claims.node_for). A helper with one mount waits
  DEFAULT_HELPER_IDLE_S for the next call on the same claim (helper_pool), and lets go as
  soon as a pod is about to mount the claim (mount_for); others are deleted after the
  operation. Should we crash, a helper ends after HELPER_LIFETIME_S and the next operation
  deletes it.
- Deleting a volume or snapshot mounted by a pod of ours is refused (StorageConflict naming
  the pods); our own helpers are removed first. A claim being deleted counts as absent.

The async API (validation, per-object locks, worker threads) is threaded_store's, shared
with the Docker store; this module holds the blocking implementation.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.kubernetes.names import deployment_selector
from services.common.runtime.types import LABEL_DEPLOYMENT
from services.common.storage import paths
from services.common.storage.chunks import FileChunks, chunked
from services.common.storage.types import (
    InvalidStorageRequest,
    SnapshotKey,
    StorageConflict,
    VolumeKey,
    snapshot_name,
    volume_name,
)
from services.spawner.platforms.kubernetes.api import AlreadyExists, KubeApi
from services.spawner.platforms.kubernetes.claims import (
    HELPER_CONTAINER,
    ClaimSettings,
    annotations_of,
    carries,
    claim_selector,
    created_at,
    describe_users,
    helper_name,
    helper_pod,
    helper_state,
    is_finished,
    is_helper,
    is_terminating,
    node_for,
    snapshot_claim,
    snapshot_owner,
    users_of,
    volume_claim,
    volume_owner,
)
from services.spawner.platforms.kubernetes.config import KubernetesConfig
from services.spawner.platforms.kubernetes.connection import LazyKubeApi
from services.spawner.platforms.kubernetes.errors import translated_kube_errors
from services.spawner.storage import helper_ops
from services.spawner.storage.helper_answers import (
    DEFAULT_MAX_TRANSFER_BYTES,
    HELPER_ROOT,
    tail,
)
from services.spawner.storage.helper_ops import HelperShell
from services.spawner.storage.helper_store import HelperContext, HelperKey, HelperVolumeStore

T = TypeVar("T")
Obj = dict[str, Any]
CLAIMS: Final = "persistentvolumeclaims"
# Writes exactly $1 bytes of stdin into the directory $2 as a tar stream.
PUT_SCRIPT = 'head -c "$1" | tar -x -f - -C "$2"'
DEFAULT_EXEC_TIMEOUT_S = 600.0
POLL_INTERVAL_S = 0.5
# Shorter than on Docker: an idle helper keeps a ReadWriteOnce claim attached to its node.
DEFAULT_HELPER_IDLE_S = 10.0
HelperMount = tuple[str, str, bool]  # claim, target, read-only


class _PodSession:
    """helper_ops.HelperSession over exec into a running helper Pod."""

    def __init__(self, api: KubeApi, pod_name: str, timeout_s: float, max_bytes: int) -> None:
        self._api = api
        self._pod = pod_name
        self._timeout = timeout_s
        self._max_bytes = max_bytes

    def _exec(self, argv: Sequence[str], stdin: bytes | None) -> tuple[int, bytes, bytes]:
        with translated_kube_errors(f"running {argv[0]} in the storage helper"):
            result = self._api.exec_bytes(self._pod, HELPER_CONTAINER, argv, stdin, self._timeout)
        if result.exit_code is None:
            raise TemporaryError(f"{argv[0]} in the storage helper took over {self._timeout} s")
        return result.exit_code, result.stdout, result.stderr

    def exec(self, argv: Sequence[str]) -> tuple[bytes, bytes]:
        _, out, err = self._exec(argv, None)
        return out, err

    def put(self, directory: str, archive: bytes) -> None:
        argv = ["sh", "-c", PUT_SCRIPT, "put", str(len(archive)), directory]
        code, _, err = self._exec(argv, archive)
        if code != 0:
            raise TemporaryError(f"writing into {directory} failed ({code}): {tail(err)}")

    def read_chunks(self, real: str, size: int, shown: str) -> Iterator[bytes]:
        # The exec client hands over the output whole, so it is read here at once, bounded
        # by max_bytes, and handed on as one piece (the store cuts it into chunks).
        if size > self._max_bytes:
            raise InvalidStorageRequest(
                f"{paths.describe(shown)} is {size} bytes; downloads from Kubernetes volumes "
                f"are limited to {self._max_bytes}"
            )
        max_bytes = self._max_bytes
        code, out, err = self._exec(["head", "-c", str(max_bytes + 1), real], None)
        if code != 0:
            raise TemporaryError(f"reading {paths.describe(shown)} failed ({code}): {tail(err)}")
        if len(out) > max_bytes:
            raise InvalidStorageRequest(
                f"{paths.describe(shown)} is over {max_bytes} bytes; downloads are limited to "
                f"{max_bytes}"
            )
        return iter([out])


class KubernetesVolumeStore(HelperVolumeStore[Obj, HelperMount]):
    """VolumeStore in one namespace of a cluster; manages only claims annotated with
    `deployment_id`."""

    def __init__(
        self,
        deployment_id: str,
        config: KubernetesConfig,
        settings: ClaimSettings | None = None,
        *,
        api_factory: Callable[[], KubeApi] | None = None,
        max_transfer_bytes: int = DEFAULT_MAX_TRANSFER_BYTES,
        exec_timeout_s: float = DEFAULT_EXEC_TIMEOUT_S,
        file_owner: tuple[int, int] = (0, 0),
        poll_interval_s: float = POLL_INTERVAL_S,
        helper_idle_s: float = DEFAULT_HELPER_IDLE_S,
    ) -> None:
        """`api_factory` builds the KubeApi on first use (default: ClusterApi.connect to
        the configured namespace). `file_owner`: uid and gid of uploaded files."""
        super().__init__(deployment_id, file_owner=file_owner, helper_idle_s=helper_idle_s)
        self.config = config
        self.settings = settings or ClaimSettings()
        self.max_transfer_bytes = max_transfer_bytes
        self._exec_timeout = exec_timeout_s
        self._poll = poll_interval_s
        self._api = LazyKubeApi(config, factory=api_factory)

    def close(self) -> None:
        """Deletes the pooled helpers, then closes the API client if one was opened."""
        self._pool.close()
        self._api.close()

    async def subpath_supported(self) -> bool:
        """Always: a volumeMount's subPath."""
        return True

    # --- plumbing -------------------------------------------------------------------------

    def _engine_errors(self, action: str) -> contextlib.AbstractContextManager[None]:
        return translated_kube_errors(action)

    def _owned(self, name: str, owner: Mapping[str, str], what: str) -> Obj | None:
        """The claim `name` if it carries `owner`'s annotations; None when absent or being
        deleted; StorageConflict when someone else's claim holds the name."""
        claim = self._api.get().read(CLAIMS, name)
        if claim is None or is_terminating(claim):
            return None
        if not carries(claim, owner):
            raise StorageConflict(
                f"a PersistentVolumeClaim named {name!r} exists that deployment "
                f"{self.deployment_id!r} did not create for {what}; it is left untouched"
            )
        return claim

    def _find_volume(self, key: VolumeKey) -> Obj | None:
        name, owner = volume_name(self.deployment_id, key), volume_owner(self.deployment_id, key)
        return self._owned(name, owner, f"volume {key.volume_id!r}")

    def _find_snapshot(self, key: SnapshotKey) -> Obj | None:
        name = snapshot_name(self.deployment_id, key)
        owner = snapshot_owner(self.deployment_id, key)
        return self._owned(name, owner, f"snapshot {key.snapshot_id!r}")

    def _notes(self, record: Obj) -> Mapping[str, str]:
        return annotations_of(record)

    def _record_name(self, record: Obj) -> str:
        return str(record["metadata"]["name"])

    def _created_at(self, record: Obj) -> datetime | None:
        return created_at(record)

    def _volume_mount(self, key: VolumeKey, record: Obj, read_only: bool) -> HelperMount:
        return volume_name(self.deployment_id, key), HELPER_ROOT, read_only

    def _snapshot_mount(
        self, key: SnapshotKey, record: Obj, target: str, read_only: bool
    ) -> HelperMount:
        return snapshot_name(self.deployment_id, key), target, read_only

    def _our_pods(self) -> list[Obj]:
        return self._api.get().list_pods(deployment_selector(self.deployment_id)).items

    def _create_claim(self, body: Obj, owner: Mapping[str, str], what: str) -> Obj:
        """Creates the claim; a name taken meanwhile is read back (and must be ours)."""
        name = body["metadata"]["name"]
        with contextlib.suppress(AlreadyExists):
            self._api.get().create(CLAIMS, body)
        claim = self._owned(name, owner, what)
        if claim is None:
            raise TemporaryError(f"the claim of {what} is still being deleted; try again")
        return claim

    def _start_helper(self, key: HelperKey[HelperMount]) -> tuple[str, HelperShell]:
        """Creates a helper Pod and waits until it runs. Helpers that ended (their hour ran
        out: a process of ours died mid-operation) are deleted on the way."""
        tenant_id, mounts = key
        api = self._api.get()
        pods = self._our_pods()
        for pod in pods:
            if is_helper(pod) and is_finished(pod) and not is_terminating(pod):
                with contextlib.suppress(Exception):  # best effort: the next call tries again
                    api.delete("pods", str(pod["metadata"]["name"]))
        node = node_for(pods, [claim for claim, _, _ in mounts])
        name = helper_name(self.deployment_id, secrets.token_hex(6))
        body = helper_pod(
            self.deployment_id, tenant_id, name, mounts, node, self.config, self.settings
        )
        api.create("pods", body)
        try:
            self._wait_running(name)
        except BaseException:
            self._stop_helper(name)
            raise
        return name, HelperShell(
            _PodSession(api, name, self._exec_timeout, self.max_transfer_bytes)
        )

    def _stop_helper(self, name: str) -> None:
        with contextlib.suppress(Exception):  # best effort; it also expires by itself
            self._api.get().delete("pods", name)

    def _helper_alive(self, name: str) -> bool:
        pod = self._api.get().read("pods", name)
        return pod is not None and not is_terminating(pod) and helper_state(pod)[0] == "running"

    def _wait_running(self, name: str) -> None:
        deadline = time.monotonic() + self.settings.helper_start_timeout_s
        why = "not created yet"
        while True:
            pod = self._api.get().read("pods", name)
            if pod is not None:
                state, why = helper_state(pod)
                if state == "running":
                    return
                if state == "failed":
                    raise PermanentError(
                        f"the storage helper (image {self.settings.helper_image!r}) cannot "
                        f"run: {why}"
                    )
            if time.monotonic() >= deadline:
                raise TemporaryError(
                    f"the storage helper did not start within "
                    f"{self.settings.helper_start_timeout_s:.0f} s ({why})"
                )
            time.sleep(self._poll)

    def _open_in(self, helper: HelperContext, relative: str, hidden: frozenset[str]) -> FileChunks:
        """The file, read at once through the helper (bounded by max_transfer_bytes, see
        _PodSession), then handed on in chunks."""
        with helper as shell:
            data = b"".join(helper_ops.open_in(shell, relative, hidden))
        return FileChunks(chunked(data))

    # --- volumes --------------------------------------------------------------------------

    def _new_volume(self, key: VolumeKey, size_limit_bytes: int) -> Obj:
        body = volume_claim(
            self.deployment_id, key, size_limit_bytes, datetime.now(UTC), self.settings
        )
        owner = volume_owner(self.deployment_id, key)
        return self._create_claim(body, owner, f"volume {key.volume_id!r}")

    def _our_objects(self, kind_label: str, tenant_id: str | None) -> list[Obj]:
        selector = claim_selector(self.deployment_id, kind_label, tenant_id)
        return [
            claim
            for claim in self._api.get().list_claims(selector).items
            if not is_terminating(claim)
            and annotations_of(claim).get(LABEL_DEPLOYMENT) == self.deployment_id
        ]

    def _delete_volume(self, key: VolumeKey) -> bool:
        name, owner = volume_name(self.deployment_id, key), volume_owner(self.deployment_id, key)
        return self._delete(name, owner, f"volume {key.volume_id!r}")

    def _delete_snapshot(self, key: SnapshotKey) -> bool:
        name = snapshot_name(self.deployment_id, key)
        return self._delete(
            name, snapshot_owner(self.deployment_id, key), f"snapshot {key.snapshot_id!r}"
        )

    def _delete(self, name: str, owner: Mapping[str, str], what: str) -> bool:
        """Deletes an owned claim unless a pod other than our helpers mounts it; our helpers
        (an operation of another process, or a leftover) are deleted first."""
        if self._owned(name, owner, what) is None:
            return False
        users = users_of(self._our_pods(), name)
        others = [pod for pod in users if not is_helper(pod)]
        if others:
            raise StorageConflict(
                f"{what} is still mounted by {describe_users(others)}; remove those first"
            )
        api = self._api.get()
        for pod in users:
            api.delete("pods", str(pod["metadata"]["name"]))
        return api.delete(CLAIMS, name)

    # --- snapshots ------------------------------------------------------------------------

    def _new_snapshot(
        self,
        key: SnapshotKey,
        source_key: VolumeKey,
        source: Obj,
        relative: str,
        size_limit_bytes: int | None,
        copy_token: str,
    ) -> Obj:
        source_limit = self._volume_info(source_key, source).size_limit_bytes
        body = snapshot_claim(
            self.deployment_id,
            key,
            source_key,
            relative,
            size_limit_bytes or source_limit,
            copy_token,
            datetime.now(UTC),
            self.settings,
        )
        owner = snapshot_owner(self.deployment_id, key)
        return self._create_claim(body, owner, f"snapshot {key.snapshot_id!r}")

    def _discard_snapshot(self, key: SnapshotKey) -> None:
        with contextlib.suppress(Exception):
            self._api.get().delete(CLAIMS, snapshot_name(self.deployment_id, key))

    # --- mounts ---------------------------------------------------------------------------

    def _before_mount(self, name: str) -> None:
        # A pod is about to mount the claim: our idle helpers let go of it (one holding a
        # ReadWriteOnce claim would keep the pod from starting on another node).
        self._pool.discard(lambda helper: any(mount[0] == name for mount in helper[1]))
