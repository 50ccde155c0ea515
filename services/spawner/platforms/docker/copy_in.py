"""Puts one file into a running container through Docker's archive endpoint (`docker cp`'s),
which needs no program in the image. Called by DockerRuntime.copy_into (runtime.py)."""

from __future__ import annotations

from typing import Any

import docker.errors

from services.common.outcomes import PermanentError
from services.spawner.platforms.file_archive import one_file_tar, split_dest


def put_file(api: Any, container_id: str, dest_path: str, data: bytes) -> None:
    """Writes `data` at `dest_path` in the container through a docker.APIClient.
    FileNotFoundError when the directory does not exist there, IsADirectoryError when
    `dest_path` is a directory (never replaced: `noOverwriteDirNonDir`, which docker-py's
    put_archive does not send, hence the call by hand); PermanentError when the container's
    file system refuses it; other engine errors pass through."""
    directory, name = split_dest(dest_path)
    url = api._url("/containers/{0}/archive", container_id)
    params = {"path": directory, "noOverwriteDirNonDir": "true"}
    try:
        api._raise_for_status(api._put(url, params=params, data=one_file_tar(name, data)))
    except docker.errors.NotFound:
        raise FileNotFoundError(
            f"the directory '{directory}' does not exist in the pod's container"
        ) from None
    except docker.errors.APIError as exc:
        detail = str(exc.explanation or exc)
        if "cannot overwrite directory" in detail:
            raise IsADirectoryError(
                f"'{dest_path}' is a directory in the pod's container"
            ) from None
        if (exc.status_code is not None and exc.status_code < 500) or "read-only" in detail:
            raise PermanentError(
                f"the pod's container cannot take '{dest_path}': {detail}"
            ) from exc
        raise
