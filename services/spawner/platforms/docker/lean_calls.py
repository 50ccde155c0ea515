"""Two engine calls the Docker SDK makes in more round trips than they need, in one each:
creating a container (the SDK's `containers.create` inspects it right after) and reading its
logs (the SDK's `logs` inspects the container first to learn whether it has a TTY, which the
caller's own inspect already says). The SDK's own argument translation and stream decoding
are used, so the requests are the ones it would send.

Used by runtime.DockerRuntime, in its worker threads (blocking calls).
"""

from __future__ import annotations

from typing import Any

from docker.models.containers import _create_container_args


def create_container(api: Any, kwargs: dict[str, Any]) -> str:
    """Creates a container from `client.containers.create` arguments; its id."""
    arguments = _create_container_args({**kwargs, "version": api._version})
    return str(api.create_container(**arguments)["Id"])


def container_logs(api: Any, attrs: dict[str, Any], since: float | None) -> bytes:
    """Stdout and stderr of the inspected container `attrs` with timestamps, all lines or
    those from `since` (seconds since the epoch) on, as `api.logs(...)` returns them."""
    params: dict[str, Any] = {"stderr": 1, "stdout": 1, "timestamps": 1, "follow": 0}
    params["tail"] = "all"
    if since is not None and since > 0:
        params["since"] = since
    response = api._get(api._url("/containers/{0}/logs", attrs["Id"]), params=params)
    tty = bool((attrs.get("Config") or {}).get("Tty"))
    return bytes(api._get_result_tty(False, response, tty))
