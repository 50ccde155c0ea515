"""The `pods` command (services/cli) against the real stack, as a user runs it: the installed
script in a subprocess, logged in with the dev identity, through a pod's life (create --wait
with its progress lines, ls, get, logs, logs -f, exec, connect and its printed curl line,
stop/start, share, rm) and a volume's upload/download round trip."""

from __future__ import annotations

import json
import os
import selectors
import shlex
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Cleanup, Unique
from tests.e2e.harness import REPO, Stack, eventually

pytestmark = [pytest.mark.docker, pytest.mark.stack]
PODS = str(REPO / ".venv" / "bin" / "pods")
Pods = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def pods(stack: Stack, tmp_path: Path) -> Pods:
    """Runs `pods ARGS` with a config file of this test's own, logged in as testuser."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODS_")}
    # Polled more often than the default 2 s where the stack has no event stream, so that the
    # short CREATING is seen more often than not (the stream shows every change).
    env.update(PODS_CONFIG=str(tmp_path / "config.json"), COLUMNS="200", PODS_POLL_INTERVAL="0.1")

    def run(*args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [PODS, *args], env={**env, **extra}, capture_output=True, text=True, timeout=300
        )
        if check:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    login = ("login", "--url", stack.url, "--username", "testuser", "--password", "testpass")
    run(*login, "--ca", str(stack.ca))
    mode = stat.S_IMODE((tmp_path / "config.json").stat().st_mode)
    assert mode == 0o600
    return run


def status_of(pods: Pods, pod_id: str) -> str:
    return str(json.loads(pods("get", pod_id, "--json").stdout)["status"])


def test_a_pods_life_through_the_command(
    pods: Pods, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    web = cleanup.pod(unique("cliweb"))

    created = pods(
        "create", web, "--image", "pods-http:latest", "-e", "POD_MESSAGE=from-the-cli", "--wait"
    )

    states = [line.split()[1] for line in created.stderr.splitlines() if line.startswith(web)]
    # In order, from REQUESTED to AVAILABLE; a poll may miss CREATING (it can last less
    # than 0.1 s), the event stream does not.
    assert states[0] == "REQUESTED" and states[-1] == "AVAILABLE", created.stderr
    assert states in (["REQUESTED", "CREATING", "AVAILABLE"], ["REQUESTED", "AVAILABLE"])
    assert f"{web}: AVAILABLE" in created.stdout
    assert web in pods("ls").stdout
    assert "AVAILABLE" in pods("get", web).stdout

    connect = pods("connect", web).stdout.strip()
    assert connect.startswith(f"curl --cacert {stack.ca} --resolve {web}.pods.localhost:")
    page = subprocess.run(shlex.split(connect), capture_output=True, text=True, timeout=30)
    assert page.returncode == 0 and "from-the-cli" in page.stdout, page
    assert "from-the-cli" in pods("connect", web, "--open").stdout

    eventually(lambda: "url=/ status=200" in pods("logs", web).stdout, 30, "the request logged")
    assert pods("exec", web, "--", "cat", "/www-missing", check=False).returncode == 1
    assert pods("exec", web, "--", "hostname").stdout.strip() != ""

    pods("share", web, "otheruser", "READ")
    other = stack.token("otheruser", "otherpass")
    assert web in pods("get", web, PODS_TOKEN=other).stdout
    refused = pods("stop", web, PODS_TOKEN=other, check=False)
    assert refused.returncode == 1 and "error:" in refused.stderr

    pods("stop", web)
    eventually(lambda: status_of(pods, web) == "STOPPED", 60, f"{web} STOPPED")
    pods("start", web)
    eventually(lambda: status_of(pods, web) == "AVAILABLE", 120, f"{web} AVAILABLE again")

    pods("rm", web)
    eventually(lambda: pods("get", web, check=False).returncode == 1, 60, f"{web} gone")


def test_logs_follow_prints_new_output(
    pods: Pods, stack: Stack, unique: Unique, cleanup: Cleanup
) -> None:
    web = cleanup.pod(unique("clilog"))
    pods("create", web, "--image", "pods-http:latest", "--wait", "--timeout", "180")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODS_")}
    follow = subprocess.Popen(
        [PODS, "logs", "-f", web],
        env={**env, "PODS_URL": stack.url, "PODS_TOKEN": stack.token(), "PODS_CA": str(stack.ca)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "serving" in read_until(follow, "serving", 30)
        subprocess.run(shlex.split(pods("connect", web).stdout), capture_output=True, timeout=30)
        assert "url=/ status=200" in read_until(follow, "url=/ status=200", 30)
    finally:
        follow.terminate()
        follow.wait(timeout=10)


def read_until(process: subprocess.Popen[str], text: str, timeout: float) -> str:
    """What `process` printed until a line with `text` (failing after `timeout` seconds)."""
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while text not in seen and time.monotonic() < deadline:
            if selector.select(timeout=1):
                line = process.stdout.readline()
                if not line:
                    break
                seen += line
    assert text in seen, seen
    return seen


def test_create_wait_fails_with_the_reason(pods: Pods, unique: Unique, cleanup: Cleanup) -> None:
    bad = cleanup.pod(unique("clibad"))

    failed = pods("create", bad, "--image", "no-such-image:1", "--wait", check=False)

    assert failed.returncode == 1, failed
    assert f"error: pod {bad} is ERROR" in failed.stderr


def test_a_volume_round_trip_with_progress(
    pods: Pods, unique: Unique, cleanup: Cleanup, tmp_path: Path
) -> None:
    volume = cleanup.volume(unique("clivol"))
    local = tmp_path / "data.bin"
    local.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    pods("volume", "create", volume)

    pods("volume", "upload", volume, str(local), "in/data.bin")
    listing = json.loads(pods("volume", "ls", volume, "--json").stdout)
    back = tmp_path / "back.bin"
    pods("volume", "download", volume, "in/data.bin", str(back))

    assert {
        (f["path"], int(f["size"])) for f in listing if f["type"] == "file"
    } == {  # int64: a string
        ("in/data.bin", local.stat().st_size)
    }
    assert back.read_bytes() == local.read_bytes()
    assert volume in pods("volume", "ls").stdout
