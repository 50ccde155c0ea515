"""Failpoints: named places where a test can make a process die, to prove crash safety.

Off unless PODS_FAILPOINTS names the point (comma-separated). Each point fires once per data
directory (a marker file records it), so the restarted process runs normally. The points:
  api-before-publish-<reason>   api, desired state written, command not yet published
                                (reason: create, delete, update, start, stop, restart)
  spawner-after-ensure          spawner, container created/replaced, database not yet updated
  spawner-after-remove-<what>   spawner, container removed for delete/stop/restart, database
                                not yet updated
  spawner-before-ack-<reason>   spawner, change applied and recorded, command not yet acked
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def kill_if_armed(name: str, data_dir: Path) -> None:
    """SIGKILLs this process if failpoint `name` is armed and has not fired yet."""
    armed = os.environ.get("PODS_FAILPOINTS", "")
    if name not in armed.split(","):
        return
    marker = data_dir / f"failpoint-{name}.fired"
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)
