"""A process and its descendants as seen in the host's /proc, and the pid each has inside its
own (the container's) pid namespace. Called by runtime.py to kill a command run with
`docker exec` from inside the container: Docker reports the exec's host pid, the `kill` run in
the container needs the container's numbering.

Needs the host's pid namespace (a spawner on the engine's host, or a container with
`pid: host`); /proc/<pid>/stat and /proc/<pid>/status are readable by every user.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

PROC = Path("/proc")


def descendants(pid: int, proc: Path = PROC) -> list[int]:
    """`pid` and every process below it, parents before children; [] when `pid` is gone."""
    if not (proc / str(pid)).is_dir():
        return []
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            parent = _parent(entry)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.append(child)
                todo.append(child)
    return found


def sees_host_pids(proc: Path = PROC) -> bool:
    """True when this process is in the root pid namespace (one NSpid entry), so that pids
    reported by the engine on this host name the same processes in /proc."""
    own = proc / "self" / "status"
    with contextlib.suppress(OSError):
        for line in own.read_text().splitlines():
            if line.startswith("NSpid:"):
                return len(line.split()) == 2
    return False


def namespace_pid(pid: int, proc: Path = PROC) -> int | None:
    """The pid of host process `pid` in its innermost pid namespace (the last NSpid entry),
    or None when it is gone or the kernel does not say."""
    with contextlib.suppress(OSError):
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("NSpid:"):
                fields = line.split()[1:]
                return int(fields[-1]) if fields else None
    return None


def _parent(entry: Path) -> int | None:
    """The parent pid from /proc/<pid>/stat (the field after the parenthesised name)."""
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
