"""The Runtime contract: one set of behavioural cases run against FakeRuntime (the unit tests'
stand-in) and against DockerRuntime on the real engine ([fake] and [docker]), so the fake
cannot drift from what it stands in for: create, adopt, replace, inspect, remove,
list_managed, logs_since, exec, copy_into and watch.

What the protocol does not cover (making a container print or exit, a foreign container
holding a pod's name, a missing image) goes through a small driver per implementation: the
fake's test hooks, or real containers and `docker exec` on the engine."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

import docker
import docker.errors
import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.fake import FakeRuntime
from services.common.runtime.naming import container_name, with_hash
from services.common.runtime.types import (
    LABEL_DEPLOYMENT,
    ContainerSpec,
    ContainerState,
    LogChunk,
    Phase,
    PodKey,
    PortSpec,
    Runtime,
    RuntimeEvent,
)
from services.spawner.platforms.docker.runtime import DockerRuntime

IMAGE = "pods-http:latest"  # busybox: sh, sleep, echo (scripts/build-images builds it)
KEY = PodKey("dev", "web1")
OTHER = PodKey("dev", "web2")
# Waits until told to exit (the driver writes the code to /tmp/exit), printing nothing.
SCRIPT = "until [ -f /tmp/exit ]; do sleep 0.1; done; exit $(cat /tmp/exit)"
DEADLINE_S = 30.0


def spec(key: PodKey = KEY, **changes: object) -> ContainerSpec:
    base = ContainerSpec(
        key=key,
        image=IMAGE,
        command=("/bin/busybox",),
        arguments=("sh", "-c", SCRIPT),
        ports=(
            PortSpec(name="web", port=5000, protocol="http"),
            PortSpec(name="side", port=6000, protocol="local_only"),
        ),
        cpu_limit_millis=250,
        mem_limit_mib=64,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class Driver(Protocol):
    """One implementation under test, and what the contract needs beyond the protocol."""

    runtime: Runtime
    deployment_id: str

    async def print_lines(self, key: PodKey, *lines: str) -> None:
        """The pod's container writes these lines to its output."""

    async def make_exit(self, key: PodKey, code: int) -> None:
        """The pod's container exits with `code` (returns once it has)."""

    def plant_foreign(self, key: PodKey) -> None:
        """A container this deployment did not create takes the pod's container name."""

    def missing_image(self) -> str:
        """An image name the runtime cannot find."""

    def read_file(self, key: PodKey, path: str) -> bytes:
        """A file of the pod's container, as the container sees it."""


class FakeDriver:
    def __init__(self) -> None:
        self.fake = FakeRuntime("local")
        self.runtime: Runtime = self.fake
        self.deployment_id = "local"

    async def print_lines(self, key: PodKey, *lines: str) -> None:
        self.fake.write_logs(key, "".join(f"{line}\n" for line in lines))

    async def make_exit(self, key: PodKey, code: int) -> None:
        self.fake.exit(key, code)

    def plant_foreign(self, key: PodKey) -> None:
        self.fake.add_foreign(key)

    def missing_image(self) -> str:
        self.fake.missing_images.add("pods-no-such-image:never")
        return "pods-no-such-image:never"

    def read_file(self, key: PodKey, path: str) -> bytes:
        return self.fake.files(key)[path]


class DockerDriver:
    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.deployment_id = f"c{secrets.token_hex(4)}"
        self.docker_runtime = DockerRuntime(self.deployment_id)
        self.runtime: Runtime = self.docker_runtime
        self.foreign: list[str] = []

    def _container(self, key: PodKey) -> docker.models.containers.Container:
        return self.client.containers.get(container_name(self.deployment_id, key))

    async def print_lines(self, key: PodKey, *lines: str) -> None:
        # PID 1 is docker-init: what it writes is the container's log.
        script = "; ".join(f"echo {line} > /proc/1/fd/1" for line in lines)
        code, output = self._container(key).exec_run(["/bin/busybox", "sh", "-c", script])
        assert code == 0, output

    async def make_exit(self, key: PodKey, code: int) -> None:
        done, output = self._container(key).exec_run(
            ["/bin/busybox", "sh", "-c", f"echo {code} > /tmp/exit"]
        )
        assert done == 0, output
        await until(lambda: self.runtime.inspect(key), lambda s: s.phase is Phase.EXITED)

    def plant_foreign(self, key: PodKey) -> None:
        name = container_name(self.deployment_id, key)
        self.foreign.append(name)
        self.client.containers.create(IMAGE, name=name)

    def missing_image(self) -> str:
        return "pods-no-such-image:never"

    def read_file(self, key: PodKey, path: str) -> bytes:
        code, output = self._container(key).exec_run(["/bin/busybox", "cat", path])
        assert code == 0, output
        return bytes(output)

    def close(self) -> None:
        self.docker_runtime.close()
        label = f"{LABEL_DEPLOYMENT}={self.deployment_id}"
        names = [c["Id"] for c in self.client.api.containers(all=True, filters={"label": label})]
        for name in [*names, *self.foreign]:
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_container(name, v=True, force=True)
        for network in self.client.api.networks(filters={"label": label}):  # the pods' bridge
            with contextlib.suppress(docker.errors.NotFound):
                self.client.api.remove_network(network["Id"])


@pytest.fixture(params=["fake", pytest.param("docker", marks=pytest.mark.docker)])
def driver(request: pytest.FixtureRequest) -> Driver:
    if request.param == "fake":
        return FakeDriver()
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(IMAGE)
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine or no {IMAGE}: {exc}")
    real = DockerDriver(client)
    request.addfinalizer(client.close)
    request.addfinalizer(real.close)
    return real


async def until(
    read: Callable[[], Awaitable[ContainerState | None]], done: Callable[[ContainerState], bool]
) -> ContainerState:
    """Polls `read` (an async inspect) until `done` holds for its state."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            state = await read()
            if state is not None and done(state):
                return state
            await asyncio.sleep(0.1)


async def read_logs_until(
    runtime: Runtime, cursor: str, done: Callable[[str], bool], limit: int = 10_000
) -> LogChunk:
    """Reads from `cursor` until the text read satisfies `done` (Docker writes its log a
    moment after the container does)."""
    async with asyncio.timeout(DEADLINE_S):
        while True:
            chunk = await runtime.logs_since(KEY, cursor, limit)
            if done(chunk.text):
                return chunk
            await asyncio.sleep(0.1)


# --- ensure ---------------------------------------------------------------------------------


async def test_ensure_creates_a_running_container_publishing_its_non_local_ports(
    driver: Driver,
) -> None:
    result = await driver.runtime.ensure(spec())
    state = result.state
    assert (result.action, state.phase) == ("created", Phase.RUNNING)
    assert state.key == KEY
    assert state.name == container_name(driver.deployment_id, KEY)
    assert state.spec_hash == with_hash(spec()).spec_hash
    assert state.started_at is not None and state.started_at.tzinfo is not None
    assert state.exit_code is None and state.error == ""
    assert list(state.published) == [5000]
    assert state.published[5000] > 0
    assert await driver.runtime.inspect(KEY) == state


async def test_a_second_ensure_adopts_the_same_container(driver: Driver) -> None:
    first = await driver.runtime.ensure(spec())
    second = await driver.runtime.ensure(spec())
    assert second.action == "adopted"
    assert second.state == first.state
    assert [s.key for s in await driver.runtime.list_managed()] == [KEY]


async def test_a_changed_spec_replaces_the_container(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    changed = spec(environment={"GREETING": "hi"})
    result = await driver.runtime.ensure(changed)
    assert (result.action, result.state.phase) == ("replaced", Phase.RUNNING)
    assert result.state.spec_hash == with_hash(changed).spec_hash != with_hash(spec()).spec_hash
    assert [s.spec_hash for s in await driver.runtime.list_managed()] == [result.state.spec_hash]


async def test_an_exited_container_is_reported_and_adopted_not_restarted(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    await driver.make_exit(KEY, 3)
    state = await driver.runtime.inspect(KEY)
    assert state is not None
    assert (state.phase, state.exit_code, state.published) == (Phase.EXITED, 3, {})
    assert state.finished_at is not None
    again = await driver.runtime.ensure(spec())
    assert (again.action, again.state.phase, again.state.exit_code) == ("adopted", Phase.EXITED, 3)


async def test_a_foreign_container_holding_the_name_is_left_alone(driver: Driver) -> None:
    driver.plant_foreign(KEY)
    with pytest.raises(PermanentError, match="did not create"):
        await driver.runtime.ensure(spec())
    assert await driver.runtime.inspect(KEY) is None
    assert await driver.runtime.remove(KEY) is False
    assert await driver.runtime.list_managed() == []


async def test_a_missing_image_is_permanent_and_leaves_nothing(driver: Driver) -> None:
    with pytest.raises(PermanentError, match="is not available"):
        await driver.runtime.ensure(spec(image=driver.missing_image()))
    assert await driver.runtime.inspect(KEY) is None


async def test_an_invalid_key_is_permanent(driver: Driver) -> None:
    with pytest.raises(PermanentError, match="pod id"):
        await driver.runtime.ensure(spec(key=PodKey("dev", "Bad-Id")))


# --- remove and list ------------------------------------------------------------------------


async def test_remove_twice(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    assert await driver.runtime.remove(KEY) is True
    assert await driver.runtime.remove(KEY) is False
    assert await driver.runtime.inspect(KEY) is None
    assert await driver.runtime.list_managed() == []


async def test_list_managed_holds_every_container_ordered_by_key(driver: Driver) -> None:
    await driver.runtime.ensure(spec(OTHER))
    await driver.runtime.ensure(spec(KEY))
    await driver.make_exit(OTHER, 0)
    states = await driver.runtime.list_managed()
    assert [(s.key, s.phase) for s in states] == [(KEY, Phase.RUNNING), (OTHER, Phase.EXITED)]


# --- logs -----------------------------------------------------------------------------------


async def test_logs_since_reads_only_what_is_new(driver: Driver) -> None:
    runtime = driver.runtime
    assert await runtime.logs_since(KEY, "", 100) == LogChunk(text="", cursor="")  # no container
    await runtime.ensure(spec())
    assert (await runtime.logs_since(KEY, "", 100)).text == ""
    await driver.print_lines(KEY, "one", "two")
    first = await read_logs_until(runtime, "", lambda text: "two" in text)
    assert first.text == "one\ntwo\n"
    assert first.cursor
    nothing = await runtime.logs_since(KEY, first.cursor, 100)
    assert nothing == LogChunk(text="", cursor=first.cursor)
    await driver.print_lines(KEY, "three")
    second = await read_logs_until(runtime, first.cursor, lambda text: "three" in text)
    assert second.text == "three\n"


async def test_logs_since_keeps_the_last_whole_lines_within_the_limit(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    await driver.print_lines(KEY, *(f"line{i}" for i in range(10)))
    await read_logs_until(driver.runtime, "", lambda text: "line9" in text)
    chunk = await driver.runtime.logs_since(KEY, "", 14)
    assert chunk.text == "line8\nline9\n"
    assert (await driver.runtime.logs_since(KEY, chunk.cursor, 14)).text == ""


# --- exec -----------------------------------------------------------------------------------


async def test_exec_returns_the_output_of_a_command(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    done = await driver.runtime.exec(KEY, ["echo", "hello", "world"], 10, 1000)
    assert done.exit_code == 0
    assert (done.stdout, done.stderr, done.timed_out) == ("hello world\n", "", False)


async def test_exec_keeps_the_last_limit_bytes_of_the_output(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    done = await driver.runtime.exec(KEY, ["echo", "abcdef"], 10, 3)
    assert (done.exit_code, done.stdout) == (0, "ef\n")


async def test_exec_needs_a_running_container(driver: Driver) -> None:
    with pytest.raises(PermanentError, match="has no running container"):
        await driver.runtime.exec(KEY, ["echo", "x"], 10, 100)
    await driver.runtime.ensure(spec())
    await driver.make_exit(KEY, 0)
    with pytest.raises(PermanentError, match="has no running container"):
        await driver.runtime.exec(KEY, ["echo", "x"], 10, 100)


# --- copy_into ------------------------------------------------------------------------------


async def test_copy_into_writes_and_replaces_a_file(driver: Driver) -> None:
    await driver.runtime.ensure(spec())
    content = bytes(range(256)) * 100
    await driver.runtime.copy_into(KEY, "/tmp/copied.bin", content)
    assert driver.read_file(KEY, "/tmp/copied.bin") == content
    await driver.runtime.copy_into(KEY, "/tmp/copied.bin", b"")
    assert driver.read_file(KEY, "/tmp/copied.bin") == b""


async def test_copy_into_needs_a_running_container(driver: Driver) -> None:
    with pytest.raises(PermanentError, match="has no running container"):
        await driver.runtime.copy_into(KEY, "/tmp/x", b"x")
    await driver.runtime.ensure(spec())
    await driver.make_exit(KEY, 0)
    with pytest.raises(PermanentError, match="has no running container"):
        await driver.runtime.copy_into(KEY, "/tmp/x", b"x")


# --- watch ----------------------------------------------------------------------------------


async def test_watch_reports_start_and_die_in_order(driver: Driver) -> None:
    """The events that change what an inspect reports; not the create, which the start
    follows (a container left created is found by health's resync)."""
    seen: list[RuntimeEvent] = []

    async def consume() -> None:
        async for event in driver.runtime.watch():
            seen.append(event)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.5)  # Docker: the subscription starts when watch() runs
    await driver.runtime.ensure(spec())
    await driver.make_exit(KEY, 0)
    async with asyncio.timeout(DEADLINE_S):
        while RuntimeEvent(KEY, "die") not in seen:
            await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e.action for e in seen][:2] == ["start", "die"]
    assert "create" not in [e.action for e in seen]
    assert {e.key for e in seen} == {KEY}
