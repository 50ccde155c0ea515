"""Files put into a pod's running container (Tapis's upload_to_pod): the destination path's
rules, the size limit, and who may do it. Called by transport/pod_files_servicer.py; the
copy itself is the spawner's (a PodFileWriter, services/api/spawner_client.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.api.domain.access import Access
from services.api.domain.principal import Principal
from services.api.errors import FailedPreconditionError, InvalidArgumentError
from services.common.pods_model import Level, Status
from services.common.runtime.types import PodKey

# The gateway buffers at most 4 MiB of request body; gRPC callers get the same limit.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_PATH_CHARS = 4096


class PodFileWriter(Protocol):
    """Writes a file into a pod's running container."""

    async def copy_into(self, key: PodKey, dest_path: str, data: bytes) -> None:
        """InvalidArgumentError (dest_path) when its directory does not exist there;
        FailedPreconditionError when the container cannot take it."""
        ...


@dataclass(frozen=True)
class Uploaded:
    """What upload() wrote."""

    pod_id: str
    dest_path: str
    size: int


def checked_dest_path(path: str) -> str:
    """`path` if it is a file's absolute path without '..' segments; else InvalidArgumentError
    naming dest_path and the rule."""
    if not path:
        raise InvalidArgumentError("dest_path", "is required (the file's path in the pod)")
    if len(path) > MAX_PATH_CHARS:
        raise InvalidArgumentError("dest_path", f"must be at most {MAX_PATH_CHARS} characters")
    if "\0" in path:
        raise InvalidArgumentError("dest_path", "must not contain a NUL character")
    if not path.startswith("/"):
        raise InvalidArgumentError("dest_path", "must be an absolute path (start with '/')")
    if path.endswith("/"):
        raise InvalidArgumentError("dest_path", "must name a file, not end with '/'")
    if ".." in path.split("/"):
        raise InvalidArgumentError("dest_path", "must not contain '..' segments")
    return "/" + "/".join(part for part in path.split("/") if part not in ("", "."))


class PodFiles:
    """The upload_to_pod use case."""

    def __init__(self, access: Access, writer: PodFileWriter) -> None:
        self._access = access
        self._writer = writer

    async def upload(self, who: Principal, pod_id: str, dest_path: str, data: bytes) -> Uploaded:
        """Writes `data` at `dest_path` in the pod's container. Needs ADMIN on the pod (as
        Tapis requires for upload_to_pod) and an AVAILABLE pod."""
        record = await self._access.pod(who, pod_id, Level.ADMIN)
        path = checked_dest_path(dest_path)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidArgumentError(
                "file", f"is {len(data)} bytes; at most {MAX_UPLOAD_BYTES} may be uploaded"
            )
        if record.status is not Status.AVAILABLE:
            raise FailedPreconditionError(
                f"pod '{pod_id}' is {record.status.value}; files go only into an AVAILABLE pod"
            )
        await self._writer.copy_into(record.key, path, data)
        return Uploaded(pod_id=pod_id, dest_path=path, size=len(data))
