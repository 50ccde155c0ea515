"""The stack's data directory (SQLite file, NATS store, gateway files) on a disk that fills up:
writes answer 503 naming the cause, never 500 and never a traceback; reads keep working; once
space is freed the stack carries on by itself, and the database file is intact."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Stack, eventually, start_stack, stop_stack
from tests.faults.conftest import mount_tmpfs, unmount

pytestmark = [pytest.mark.faults, pytest.mark.docker, pytest.mark.stack]


@pytest.fixture
def data_disk() -> Iterator[Path]:
    point = mount_tmpfs("64m")
    try:
        yield point
    finally:
        unmount(point)


@pytest.fixture
def full_stack(data_disk: Path, tmp_path: Path) -> Iterator[Stack]:
    stack = start_stack(tmp_path, {"PODS_DATA_DIR": str(data_disk / "data")})
    try:
        yield stack
    finally:
        stop_stack(stack)


def fill(point: Path) -> Path:
    """Writes zeros until the disk is full. Unbuffered, so no short write is left in a buffer
    that closing the file would try (and fail) to write again."""
    filler = point / "filler"
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def create(stack: Stack, token: str, pod_id: str) -> tuple[int, object]:
    body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
    status, _, data = stack.request("POST", "/v3/pods", body, token=token)
    return status, data


def test_a_full_data_disk_is_503_then_recovers_and_the_database_is_intact(
    full_stack: Stack, data_disk: Path
) -> None:
    stack = full_stack
    token = stack.token()
    assert create(stack, token, "before")[0] == 200
    filler = fill(data_disk)

    answers = []
    for n in range(40):  # the WAL may still have a few free pages; use them up
        status, data = create(stack, token, f"during{n}")
        answers.append((status, data))
        if status != 200:
            break
    status, data = answers[-1]
    assert status == 503, answers[-3:]
    assert isinstance(data, dict), data
    assert data["message"] == "the database is unavailable (its disk is full); try again shortly"
    assert "Traceback" not in json.dumps(data)
    assert stack.request("GET", "/v3/pods/before", token=token)[0] == 200  # reads still work

    filler.unlink()
    assert create(stack, token, "after")[0] == 200
    for pod_id in ["before", "after"]:

        def available(pod_id: str = pod_id) -> bool:
            data = stack.request("GET", f"/v3/pods/{pod_id}", token=token)[2]
            assert isinstance(data, dict), data
            return bool(data["result"]["status"] == "AVAILABLE")

        eventually(available, 90, f"{pod_id} AVAILABLE")
    with sqlite3.connect(stack.data_dir / "pods.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
