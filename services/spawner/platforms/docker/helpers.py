"""The Docker storage helper container: its create arguments (no network, read-only root,
all capabilities dropped but those needed to read and copy files of any owner, no new
privileges, labelled as ours, removed when it ends) and DockerSession, the
helper_ops.HelperSession over it (exec, and content moved with put_archive and get_archive).

Called by services/spawner/platforms/docker/volumes.py (DockerVolumeStore) only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from services.common.outcomes import TemporaryError
from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_TENANT
from services.common.storage.chunks import CHUNK_SIZE, tar_member_chunks
from services.common.storage.types import LABEL_STORAGE_HELPER
from services.spawner.storage.helper_answers import HELPER_CAPABILITIES, HELPER_LIFETIME_S

DEFAULT_HELPER_IMAGE = "pods-http:latest"
HELPER_MEMORY = "256m"
HELPER_PIDS = 64
# A helper mount: volume, target, read-only, the volume's labels (sorted pairs).
HelperMount = tuple[str, str, bool, tuple[tuple[str, str], ...]]


def helper_container_kwargs(
    image: str, deployment_id: str, tenant_id: str, mounts: Sequence[HelperMount]
) -> dict[str, Any]:
    """The arguments of containers.create for a helper of `tenant_id` with `mounts`; the
    labels of each mount are what Docker gives the volume should it have to create it."""
    return {
        "image": image,
        "entrypoint": ["sleep"],
        "command": [str(HELPER_LIFETIME_S)],
        "labels": {
            LABEL_DEPLOYMENT: deployment_id,
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


class DockerSession:
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
