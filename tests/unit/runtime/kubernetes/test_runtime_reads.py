"""KubernetesRuntime against FakeKubeApi, the in-memory double of our KubeApi wrapper: the
reads (inspect, list_managed), logs after a cursor, exec in the running container, and files
copied into it (`tar -x` there, its failures saying why)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import tarfile
import threading
from typing import Any

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import with_hash
from services.common.runtime.types import ExecResult, LogChunk, Phase, PodKey
from services.spawner.platforms.kubernetes.api import ExecBytes, KubeError
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

from .fake_api import FakeKubeApi
from .runtime_support import CONFIG, KEY, NAME, SPEC, foreign, running


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


@pytest.fixture
async def runtime(api: FakeKubeApi) -> Any:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    yield runtime
    await runtime.aclose()


# -- reads ---------------------------------------------------------------------------------


async def test_inspect_reports_the_pod(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    assert await runtime.inspect(KEY) is None
    await runtime.ensure(SPEC)
    api.set_status(NAME, running(ready=False))
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.CREATED
    api.set_status(NAME, running(ready=True))
    state = await runtime.inspect(KEY)
    assert state is not None and state.phase is Phase.RUNNING


async def test_inspect_ignores_a_foreign_pod(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    api.add_object("pods", foreign("pods"))
    assert await runtime.inspect(KEY) is None


async def test_list_managed_lists_only_this_deployment_by_key(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    other = KubernetesRuntime("other", CONFIG, api)
    for pod_id in ("zed", "abc"):
        await runtime.ensure(with_hash(dataclasses.replace(SPEC, key=PodKey("dev", pod_id))))
    await other.ensure(SPEC)
    states = await runtime.list_managed()
    assert [s.key.pod_id for s in states] == ["abc", "zed"]
    assert [s.key for s in await other.list_managed()] == [KEY]


# -- logs ----------------------------------------------------------------------------------


async def test_logs_are_read_after_the_cursor(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    await runtime.ensure(SPEC)
    api.write_log(NAME, "2024-05-01T10:00:00.100000000Z", "one\n")
    api.calls.clear()
    assert await runtime.logs_since(KEY, "", 1000) == LogChunk("", "")  # not started yet
    assert api.calls == [("read", "pods")]
    api.set_status(NAME, running())
    first = await runtime.logs_since(KEY, "", 1000)
    assert first == LogChunk("one\n", "2024-05-01T10:00:00.100000000Z")
    api.write_log(NAME, "2024-05-01T10:00:00.200000000Z", "two\n")
    api.write_log(NAME, "2024-05-01T10:00:01.000000000Z", "three\n")
    second = await runtime.logs_since(KEY, first.cursor, 1000)
    assert second == LogChunk("two\nthree\n", "2024-05-01T10:00:01.000000000Z")
    assert await runtime.logs_since(KEY, second.cursor, 1000) == LogChunk("", second.cursor)


async def test_logs_keep_the_last_bytes_over_several_pages(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    lines = [f"line {n:05d} {'x' * 80}\n" for n in range(2000)]  # ~230 KB with stamps
    for n, line in enumerate(lines):
        api.write_log(NAME, f"2024-05-01T10:{n // 60:02d}:{n % 60:02d}.000000001Z", line)
    api.calls.clear()
    chunk = await runtime.logs_since(KEY, "", 1000)
    assert chunk.text == "".join(lines)[-1000:].split("\n", 1)[1]
    assert chunk.cursor == "2024-05-01T10:33:19.000000001Z"
    assert api.calls.count(("pod_log", "pods/log")) == 4  # 64 KiB pages


async def test_logs_of_an_absent_pod_are_empty(runtime: KubernetesRuntime) -> None:
    assert await runtime.logs_since(KEY, "2024-05-01T10:00:00Z", 10) == LogChunk(
        "", "2024-05-01T10:00:00Z"
    )


async def test_a_bad_log_cursor_is_permanent(runtime: KubernetesRuntime) -> None:
    with pytest.raises(PermanentError, match="log cursor"):
        await runtime.logs_since(KEY, "42", 10)


# -- exec ----------------------------------------------------------------------------------


async def test_exec_runs_in_the_running_container(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    seen: list[tuple[list[str], float, int]] = []

    def handler(argv: list[str], timeout: float, limit: int) -> ExecResult:
        seen.append((argv, timeout, limit))
        return ExecResult(exit_code=3, stdout="out\n", stderr="err\n")

    api.exec_handler = handler
    await runtime.ensure(SPEC)
    with pytest.raises(PermanentError, match="has no running container"):
        await runtime.exec(KEY, ["ls"], 5, 100)  # still pending
    api.set_status(NAME, running(ready=False))
    result = await runtime.exec(KEY, ("ls", "-l"), 5, 100)
    assert result == ExecResult(exit_code=3, stdout="out\n", stderr="err\n")
    assert seen == [(["ls", "-l"], 5, 100)]
    with pytest.raises(PermanentError, match="has no running container"):
        await runtime.exec(PodKey("dev", "other"), ["ls"], 5, 100)


async def test_exec_runs_on_its_own_threads_and_a_cancelled_caller_stops_it(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    threads: list[str] = []
    entered = threading.Event()

    def handler(argv: list[str], timeout: float, limit: int) -> ExecResult:
        threads.append(threading.current_thread().name)
        entered.set()
        stop = api.exec_stops[-1]
        assert stop is not None
        stopped = stop.wait(10)  # the real client polls its stop event the same way
        return ExecResult(exit_code=None if stopped else 0, stdout="", stderr="", timed_out=True)

    api.exec_handler = handler
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    task = asyncio.create_task(runtime.exec(KEY, ["sleep", "600"], 600, 100))
    assert await asyncio.to_thread(entered.wait, 10)
    # lifecycle calls do not wait behind the running command
    assert (await asyncio.wait_for(runtime.inspect(KEY), 5)) is not None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stop = api.exec_stops[-1]
    assert stop is not None and await asyncio.to_thread(stop.wait, 5)
    assert threads[0].startswith("exec")


async def test_exec_errors_are_translated(runtime: KubernetesRuntime, api: FakeKubeApi) -> None:
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    api.fail("exec", KubeError(403, "WebSocketFailed", "Handshake status 403 Forbidden"))
    with pytest.raises(PermanentError, match="403"):
        await runtime.exec(KEY, ["ls"], 5, 100)
    api.fail("exec", KubeError(None, "Unreachable", "reset"))
    with pytest.raises(TemporaryError):
        await runtime.exec(KEY, ["ls"], 5, 100)


# -- copy_into: `tar -x` in the running container, the archive on its stdin -----------------


async def test_tar_extracts_the_file_into_its_directory(
    runtime: KubernetesRuntime, api: FakeKubeApi
) -> None:
    seen: list[tuple[str, list[str], bytes | None]] = []

    def handler(name: str, argv: list[str], stdin: bytes | None) -> ExecBytes:
        seen.append((name, argv, stdin))
        return ExecBytes(exit_code=0, stdout=b"", stderr=b"")

    api.exec_bytes_handler = handler
    await runtime.ensure(SPEC)
    with pytest.raises(PermanentError, match="has no running container"):
        await runtime.copy_into(KEY, "/tmp/a.txt", b"x")  # still pending
    api.set_status(NAME, running())

    await runtime.copy_into(KEY, "/srv/data/a.txt", b"hello")

    ((name, argv, stdin),) = seen
    assert (name, argv) == (NAME, ["tar", "-x", "-o", "-f", "-", "-C", "/srv/data"])
    assert stdin is not None
    with tarfile.open(fileobj=io.BytesIO(stdin)) as archive:
        (member,) = archive.getmembers()
        assert (member.name, member.mode, member.isreg()) == ("a.txt", 0o644, True)
        handle = archive.extractfile(member)
        assert handle is not None and handle.read() == b"hello"


@pytest.mark.parametrize(
    ("done", "error", "words"),
    [
        (ExecBytes(2, b"", b"tar: can't change directory to '/nope'"), FileNotFoundError, "/nope"),
        (ExecBytes(2, b"", b"tar: /nope: No such file or directory"), FileNotFoundError, "/nope"),
        (ExecBytes(127, b"", b'exec: "tar": executable file not found'), PermanentError, "`tar`"),
        (ExecBytes(2, b"", b"tar: a.txt: Read-only file system"), PermanentError, "Read-only"),
        (ExecBytes(None, b"", b""), TemporaryError, "took over"),
    ],
)
async def test_tar_failures_say_why(
    runtime: KubernetesRuntime,
    api: FakeKubeApi,
    done: ExecBytes,
    error: type[Exception],
    words: str,
) -> None:
    api.exec_bytes_handler = lambda name, argv, stdin: done
    await runtime.ensure(SPEC)
    api.set_status(NAME, running())
    with pytest.raises(error, match=words):
        await runtime.copy_into(KEY, "/nope/a.txt", b"x")
