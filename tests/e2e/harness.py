"""Runs the whole stack the way the README does (`scripts/up`, setup already done) on leased
ports (tests/ports.py) with its own data directory, deployment id and database: the embedded
SQLite file, or a fresh PostgreSQL database on PODS_TEST_PG_DSN's server, created for the
stack and dropped after it. Afterwards every container and volume labelled with the
deployment is removed. Used by the end-to-end tests and by bench/.

Health gets no access to the container runtime in any stack: its DOCKER_HOST names a socket
that does not exist (HEALTH_ENV, passed through services/devstack's per-process overrides), so
every stack shows that health observes pods through the spawner alone."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psycopg2

from services.common.runtime.types import LABEL_DEPLOYMENT, LABEL_POD
from tests.ports import release_port, reserve_port

REPO = Path(__file__).resolve().parents[2]
DATABASES = ("sqlite", "postgres")
PG_ADMIN_DSN = os.environ.get("PODS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PORT_SETTINGS = (
    "PODS_GATEWAY_PORT",
    "PODS_GATEWAY_ADMIN_PORT",
    "PODS_API_PORT",
    "PODS_SPAWNER_PORT",
    "PODS_HEALTH_PORT",
    "PODS_NATS_PORT",
    "PODS_PODS_PORT",
    "PODS_ROUTER_PORT",
    "PODS_ROUTER_HEALTH_PORT",
    # Prometheus /metrics of each process (README "Metrics")
    "PODS_API_METRICS_PORT",
    "PODS_SPAWNER_METRICS_PORT",
    "PODS_HEALTH_METRICS_PORT",
    "PODS_ROUTER_METRICS_PORT",
    "PODS_GATEWAY_METRICS_PORT",
)
_PG_PREFIX = "pods_stack_"
NO_ENGINE = "unix:///nonexistent/pods-health-has-no-engine.sock"
# Per-process environment, over the stack's (services/devstack CHILD_ENV).
HEALTH_ENV = {"health": {"DOCKER_HOST": NO_ENGINE}}

free_port = reserve_port  # bench/ imports it from here


def _admin_execute(statement: str) -> None:
    connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=10)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


def create_database() -> str:
    """A new, empty PostgreSQL database; its stack URL (postgresql+asyncpg://...)."""
    name = f"{_PG_PREFIX}{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def drop_database(url: str) -> None:
    """Drops the database create_database made for `url` (anything else is left alone)."""
    name = url.rsplit("/", 1)[-1]
    if url.startswith("postgresql") and name.startswith(_PG_PREFIX):
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    """A running local stack."""

    url: str
    data_dir: Path
    deployment_id: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    @property
    def database(self) -> str:
        """ "postgres" or "sqlite": the database this stack keeps its state in."""
        return "postgres" if self.env.get("PODS_DATABASE_URL") else "sqlite"

    @property
    def ca(self) -> Path:
        """The development CA, which issued the certificates of both TLS ports."""
        return self.data_dir / "gateway" / "tls" / "ca.pem"

    def ssl_context(self) -> ssl.SSLContext | None:
        """Verifies the gateway with the development CA when the stack serves https."""
        return _ssl_context(self.url, self.data_dir)

    def pid_of(self, name: str) -> int:
        return int((self.data_dir / "pids" / f"{name}.pid").read_text())

    def containers(self, pod_id: str | None = None) -> list[Any]:
        labels = [f"{LABEL_DEPLOYMENT}={self.deployment_id}"]
        if pod_id:
            labels.append(f"{LABEL_POD}={pod_id}")
        client = docker.from_env()
        try:
            return list(
                client.containers.list(all=True, filters={"label": labels}, ignore_removed=True)
            )
        finally:
            client.close()

    def request(
        self, method: str, path: str, body: bytes | None = None, token: str | None = None
    ) -> tuple[int, str, dict[str, Any] | str]:
        """(status, content-type, parsed JSON or text) of a raw HTTP call to the gateway."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Tapis-Token"] = token
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl_context()) as response:
                return _parsed(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return _parsed(error.code, error.headers, error.read())

    def token(self, username: str = "testuser", password: str = "testpass") -> str:
        body = json.dumps({"username": username, "password": password, "grant_type": "password"})
        status, _, data = self.request("POST", "/v3/oauth2/tokens", body.encode())
        assert status == 200, data
        assert isinstance(data, dict)
        return str(data["result"]["access_token"]["access_token"])


def _parsed(status: int, headers: Any, raw: bytes) -> tuple[int, str, dict[str, Any] | str]:
    content_type = headers.get("content-type", "")
    if content_type == "application/json":
        return status, content_type, json.loads(raw)
    return status, content_type, raw.decode(errors="replace")


def _ssl_context(url: str, data_dir: Path) -> ssl.SSLContext | None:
    if not url.startswith("https://"):
        return None
    return ssl.create_default_context(cafile=str(data_dir / "gateway" / "tls" / "ca.pem"))


def _wait_until_up(
    url: str, process: subprocess.Popen[bytes], log_path: Path, data_dir: Path
) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stack exited early:\n{log_path.read_text()[-4000:]}")
        try:
            context = _ssl_context(url, data_dir)
            with urllib.request.urlopen(url + "/v3/sites", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"stack did not come up:\n{log_path.read_text()[-4000:]}")


def start_stack(
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    database: str = "sqlite",
    process_env: dict[str, dict[str, str]] | None = None,
) -> Stack:
    """A new stack on `database` ("sqlite" or "postgres": a fresh database); stop_stack
    removes everything it made. `extra_env` applies to every process, `process_env` (by
    process name, HEALTH_ENV by default) to one each, over it."""
    if database not in DATABASES:
        raise ValueError(f"database must be one of {DATABASES}, not {database!r}")
    deployment = f"e2e{uuid.uuid4().hex[:8]}"
    inherited = ("PODS_NATS_URL", "PODS_DATABASE_URL")  # the stack's own, or extra_env's
    env = {
        **{k: v for k, v in os.environ.items() if k not in inherited},
        **{name: str(reserve_port()) for name in PORT_SETTINGS},
        "PODS_SKIP_SETUP": "1",
        "PODS_DEPLOYMENT_ID": deployment,
        "PODS_DATA_DIR": str(tmp / "data"),
        "PODS_DEV_USERS": "testuser:testpass,otheruser:otherpass,adminuser:adminpass",
        "PODS_ADMIN_USERS": "adminuser",
        "PODS_RESYNC_INTERVAL": "1",
        "PODS_METRICS_REFRESH": "1",
        "PODS_MIN_TIME_TO_STOP": "5",
        # The suite shares one stack: quotas far above what it uses (test_fair_objects and
        # the benchmarks set their own).
        "PODS_QUOTA_PODS": "1000",
        "PODS_QUOTA_VOLUMES": "1000",
        "PODS_QUOTA_CPU": "100000000",
        "PODS_QUOTA_MEM": "100000000",
        "PODS_QUOTA_STORAGE": "100000000",
        **(extra_env or {}),
        "PODS_DEVSTACK_CHILD_ENV": json.dumps(HEALTH_ENV if process_env is None else process_env),
    }
    try:
        if database == "postgres" and "PODS_DATABASE_URL" not in env:
            env["PODS_DATABASE_URL"] = create_database()
        return launch(env, tmp)
    except BaseException:
        _release(env)
        raise


def serve_stack(
    tmp: Path, extra_env: dict[str, str] | None = None, database: str = "sqlite"
) -> Iterator[Stack]:
    """The body of a stack fixture: start_stack, yield it, then stop_stack."""
    running = start_stack(tmp, extra_env, database)
    try:
        yield running
    finally:
        stop_stack(running)


def launch(env: dict[str, str], tmp: Path) -> Stack:
    """Runs scripts/up with `env` and waits until the gateway answers (a stack that does not
    come up is stopped before the error is raised)."""
    log_path = tmp / "stack.log"
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            ["bash", str(REPO / "scripts" / "up")],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    scheme = "https" if env.get("PODS_GATEWAY_TLS") == "1" else "http"
    url = f"{scheme}://localhost:{env['PODS_GATEWAY_PORT']}"
    stack = Stack(
        url, Path(env["PODS_DATA_DIR"]), env["PODS_DEPLOYMENT_ID"], process, log_path, env
    )
    try:
        _wait_until_up(url, process, log_path, stack.data_dir)
    except BaseException:
        interrupt(stack)  # a stack that never came up must not outlive the test
        raise
    return stack


def interrupt(stack: Stack) -> None:
    """Ctrl-C: stops every process of the stack; pods keep running."""
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGINT)
        try:
            stack.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(stack.process.pid, signal.SIGKILL)
            stack.process.wait()


def stop_stack(stack: Stack) -> None:
    """Stops the stack; removes every container, network and volume of its deployment, drops its
    PostgreSQL database and ends the leases of its ports."""
    try:
        interrupt(stack)
        for container in stack.containers():
            with contextlib.suppress(docker.errors.NotFound):  # a helper removing itself
                container.remove(force=True)
        _remove_volumes(stack.deployment_id)
        _remove_networks(stack.deployment_id)
    finally:
        _release(stack.env)


def _remove_networks(deployment_id: str) -> None:
    client = docker.from_env()
    try:
        label = f"{LABEL_DEPLOYMENT}={deployment_id}"
        for network in client.networks.list(filters={"label": label}):
            with contextlib.suppress(docker.errors.NotFound):
                network.remove()
    finally:
        client.close()


def _remove_volumes(deployment_id: str) -> None:
    client = docker.from_env()
    try:
        label = f"{LABEL_DEPLOYMENT}={deployment_id}"
        for volume in client.volumes.list(filters={"label": label}):
            with contextlib.suppress(docker.errors.NotFound):
                volume.remove(force=True)
    finally:
        client.close()


def _release(env: dict[str, str]) -> None:
    """Drops the stack's database (if it has one of its own) and releases its ports."""
    try:
        drop_database(env.get("PODS_DATABASE_URL", ""))
    finally:
        for name in PORT_SETTINGS:
            if name in env:
                release_port(int(env[name]))


def eventually(check: Callable[[], Any], timeout: float = 90, what: str = "condition") -> Any:
    """Polls `check` until it returns something truthy (returned), failing after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")
