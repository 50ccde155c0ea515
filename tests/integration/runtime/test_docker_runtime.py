"""DockerRuntime against the real Docker engine: ensure, ownership, state, logs, events."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import urllib.request
from collections.abc import Callable

import docker
import docker.errors
import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.naming import container_name, labels_for, with_hash
from services.common.runtime.types import (
    LABEL_DEPLOYMENT,
    ContainerSpec,
    ContainerState,
    LogChunk,
    Phase,
    PodKey,
    PortSpec,
    RuntimeEvent,
)
from services.spawner.platforms.docker.network import create_network_kwargs
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.docker.translate import stamp_nanos

from .conftest import remove_deployment

pytestmark = pytest.mark.docker

KEY = PodKey("dev", "web1")
WEB = PortSpec(name="web", port=5000, protocol="http")


def shell(image: str, script: str, key: PodKey = KEY) -> ContainerSpec:
    """A spec running `script` with busybox sh."""
    return ContainerSpec(
        key=key,
        image=image,
        command=("/bin/busybox",),
        arguments=("sh", "-c", script),
        cpu_limit_millis=250,
        mem_limit_mib=64,
    )


def counted_inspects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The containers the SDK inspects from now on (by name or id), in order."""
    inspected: list[str] = []
    inspect = docker.APIClient.inspect_container

    def counting(api: docker.APIClient, container: str) -> object:
        inspected.append(container)
        return inspect(api, container)

    monkeypatch.setattr(docker.APIClient, "inspect_container", counting)
    return inspected


def web(image: str, key: PodKey = KEY) -> ContainerSpec:
    return ContainerSpec(
        key=key,
        image=image,
        ports=(WEB, PortSpec(name="side", port=6000, protocol="local_only")),
        cpu_limit_millis=250,
        mem_limit_mib=64,
    )


def our_containers(client: docker.DockerClient, deployment_id: str) -> list[str]:
    label = f"{LABEL_DEPLOYMENT}={deployment_id}"
    return [c["Id"] for c in client.api.containers(all=True, filters={"label": label})]


async def wait_for(
    runtime: DockerRuntime, key: PodKey, done: Callable[[ContainerState], bool]
) -> ContainerState:
    async with asyncio.timeout(20):
        while True:
            state = await runtime.inspect(key)
            if state is not None and done(state):
                return state
            await asyncio.sleep(0.1)


def http_get(port: int) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
        body: bytes = response.read()
        return body


async def get_when_ready(port: int) -> bytes:
    """docker-proxy accepts connections before httpd listens: retry until it answers."""
    async with asyncio.timeout(20):
        while True:
            try:
                return await asyncio.to_thread(http_get, port)
            except OSError:
                await asyncio.sleep(0.2)


class TestEnsure:
    async def test_creates_a_running_container_serving_on_a_loopback_port(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        result = await runtime.ensure(web(test_image))
        state = result.state
        assert (result.action, state.phase) == ("created", Phase.RUNNING)
        assert state.name == container_name(runtime.deployment_id, KEY)
        assert state.spec_hash == with_hash(web(test_image)).spec_hash
        assert state.started_at is not None and state.started_at.tzinfo is not None
        assert list(state.published) == [5000]  # local_only is not published
        assert await get_when_ready(state.published[5000])
        host_config = docker_client.api.inspect_container(state.name)["HostConfig"]
        assert host_config["PortBindings"] == {
            "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]
        }
        assert host_config["Init"] is True
        assert host_config["NanoCpus"] == 250_000_000
        assert host_config["Memory"] == 64 * 1024 * 1024

    async def test_second_ensure_adopts_the_same_container(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        first = await runtime.ensure(web(test_image))
        second = await runtime.ensure(web(test_image))
        assert second.action == "adopted"
        assert second.state.started_at == first.state.started_at
        assert len(our_containers(docker_client, runtime.deployment_id)) == 1

    async def test_a_first_ensure_creates_without_looking_up_the_name(
        self,
        runtime: DockerRuntime,
        test_image: str,
        docker_client: docker.DockerClient,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """One engine call fewer per create: the name is looked up only when the create
        finds it taken (then the container is adopted, as before)."""
        name = container_name(runtime.deployment_id, KEY)
        inspected = counted_inspects(monkeypatch)
        first = await runtime.ensure(web(test_image))
        assert first.action == "created"
        assert name not in inspected and len(inspected) == 1  # the state after the start
        inspected.clear()
        second = await runtime.ensure(web(test_image))
        assert (second.action, second.state.started_at) == ("adopted", first.state.started_at)
        assert inspected == [name]
        assert len(our_containers(docker_client, runtime.deployment_id)) == 1

    async def test_the_run_a_container_was_made_to_start_is_labelled_and_kept_on_adopt(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        first = await runtime.ensure(dataclasses.replace(web(test_image), run=2))
        labels = docker_client.api.inspect_container(first.state.name)["Config"]["Labels"]
        assert labels["org.pods-service.run"] == "2" and first.state.run == 2
        adopted = await runtime.ensure(dataclasses.replace(web(test_image), run=3))
        assert (adopted.action, adopted.state.run) == ("adopted", 2)
        inspected = await runtime.inspect(KEY)
        assert inspected is not None and inspected.run == 2

    async def test_concurrent_ensures_end_with_one_container(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        # The losers get 409 on create and, for a moment, 404 on inspect: they must adopt.
        others = [DockerRuntime(runtime.deployment_id) for _ in range(2)]
        try:
            results = await asyncio.gather(*(r.ensure(web(test_image)) for r in (runtime, *others)))
        finally:
            for other in others:
                other.close()
        actions = [r.action for r in results]
        assert actions.count("created") == 1
        assert set(actions) <= {"created", "adopted", "started"}
        assert {r.state.phase for r in results} == {Phase.RUNNING}
        assert len(our_containers(docker_client, runtime.deployment_id)) == 1

    async def test_created_but_never_started_is_started(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        spec = with_hash(web(test_image))
        network = docker_client.api.create_network(
            **create_network_kwargs(runtime.deployment_id, KEY)
        )
        docker_client.containers.create(
            test_image,
            name=container_name(runtime.deployment_id, KEY),
            labels=labels_for(runtime.deployment_id, KEY, spec.spec_hash),
            network=network["Id"],
        )
        result = await runtime.ensure(spec)
        assert (result.action, result.state.phase) == ("started", Phase.RUNNING)

    async def test_changed_spec_replaces_the_container(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        await runtime.ensure(web(test_image))
        before = our_containers(docker_client, runtime.deployment_id)
        changed = dataclasses.replace(web(test_image), environment={"GREETING": "hi"})
        result = await runtime.ensure(changed)
        assert (result.action, result.state.phase) == ("replaced", Phase.RUNNING)
        assert result.state.spec_hash == with_hash(changed).spec_hash
        after = our_containers(docker_client, runtime.deployment_id)
        assert len(after) == 1 and after != before

    async def test_exited_container_is_reported_and_not_restarted(
        self, runtime: DockerRuntime, test_image: str
    ) -> None:
        spec = shell(test_image, "exit 3")
        await runtime.ensure(spec)
        state = await wait_for(runtime, KEY, lambda s: s.phase is Phase.EXITED)
        assert state.exit_code == 3
        # Both are set; for a quick exit Docker may stamp FinishedAt before StartedAt.
        assert state.finished_at is not None and state.started_at is not None
        assert state.published == {}
        again = await runtime.ensure(spec)
        assert (again.action, again.state.phase) == ("adopted", Phase.EXITED)

    async def test_foreign_container_with_our_name_is_left_alone(
        self,
        runtime: DockerRuntime,
        test_image: str,
        docker_client: docker.DockerClient,
        foreign_names: list[str],
    ) -> None:
        name = container_name(runtime.deployment_id, KEY)
        foreign_names.append(name)
        foreign = docker_client.containers.create(test_image, name=name)
        with pytest.raises(PermanentError, match="left untouched"):
            await runtime.ensure(web(test_image))
        assert await runtime.inspect(KEY) is None
        assert await runtime.remove(KEY) is False
        still = docker_client.api.inspect_container(name)
        assert (still["Id"], still["State"]["Status"]) == (foreign.id, "created")

    async def test_missing_image_is_permanent(self, runtime: DockerRuntime) -> None:
        spec = ContainerSpec(key=KEY, image="pods-no-such-image:never")
        with pytest.raises(PermanentError, match="'pods-no-such-image:never' is not available"):
            await runtime.ensure(spec)
        assert await runtime.inspect(KEY) is None

    async def test_unstartable_command_is_permanent(
        self, runtime: DockerRuntime, test_image: str
    ) -> None:
        # With init=True the engine starts docker-init, which then fails to exec: exit 127.
        spec = dataclasses.replace(shell(test_image, ""), command=("/no/such/program",))
        await runtime.ensure(spec)
        state = await wait_for(runtime, KEY, lambda s: s.phase is Phase.EXITED)
        assert state.exit_code == 127


class TestRemoveAndList:
    async def test_remove_twice(self, runtime: DockerRuntime, test_image: str) -> None:
        await runtime.ensure(web(test_image))
        assert await runtime.remove(KEY) is True
        assert await runtime.remove(KEY) is False
        assert await runtime.inspect(KEY) is None

    async def test_list_managed_sees_only_this_deployment(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        other = DockerRuntime(f"{runtime.deployment_id}x", client=docker_client)
        try:
            await runtime.ensure(shell(test_image, "sleep 600", PodKey("dev", "b")))
            await runtime.ensure(shell(test_image, "exit 0", PodKey("dev", "a")))
            await other.ensure(shell(test_image, "sleep 600", PodKey("dev", "c")))
            states = await runtime.list_managed()
            assert [s.key for s in states] == [PodKey("dev", "a"), PodKey("dev", "b")]
        finally:
            remove_deployment(docker_client, other.deployment_id)


class TestLogs:
    async def test_reads_only_new_lines(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        script = "echo one; echo two >&2; echo three; exec sleep 600"
        await runtime.ensure(shell(test_image, script))
        first = await self.read_until(runtime, "", lambda text: text.count("\n") == 3)
        assert sorted(first.text.splitlines()) == ["one", "three", "two"]
        nothing = await runtime.logs_since(KEY, first.cursor, 10_000)
        assert (nothing.text, nothing.cursor) == ("", first.cursor)
        self.write_to_log(docker_client, runtime, "four", "five")
        second = await self.read_until(runtime, first.cursor, lambda text: "five" in text)
        assert second.text == "four\nfive\n"
        assert stamp_nanos(second.cursor) > stamp_nanos(first.cursor)  # type: ignore[operator]

    async def test_consecutive_reads_neither_skip_nor_repeat(
        self, runtime: DockerRuntime, test_image: str
    ) -> None:
        script = "i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo line$i; done; exec sleep 600"
        await runtime.ensure(shell(test_image, script))
        seen: list[str] = []
        cursor = ""
        async with asyncio.timeout(20):
            while len(seen) < 300:
                chunk = await runtime.logs_since(KEY, cursor, 1_000_000)
                seen.extend(chunk.text.splitlines())
                cursor = chunk.cursor
        assert seen == [f"line{i}" for i in range(1, 301)]

    async def test_limit_keeps_the_last_whole_lines(
        self, runtime: DockerRuntime, test_image: str
    ) -> None:
        script = "i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo line$i; done"
        await runtime.ensure(shell(test_image, script))
        await wait_for(runtime, KEY, lambda s: s.phase is Phase.EXITED)
        chunk = await runtime.logs_since(KEY, "", 30)
        assert chunk.text == "line97\nline98\nline99\nline100\n"
        rest = await runtime.logs_since(KEY, chunk.cursor, 30)
        assert (rest.text, rest.cursor) == ("", chunk.cursor)

    async def test_a_read_inspects_the_container_once(
        self, runtime: DockerRuntime, test_image: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The lookup that checks the container is the pod's also says it has no TTY: the
        read asks the engine nothing more (the SDK's own logs call inspects it again)."""
        await runtime.ensure(shell(test_image, "echo one; echo two >&2; exec sleep 600"))
        await self.read_until(runtime, "", lambda text: text.count("\n") == 2)
        inspected = counted_inspects(monkeypatch)
        chunk = await runtime.logs_since(KEY, "", 10_000)
        assert sorted(chunk.text.splitlines()) == ["one", "two"]
        assert inspected == [container_name(runtime.deployment_id, KEY)]

    async def test_absent_container_has_no_output(self, runtime: DockerRuntime) -> None:
        chunk = await runtime.logs_since(KEY, "", 100)
        assert (chunk.text, chunk.cursor) == ("", "")

    @staticmethod
    def write_to_log(client: docker.DockerClient, runtime: DockerRuntime, *lines: str) -> None:
        """Appends lines to the container's log: writes to the stdout of PID 1 (docker-init)."""
        name = container_name(runtime.deployment_id, KEY)
        script = "; ".join(f"echo {line} > /proc/1/fd/1" for line in lines)
        exit_code, output = client.containers.get(name).exec_run(
            ["/bin/busybox", "sh", "-c", script]
        )
        assert exit_code == 0, output

    @staticmethod
    async def read_until(
        runtime: DockerRuntime, cursor: str, done: Callable[[str], bool]
    ) -> LogChunk:
        async with asyncio.timeout(20):
            while True:
                chunk = await runtime.logs_since(KEY, cursor, 10_000)
                if done(chunk.text):
                    return chunk
                await asyncio.sleep(0.1)


class TestWatch:
    async def test_yields_start_and_die_for_ours_only_and_ends_on_cancel(
        self,
        runtime: DockerRuntime,
        test_image: str,
        docker_client: docker.DockerClient,
        foreign_names: list[str],
    ) -> None:
        seen: list[RuntimeEvent] = []
        threads_before = set(threading.enumerate())

        async def consume() -> None:
            async for event in runtime.watch():
                seen.append(event)

        task = asyncio.create_task(consume())
        stranger = f"pods-stranger-{runtime.deployment_id}"
        foreign_names.append(stranger)
        docker_client.containers.run(
            test_image,
            ["sh", "-c", "exit 0"],
            entrypoint=["/bin/busybox"],
            name=stranger,
            detach=True,
        )
        await runtime.ensure(shell(test_image, "sleep 0.2; exit 4"))
        async with asyncio.timeout(20):
            while RuntimeEvent(KEY, "die") not in seen:
                await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        actions = [event.action for event in seen]
        assert actions[:2] == ["start", "die"]  # not "create": the start tells more
        assert "create" not in actions
        assert {event.key for event in seen} == {KEY}
        await self.assert_threads_end(threads_before)

    @staticmethod
    async def assert_threads_end(before: set[threading.Thread]) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            extra = [
                t for t in threading.enumerate() if t not in before and t.name == "docker-events"
            ]
            if not extra:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the event thread kept running after cancellation")


async def test_exec_returns_output_and_exit_code_and_kills_on_timeout(
    runtime: DockerRuntime, test_image: str
) -> None:
    spec = shell(test_image, "sleep 3600")
    await runtime.ensure(spec)
    bb = "/bin/busybox"
    done = await runtime.exec(KEY, [bb, "sh", "-c", "echo out; echo err >&2; exit 3"], 10, 1000)
    assert (done.exit_code, done.stdout, done.stderr, done.timed_out) == (
        3,
        "out\n",
        "err\n",
        False,
    )
    started = time.monotonic()
    slow = await runtime.exec(KEY, [bb, "sleep", "30"], 0.5, 1000)
    assert slow.timed_out and slow.exit_code is None
    assert time.monotonic() - started < 10
    capped = await runtime.exec(KEY, [bb, "sh", "-c", "yes | head -c 5000"], 10, 100)
    assert len(capped.stdout) == 100
