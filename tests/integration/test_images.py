"""The locally built images (scripts/build-images) against the real Docker engine.

pods-http:latest answers on its published loopback port with a page naming the pod (hostname
and POD_MESSAGE) and logs one line per request; pods-postgres:15 follows the official postgres
image's conventions (POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB). Every container is
labelled org.pods-service.test=1 and force-removed by the fixtures.
"""

from __future__ import annotations

import contextlib
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import psycopg2
import pytest
from docker.models.containers import Container

pytestmark = pytest.mark.docker

HTTP_IMAGE = "pods-http:latest"
POSTGRES_IMAGE = "pods-postgres:15"
TEST_LABELS = {"org.pods-service.test": "1"}
READY_TIMEOUT_S = 60.0

RunContainer = Callable[..., Container]


def _until(deadline_s: float, attempt: Callable[[], Any], what: str) -> Any:
    """Calls `attempt` until it returns a truthy value; fails after `deadline_s` seconds."""
    deadline = time.monotonic() + deadline_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = attempt()
        except Exception as exc:  # readiness probes fail in many ways until they succeed
            last_error = exc
        else:
            if result:
                return result
        time.sleep(0.25)
    pytest.fail(
        f"timed out after {deadline_s:.0f} s waiting for {what} (last error: {last_error!r})"
    )


def _logs(container: Container) -> str:
    raw: bytes = container.logs(stdout=True, stderr=True)
    return raw.decode(errors="replace")


def _host_port(container: Container, container_port: str) -> int:
    container.reload()
    return int(container.ports[container_port][0]["HostPort"])


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    yield engine
    engine.close()


def _runner(client: docker.DockerClient, started: list[Container]) -> RunContainer:
    def run(image: str, **kwargs: Any) -> Container:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"{image} is missing: run scripts/build-images")
        container = client.containers.run(
            image, detach=True, init=True, labels=TEST_LABELS, **kwargs
        )
        started.append(container)
        return container

    return run


def _remove_all(started: list[Container]) -> None:
    for container in started:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


@pytest.fixture
def run_container(client: docker.DockerClient) -> Iterator[RunContainer]:
    """Runs containers of our images (init, test label); removes them after the test."""
    started: list[Container] = []
    yield _runner(client, started)
    _remove_all(started)


# --- pods-http ---------------------------------------------------------------------------------


def _http_get(port: int, path: str = "/") -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        assert response.status == 200
        return str(response.read().decode())


def _start_http_pod(run_container: RunContainer, message: str) -> tuple[Container, int]:
    container = run_container(
        HTTP_IMAGE, environment={"POD_MESSAGE": message}, ports={"5000/tcp": ("127.0.0.1", None)}
    )
    return container, _host_port(container, "5000/tcp")


def test_http_index_names_the_pod(run_container: RunContainer) -> None:
    message = f"hello-{secrets.token_hex(4)}"
    container, port = _start_http_pod(run_container, message)

    body = _until(10, lambda: _http_get(port), "pods-http to answer GET /")

    assert message in body
    assert container.attrs["Config"]["Hostname"] in body


def test_http_pods_are_told_apart_by_message(run_container: RunContainer) -> None:
    first, second = f"first-{secrets.token_hex(4)}", f"second-{secrets.token_hex(4)}"
    _, first_port = _start_http_pod(run_container, first)
    _, second_port = _start_http_pod(run_container, second)

    first_body = _until(10, lambda: _http_get(first_port), "the first pod")
    second_body = _until(10, lambda: _http_get(second_port), "the second pod")

    assert first in first_body and second not in first_body
    assert second in second_body and first not in second_body


def test_http_logs_one_line_per_request(run_container: RunContainer) -> None:
    container, port = _start_http_pod(run_container, "logged")
    _until(10, lambda: _http_get(port), "pods-http to answer GET /")
    with pytest.raises(urllib.error.HTTPError) as missing:
        _http_get(port, "/no-such-page")
    assert missing.value.code == 404

    def request_lines() -> list[str]:
        lines = [line for line in _logs(container).splitlines() if line.startswith("request ")]
        return lines if any("url=/no-such-page status=404" in line for line in lines) else []

    lines = _until(10, request_lines, "the request log lines")
    assert any(line.endswith("url=/ status=200") for line in lines)
    assert sum("url=/no-such-page" in line for line in lines) == 1


def test_http_stops_promptly(run_container: RunContainer) -> None:
    container, port = _start_http_pod(run_container, "stopping")
    _until(10, lambda: _http_get(port), "pods-http to answer GET /")

    started = time.monotonic()
    container.stop(timeout=10)

    assert time.monotonic() - started < 5
    container.reload()
    assert container.attrs["State"]["ExitCode"] == 0


# --- pods-postgres -----------------------------------------------------------------------------

PG_USER = "pods_test"
PG_DB = "pods_test_db"


@pytest.fixture(scope="module")
def postgres(client: docker.DockerClient) -> Iterator[tuple[Container, int, str]]:
    """One pods-postgres container for the module: (container, host port, password)."""
    password = f"pw-{secrets.token_urlsafe(12)}"
    started: list[Container] = []
    container = _runner(client, started)(
        POSTGRES_IMAGE,
        environment={"POSTGRES_USER": PG_USER, "POSTGRES_PASSWORD": password, "POSTGRES_DB": PG_DB},
        ports={"5432/tcp": ("127.0.0.1", None)},
    )
    try:
        yield container, _host_port(container, "5432/tcp"), password
    finally:
        _remove_all(started)


def _connect(port: int, password: str) -> Any:
    return psycopg2.connect(
        host="127.0.0.1",
        port=port,
        user=PG_USER,
        password=password,
        dbname=PG_DB,
        connect_timeout=3,
    )


def _query_identity(port: int, password: str) -> tuple[str, str]:
    connection = _connect(port, password)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            row = cursor.fetchone()
    finally:
        connection.close()
    return (row[0], row[1])


def test_postgres_accepts_the_configured_login(postgres: tuple[Container, int, str]) -> None:
    _, port, password = postgres

    identity = _until(READY_TIMEOUT_S, lambda: _query_identity(port, password), "PostgreSQL login")

    assert identity == (PG_USER, PG_DB)


def test_postgres_rejects_a_wrong_password(postgres: tuple[Container, int, str]) -> None:
    _, port, password = postgres
    _until(READY_TIMEOUT_S, lambda: _query_identity(port, password), "PostgreSQL login")

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(port, password + "-wrong")


def test_postgres_logs_its_start_but_never_the_password(
    postgres: tuple[Container, int, str],
) -> None:
    container, port, password = postgres
    _until(READY_TIMEOUT_S, lambda: _query_identity(port, password), "PostgreSQL login")

    logs = _logs(container)

    assert "starting PostgreSQL 15" in logs
    assert "database system is ready to accept connections" in logs
    assert 'listening on IPv4 address "0.0.0.0", port 5432' in logs
    assert password not in logs


def test_postgres_requires_a_password(run_container: RunContainer) -> None:
    container = run_container(POSTGRES_IMAGE, environment={"POSTGRES_USER": PG_USER})

    result = container.wait(timeout=30)

    assert result["StatusCode"] != 0
    assert "POSTGRES_PASSWORD is not set" in _logs(container)
