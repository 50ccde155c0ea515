"""A pid file is never seen half written: a reader racing the writer reads the old pid or
the new one, never an empty or partial file (the crash tests and operators read pid files
while the launcher rewrites them after a restart)."""

from __future__ import annotations

import threading
from pathlib import Path

from services.common.pid_files import write_pid_file


def test_a_pid_file_holds_the_pid(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids" / "nats.pid"
    write_pid_file(pid_file, 4321)
    write_pid_file(pid_file, 987654)
    assert pid_file.read_text() == "987654"
    assert [p.name for p in pid_file.parent.iterdir()] == ["nats.pid"]


def test_a_reader_never_sees_a_pid_file_half_written(tmp_path: Path) -> None:
    pid_file = tmp_path / "nats.pid"
    write_pid_file(pid_file, 100000)
    done = threading.Event()

    def rewrite() -> None:
        for pid in range(100001, 104001):
            write_pid_file(pid_file, pid)
        done.set()

    writer = threading.Thread(target=rewrite)
    writer.start()
    seen: set[str] = set()
    while not done.is_set():
        seen.add(pid_file.read_text())
    writer.join()
    assert all(text.isdigit() and len(text) == 6 for text in seen), sorted(seen)[:5]
