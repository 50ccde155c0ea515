"""KubernetesRuntime.copy_into against FakeKubeApi: `tar -x` runs in the running container
with a one-file archive on its stdin, and tar's failures become errors that say why."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.spawner.platforms.kubernetes.api import ExecBytes
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime

from .fake_api import FakeKubeApi
from .runtime_support import CONFIG, KEY, NAME, SPEC, running


@pytest.fixture
def api() -> FakeKubeApi:
    return FakeKubeApi()


@pytest.fixture
async def runtime(api: FakeKubeApi) -> Any:
    runtime = KubernetesRuntime("prod", CONFIG, api)
    yield runtime
    await runtime.aclose()


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
