"""End-to-end fixtures: every test runs twice, once on a stack keeping its state in SQLite and
once on a stack on a fresh PostgreSQL database (ids [sqlite] and [postgres]); one stack per
database for the session (see harness.py), plus unique names and cleanup per test."""

from __future__ import annotations

import json
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests.e2e.harness import Stack, start_stack, stop_stack


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def database(request: pytest.FixtureRequest) -> str:
    """The database of the stacks this run of the test uses."""
    return str(request.param)


@pytest.fixture(scope="session")
def stack(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp(f"stack-{database}"), database=database)
    try:
        yield running
    finally:
        stop_stack(running)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names of this test's own: `unique("webpod")` is "webpod" plus six hex digits, the same
    suffix for every name of the test (valid pod, volume, snapshot and template ids)."""
    suffix = uuid.uuid4().hex[:6]
    return lambda base: f"{base}{suffix}"


class Cleanup:
    """What a test made on the shared stack, deleted after it whether it passed or not (as the
    tenant admin, who may delete anything; what is already gone is fine)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def pod(self, pod_id: str) -> str:
        self.paths.append(f"/v3/pods/{pod_id}")
        return pod_id

    def volume(self, volume_id: str) -> str:
        self.paths.append(f"/v3/pods/volumes/{volume_id}")
        return volume_id

    def snapshot(self, snapshot_id: str) -> str:
        self.paths.append(f"/v3/pods/snapshots/{snapshot_id}")
        return snapshot_id

    def template(self, template_id: str) -> str:
        self.paths.append(f"/v3/pods/templates/{template_id}")
        return template_id

    def image(self, rule: str) -> str:
        self.paths.append(f"/v3/pods/images/{urllib.parse.quote(rule, safe='')}")
        return rule


@pytest.fixture
def cleanup(stack: Stack) -> Iterator[Cleanup]:
    made = Cleanup()
    yield made
    token = stack.token("adminuser", "adminpass")
    left = list(reversed(made.paths))  # pods before the volumes they mount
    problems: dict[str, str] = {}
    deadline = time.monotonic() + 60  # a volume stays mounted until its pod is gone
    while left and time.monotonic() < deadline:
        for path in list(left):
            status, _, body = stack.request("DELETE", path, token=token)
            if status in (200, 404):
                left.remove(path)
            else:
                problems[path] = f"{status} {json.dumps(body)[:200]}"
        if left:
            time.sleep(0.5)
    assert not left, {path: problems[path] for path in left}


Unique = Callable[[str], str]
