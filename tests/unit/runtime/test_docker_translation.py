"""DockerRuntime's pure translations and its error/stream handling, without a Docker engine.

The engine itself is exercised in tests/integration/runtime; here the SDK is replaced at our
own wrapper level (a stub client) where a behaviour cannot be provoked on a shared engine.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import labels_for, with_hash
from services.common.runtime.types import (
    ContainerSpec,
    MountSpec,
    Phase,
    PodKey,
    PortSpec,
    RuntimeEvent,
    StorageKind,
)
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.docker.translate import (
    WATCHED_ACTIONS,
    create_kwargs,
    event_from_raw,
    lines_after,
    parse_docker_time,
    stamp_nanos,
    state_from_attrs,
)

KEY = PodKey("dev", "web1")
SPEC = with_hash(
    ContainerSpec(
        key=KEY,
        image="pods-http:latest",
        command=("/bin/busybox",),
        arguments=("httpd", "-f"),
        environment={"A": "1"},
        ports=(
            PortSpec(name="web", port=5000, protocol="http"),
            PortSpec(name="db", port=5432, protocol="postgres"),
            PortSpec(name="side", port=6000, protocol="local_only"),
        ),
        cpu_limit_millis=500,
        mem_limit_mib=256,
    )
)


def test_create_kwargs() -> None:
    assert create_kwargs("local", SPEC) == {
        "image": "pods-http:latest",
        "name": "pods-local-dev-web1",
        "labels": labels_for("local", KEY, SPEC.spec_hash),
        "entrypoint": ["/bin/busybox"],
        "command": ["httpd", "-f"],
        "environment": {"A": "1"},
        "ports": {"5000/tcp": ("127.0.0.1", None), "5432/tcp": ("127.0.0.1", None)},
        "network": "pods-local-dev-web1",  # the pod's own network
        "init": True,
        "nano_cpus": 500_000_000,
        "mem_limit": 256 * 1024 * 1024,
        "pids_limit": 1024,
        "ulimits": [{"Name": "nofile", "Soft": 8192, "Hard": 8192}],
        "restart_policy": {"Name": "no"},
        "privileged": False,
        "security_opt": ["no-new-privileges:true"],
        "cap_drop": ["ALL"],
        "cap_add": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID"],
        "read_only": False,
        "tmpfs": {},
        "mounts": [],
        "log_config": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}},
    }


def test_create_kwargs_of_a_read_only_root_and_another_pids_limit() -> None:
    spec = ContainerSpec(key=KEY, image="x", read_only_root=True)
    kwargs = create_kwargs("local", spec, pids_limit=64)
    assert (kwargs["read_only"], kwargs["pids_limit"]) == (True, 64)
    options = "rw,nosuid,nodev,size=64m,mode=1777"
    assert kwargs["tmpfs"] == {"/tmp": options, "/run": options}


def test_create_kwargs_mounts_volumes_and_read_only_snapshots() -> None:
    mounts = (
        MountSpec(StorageKind.VOLUME, "pods-local-vol-dev-data", "/data", read_only=False),
        MountSpec(StorageKind.SNAPSHOT, "pods-local-snap-dev-s1", "/snap", read_only=True),
    )
    kwargs = create_kwargs("local", ContainerSpec(key=KEY, image="x", mounts=mounts))
    assert kwargs["mounts"] == [
        {
            "Type": "volume",
            "Source": "pods-local-vol-dev-data",
            "Target": "/data",
            "ReadOnly": False,
            "VolumeOptions": {"NoCopy": True},
        },
        {
            "Type": "volume",
            "Source": "pods-local-snap-dev-s1",
            "Target": "/snap",
            "ReadOnly": True,
            "VolumeOptions": {"NoCopy": True},
        },
    ]


def test_create_kwargs_leaves_image_entrypoint_and_cmd_alone_when_not_given() -> None:
    kwargs = create_kwargs("local", ContainerSpec(key=KEY, image="x"))
    assert kwargs["entrypoint"] is None
    assert kwargs["command"] is None
    assert kwargs["ports"] == {}


class TestStateFromAttrs:
    def attrs(self, **state: Any) -> dict[str, Any]:
        return {
            "Id": "abc",
            "Name": "/pods-local-dev-web1",
            "Config": {"Labels": labels_for("local", KEY, "h1")},
            "State": {
                "Status": "running",
                "ExitCode": 0,
                "Error": "",
                "OOMKilled": False,
                "StartedAt": "2026-11-28T05:52:15.944577112Z",
                "FinishedAt": "0001-01-01T00:00:00Z",
                **state,
            },
            "NetworkSettings": {
                "Ports": {
                    "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}],
                    "5001/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32769"}],
                    "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "32770"}],
                    "6000/tcp": None,
                }
            },
        }

    def test_running(self) -> None:
        state = state_from_attrs(KEY, self.attrs())
        assert state.name == "pods-local-dev-web1"
        assert state.phase is Phase.RUNNING
        assert state.spec_hash == "h1"
        assert state.exit_code is None
        assert state.started_at == datetime(2026, 11, 28, 5, 52, 15, 944577, tzinfo=UTC)
        assert state.finished_at is None
        assert state.published == {5000: 32768}
        assert state.run == 0  # not labelled with a run

    def test_reads_the_run_the_container_was_made_to_start(self) -> None:
        attrs = self.attrs()
        attrs["Config"]["Labels"] = labels_for("local", KEY, "h1", run=4)
        assert state_from_attrs(KEY, attrs).run == 4

    def test_exited_out_of_memory(self) -> None:
        state = state_from_attrs(
            KEY,
            self.attrs(
                Status="exited",
                ExitCode=137,
                OOMKilled=True,
                FinishedAt="2026-11-28T05:53:00Z",
            ),
        )
        assert (state.phase, state.exit_code, state.error) == (Phase.EXITED, 137, "out of memory")
        assert state.finished_at == datetime(2026, 11, 28, 5, 53, tzinfo=UTC)

    def test_failed_start_keeps_the_engine_error(self) -> None:
        state = state_from_attrs(
            KEY,
            self.attrs(Status="created", ExitCode=127, Error="exec: not found", StartedAt=""),
        )
        assert (state.phase, state.exit_code, state.error) == (
            Phase.CREATED,
            127,
            "exec: not found",
        )
        assert state.started_at is None

    def test_unknown_status_is_dead(self) -> None:
        assert state_from_attrs(KEY, self.attrs(Status="weird")).phase is Phase.DEAD


def test_parse_docker_time() -> None:
    assert parse_docker_time("0001-01-01T00:00:00Z") is None
    assert parse_docker_time("") is None
    assert parse_docker_time("2026-01-02T03:04:05.5Z") == datetime(
        2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC
    )


class TestLogCursor:
    def test_stamp_nanos_keeps_nanoseconds(self) -> None:
        assert stamp_nanos("1970-01-01T00:00:01.000000002Z") == 1_000_000_002
        assert stamp_nanos("1970-01-01T00:00:01.5Z") == 1_500_000_000
        assert stamp_nanos("1970-01-01T00:00:01Z") == 1_000_000_000
        assert stamp_nanos("hello") is None

    def test_lines_after_drops_the_boundary_and_strips_stamps(self) -> None:
        output = (
            "1970-01-01T00:00:01.000000001Z old\n"
            "1970-01-01T00:00:01.000000002Z boundary\n"
            "1970-01-01T00:00:01.000000003Z new one\n"
            "1970-01-01T00:00:01.0000001Z new two\n"
        )
        assert lines_after(output, 1_000_000_002) == (
            "new one\nnew two\n",
            "1970-01-01T00:00:01.0000001Z",
        )

    def test_cursor_is_the_newest_stamp_not_the_last_line(self) -> None:
        # Docker's order is not time order across stdout and stderr.
        output = "1970-01-01T00:00:02Z out\n1970-01-01T00:00:01.5Z err\n"
        assert lines_after(output, None) == ("out\nerr\n", "1970-01-01T00:00:02Z")

    def test_nothing_new_gives_no_cursor(self) -> None:
        assert lines_after("1970-01-01T00:00:01Z x\n", 1_000_000_000) == ("", "")
        assert lines_after("", None) == ("", "")

    def test_keeps_a_last_line_without_newline(self) -> None:
        assert lines_after("1970-01-01T00:00:01Z partial", None)[0] == "partial"

    async def test_a_foreign_cursor_is_permanent(self) -> None:
        runtime = DockerRuntime("local", client=_StubClient())
        with pytest.raises(PermanentError):
            await runtime.logs_since(KEY, "17", 100)


def test_event_from_raw() -> None:
    attributes = {**labels_for("local", KEY, "h"), "name": "pods-local-dev-web1"}
    raw = {"Type": "container", "Action": "die", "Actor": {"Attributes": attributes}}
    assert event_from_raw("local", raw) == RuntimeEvent(KEY, "die")
    health = {**raw, "Action": "health_status: healthy"}
    assert event_from_raw("local", health) == RuntimeEvent(KEY, "health_status")
    assert event_from_raw("local", {**raw, "Action": "exec_start: sh"}) is None
    for redundant in ("create", "kill", "stop"):  # each is followed by one that tells more
        assert event_from_raw("local", {**raw, "Action": redundant}) is None
    assert event_from_raw("other", raw) is None
    assert event_from_raw("local", {**raw, "Type": "network"}) is None


async def test_unreachable_engine_is_temporary(tmp_path: Any) -> None:
    runtime = DockerRuntime("local", base_url=f"unix://{tmp_path}/no-such.sock")
    with pytest.raises(TemporaryError):
        await runtime.inspect(KEY)


async def test_invalid_key_is_permanent() -> None:
    runtime = DockerRuntime("local", client=_StubClient())
    with pytest.raises(PermanentError):
        await runtime.ensure(ContainerSpec(key=PodKey("dev", "Bad_Id"), image="x"))


class _StubStream:
    """Stands in for the SDK's CancellableStream: blocking iteration, close from any thread."""

    _END = object()

    def __init__(self) -> None:
        self.items: queue.Queue[object] = queue.Queue()
        self.closed = threading.Event()

    def __iter__(self) -> _StubStream:
        return self

    def __next__(self) -> object:
        item = self.items.get()
        if item is self._END:
            raise StopIteration
        return item

    def end(self) -> None:
        self.items.put(self._END)

    def close(self) -> None:
        self.closed.set()
        self.end()


class _StubClient:
    def __init__(self) -> None:
        self.stream = _StubStream()
        self.filters: dict[str, Any] = {}

    def events(self, since: str, decode: bool, filters: dict[str, Any]) -> _StubStream:
        self.filters = filters
        return self.stream


def _raw(action: str, deployment: str = "local") -> dict[str, Any]:
    attributes = labels_for(deployment, KEY, "h")
    return {"Type": "container", "Action": action, "Actor": {"Attributes": attributes}}


class TestWatchStream:
    async def test_yields_our_events_and_closes_the_stream_on_cancel(self) -> None:
        client = _StubClient()
        runtime = DockerRuntime("local", client=client)
        seen: list[RuntimeEvent] = []

        async def consume() -> None:
            async for event in runtime.watch():
                seen.append(event)

        task = asyncio.create_task(consume())
        for raw in (_raw("start"), _raw("start", "other"), _raw("exec_create: x"), _raw("die")):
            client.stream.items.put(raw)
        async with asyncio.timeout(5):
            while len(seen) < 2:
                await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert seen == [RuntimeEvent(KEY, "start"), RuntimeEvent(KEY, "die")]
        assert client.stream.closed.is_set()
        assert client.filters == {
            "type": "container",
            "label": "org.pods-service.deployment=local",
            "event": sorted(WATCHED_ACTIONS),  # the engine sends nothing else
        }
        assert "create" not in client.filters["event"]

    async def test_engine_ending_the_stream_is_temporary(self) -> None:
        client = _StubClient()
        runtime = DockerRuntime("local", client=client)
        client.stream.items.put(_raw("start"))
        client.stream.end()
        events = runtime.watch()
        assert await anext(events) == RuntimeEvent(KEY, "start")
        with pytest.raises(TemporaryError, match="event stream ended"):
            await anext(events)


def test_create_kwargs_never_bind_a_host_path() -> None:
    # Only named volumes, as Docker mounts of type "volume": never a bind, never the socket.
    mounts = tuple(
        MountSpec(kind, f"pods-local-{kind.value}-dev-x", f"/m{n}", n % 2 == 0)
        for n, kind in enumerate(StorageKind)
    )
    kwargs = create_kwargs("local", ContainerSpec(key=KEY, image="x", mounts=mounts))
    assert {m["Type"] for m in kwargs["mounts"]} == {"volume"}
    assert not {"volumes", "binds", "volumes_from", "devices"} & set(kwargs)
    assert (kwargs["privileged"], kwargs["cap_drop"]) == (False, ["ALL"])
    assert "docker.sock" not in repr(kwargs)
