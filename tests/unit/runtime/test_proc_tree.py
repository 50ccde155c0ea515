"""proc_tree on a fake /proc (the parsing) and on the real one (a child process we start)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from services.spawner.platforms.docker import proc_tree


def fake_process(proc: Path, pid: int, ppid: int, nspid: str, name: str = "sleep") -> None:
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "stat").write_text(f"{pid} ({name}) S {ppid} {pid} {pid} 0 -1\n")
    (proc / str(pid) / "status").write_text(f"Name:\t{name}\nNSpid:\t{nspid}\nPPid:\t{ppid}\n")


def test_descendants_and_namespace_pids_from_a_fake_proc(tmp_path: Path) -> None:
    fake_process(tmp_path, 100, 1, "100\t7", name="sh (x) y")  # a name with ") "
    fake_process(tmp_path, 101, 100, "101\t8")
    fake_process(tmp_path, 102, 101, "102\t9")
    fake_process(tmp_path, 200, 1, "200")
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "status").write_text("NSpid:\t42\n")
    assert proc_tree.descendants(100, tmp_path) == [100, 101, 102]
    assert proc_tree.descendants(999, tmp_path) == []
    assert [proc_tree.namespace_pid(p, tmp_path) for p in (100, 102, 200, 999)] == [7, 9, 200, None]
    assert proc_tree.sees_host_pids(tmp_path)
    (tmp_path / "self" / "status").write_text("NSpid:\t42\t1\n")
    assert not proc_tree.sees_host_pids(tmp_path)


def test_descendants_of_a_real_process() -> None:
    script = "import subprocess, sys; subprocess.run(['sleep', '30']); sys.exit()"
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        found: list[int] = []
        deadline = time.monotonic() + 10
        while len(found) != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            found = proc_tree.descendants(parent.pid)
        assert found[0] == parent.pid and len(found) == 2
        assert proc_tree.namespace_pid(found[1]) == found[1]  # the host's own namespace
    finally:
        for pid in reversed(proc_tree.descendants(parent.pid)):
            os.kill(pid, 9)
        parent.wait()
