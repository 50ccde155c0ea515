"""How KubernetesRuntime.copy_into puts a file into a container: the command it runs there
(`tar -x` reading a one-file archive from stdin, as `kubectl cp` does) and what its outcome
means. Pure; called by runtime.py."""

from __future__ import annotations

from services.common.outcomes import PermanentError, TemporaryError
from services.spawner.platforms.kubernetes.api import ExecBytes

# Seconds the copy may take (the API sends at most 4 MiB).
COPY_TIMEOUT = 60.0


def copy_command(directory: str) -> list[str]:
    """Extracts the archive on stdin into `directory`, as the container's user, keeping no
    owner from the archive (`-o`, which GNU and BusyBox tar both read so)."""
    return ["tar", "-x", "-o", "-f", "-", "-C", directory]


def copy_outcome(done: ExecBytes, directory: str) -> None:
    """Nothing when tar succeeded; else the error saying why it did not."""
    if done.exit_code == 0:
        return
    stderr = done.stderr.decode(errors="replace").strip()
    if done.exit_code is None:
        raise TemporaryError(f"copying into the pod took over {COPY_TIMEOUT:.0f} s")
    if done.exit_code in (126, 127):
        raise PermanentError(
            "the pod's image has no `tar`, which copying a file into a pod needs on "
            f"Kubernetes ({stderr[-300:]})"
        )
    if "Is a directory" in stderr:
        raise IsADirectoryError(f"a directory is in the way in the pod's container: {stderr}")
    if "No such file or directory" in stderr or "can't change directory" in stderr.lower():
        raise FileNotFoundError(
            f"the directory '{directory}' does not exist in the pod's container"
        )
    raise PermanentError(f"the pod's container refused the file: {stderr[-300:]}")
