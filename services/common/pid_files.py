"""Writes a process's pid file so that a reader never sees it half written: the pid goes to
a temporary file beside it, which then replaces the old one in one rename. Used by the
embedded NATS keeper (nats_server.py) and the launcher's supervisor
(services/devstack/supervisor.py); operators and the crash tests read these files while they
are being rewritten after a restart."""

from __future__ import annotations

import os
from pathlib import Path


def write_pid_file(pid_file: Path, pid: int) -> None:
    """Makes `pid_file` hold `pid`, replacing what it held in one step."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    partial = pid_file.with_name(f".{pid_file.name}.{os.getpid()}.tmp")
    partial.write_text(str(pid))
    os.replace(partial, pid_file)
