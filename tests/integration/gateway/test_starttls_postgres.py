"""The STARTTLS router in front of real PostgreSQL pods, reached with real libpq (`docker`).

Two pods-postgres containers behind the router, reached with psycopg2 (libpq 17) exactly as
users do: `host=<name>.pods.test hostaddr=127.0.0.1 port=<router>`. psycopg2 blocks, so the
router runs on its own event loop in a thread. Raw protocol clients: test_starttls_router.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import glob
import io
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psycopg2
import psycopg2.errors
import pytest

from gateway.certs import TlsFiles, ensure_dev_certificates
from gateway.starttls_router import (
    StartTlsRouter,
)
from tests.integration.gateway.starttls_support import (
    DOMAIN,
    LOGGER,
    MIB,
    Tables,
    connection_lines,
    pod_route,
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_dev_certificates(tmp_path_factory.mktemp("certs"), DOMAIN)


POSTGRES_IMAGE = "pods-postgres:15"
TEST_LABELS = {"org.pods-service.test": "1"}
READY_TIMEOUT_S = 60.0
docker_test = pytest.mark.docker


@dataclass(frozen=True)
class Pg:
    """A PostgreSQL pod: its published port and login."""

    port: int
    user: str
    password: str
    dbname: str


@pytest.fixture(scope="module")
def pods() -> Iterator[dict[str, Pg]]:
    """Two pods-postgres containers with different logins: {"a": ..., "b": ...}."""
    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    try:
        engine.images.get(POSTGRES_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{POSTGRES_IMAGE} is missing: run scripts/build-images")
    containers: list[Any] = []
    try:
        found: dict[str, Pg] = {}
        for name in ("a", "b"):
            password = f"pw-{secrets.token_urlsafe(12)}"
            user, dbname = f"user_{name}", f"db_{name}"
            container = engine.containers.run(
                POSTGRES_IMAGE,
                detach=True,
                init=True,
                labels=TEST_LABELS,
                environment={
                    "POSTGRES_USER": user,
                    "POSTGRES_PASSWORD": password,
                    "POSTGRES_DB": dbname,
                },
                ports={"5432/tcp": ("127.0.0.1", None)},
            )
            containers.append(container)
            container.reload()
            port = int(container.ports["5432/tcp"][0]["HostPort"])
            found[name] = Pg(port, user, password, dbname)
        for pg in found.values():
            wait_ready(pg)
        yield found
    finally:
        for container in containers:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        engine.close()


def wait_ready(pg: Pg) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            psycopg2.connect(
                host="127.0.0.1",
                port=pg.port,
                user=pg.user,
                password=pg.password,
                dbname=pg.dbname,
                sslmode="disable",
                connect_timeout=3,
            ).close()
            return
        except psycopg2.OperationalError as exc:
            if time.monotonic() > deadline:
                pytest.fail(f"PostgreSQL on {pg.port} not ready after {READY_TIMEOUT_S} s: {exc}")
            time.sleep(0.25)


class RouterThread:
    """The router on its own event loop in a thread, for blocking clients (psycopg2)."""

    def __init__(self, tls: TlsFiles, tables: Tables) -> None:
        self.tables = tables
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.router = StartTlsRouter(tables, tls, handshake_timeout=5.0)

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.router.start("127.0.0.1", 0), self.loop).result(10)

    @property
    def port(self) -> int:
        return self.router.port

    def wait_idle(self) -> None:
        deadline = time.monotonic() + 10
        while self.router.active_connections:
            assert time.monotonic() < deadline, "connections still open after 10 s"
            time.sleep(0.02)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.router.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def routed(pods: dict[str, Pg], tls: TlsFiles) -> Iterator[RouterThread]:
    """A router with a.pods.test -> pod A and b.pods.test -> pod B."""
    thread = RouterThread(
        tls,
        Tables(pod_route("a.pods.test", pods["a"].port), pod_route("b.pods.test", pods["b"].port)),
    )
    thread.start()
    yield thread
    thread.stop()


def connect(router: RouterThread, host: str, pg: Pg, **params: Any) -> Any:
    settings: dict[str, Any] = {
        "host": host,
        "hostaddr": "127.0.0.1",
        "port": router.port,
        "user": pg.user,
        "password": pg.password,
        "dbname": pg.dbname,
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000",
        "sslmode": "require",
    }
    settings.update(params)
    if settings["sslmode"] is None:
        del settings["sslmode"]
    return psycopg2.connect(**settings)


def identity(connection: Any) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        user, dbname = cursor.fetchone()
    return user, dbname


@docker_test
def test_each_name_lands_on_its_pod(routed: RouterThread, pods: dict[str, Pg]) -> None:
    for name in ("a", "b"):
        connection = connect(routed, f"{name}.pods.test", pods[name])
        try:
            assert identity(connection) == (pods[name].user, pods[name].dbname)
            assert connection.info.ssl_in_use
            assert connection.info.ssl_attribute("protocol") == "TLSv1.3"
        finally:
            connection.close()


@docker_test
def test_verify_full_trusts_the_dev_ca(
    routed: RouterThread, pods: dict[str, Pg], tls: TlsFiles
) -> None:
    connection = connect(
        routed, "a.pods.test", pods["a"], sslmode="verify-full", sslrootcert=str(tls.ca)
    )
    try:
        assert identity(connection) == (pods["a"].user, pods["a"].dbname)
    finally:
        connection.close()


@docker_test
def test_verify_full_rejects_another_ca(
    routed: RouterThread, pods: dict[str, Pg], tmp_path: Path
) -> None:
    other = ensure_dev_certificates(tmp_path, DOMAIN)
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        connect(routed, "a.pods.test", pods["a"], sslmode="verify-full", sslrootcert=str(other.ca))


@docker_test
def test_default_sslmode_prefer_uses_tls_and_sends_ssl_request_first(
    routed: RouterThread,
    pods: dict[str, Pg],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    for variable in ("PGSSLMODE", "PGGSSENCMODE", "PGSSLNEGOTIATION", "PGREQUIRESSL"):
        monkeypatch.delenv(variable, raising=False)
    connection = connect(routed, "b.pods.test", pods["b"], sslmode=None)  # libpq's default
    try:
        assert identity(connection) == (pods["b"].user, pods["b"].dbname)
        assert connection.info.ssl_in_use
        assert connection.get_dsn_parameters()["sslmode"] == "prefer"
    finally:
        connection.close()
    routed.wait_idle()
    (line,) = connection_lines(caplog)
    # libpq 17 defaults: no GSSENCRequest without Kerberos credentials, SSLRequest first.
    assert "requests=ssl sni='b.pods.test' pod=dev/b outcome=closed by " in line
    assert pods["b"].password not in caplog.text


@docker_test
def test_the_pods_own_authentication_still_decides(
    routed: RouterThread, pods: dict[str, Pg]
) -> None:
    wrong = Pg(pods["a"].port, pods["a"].user, "not-the-password", pods["a"].dbname)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(routed, "a.pods.test", wrong)
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        connect(routed, "a.pods.test", pods["b"])  # B's login on pod A


@docker_test
def test_an_unknown_name_fails(routed: RouterThread, pods: dict[str, Pg]) -> None:
    with pytest.raises(psycopg2.OperationalError, match="tlsv1 unrecognized name"):
        connect(routed, "c.pods.test", pods["a"])
    # prefer: libpq retries without TLS after the failed handshake, and is refused again.
    with pytest.raises(psycopg2.OperationalError) as refused:
        connect(routed, "c.pods.test", pods["a"], sslmode="prefer")
    assert "tlsv1 unrecognized name" in str(refused.value)
    assert "accepts PostgreSQL connections over TLS only" in str(refused.value)


@docker_test
def test_a_route_that_is_not_serving_fails(routed: RouterThread, pods: dict[str, Pg]) -> None:
    routed.tables.set(
        pod_route("a.pods.test", pods["a"].port, status="STOPPED"),
        pod_route("b.pods.test", pods["b"].port),
    )
    with pytest.raises(psycopg2.OperationalError, match="tlsv1 unrecognized name"):
        connect(routed, "a.pods.test", pods["a"])
    connect(routed, "b.pods.test", pods["b"]).close()


@docker_test
def test_sslmode_disable_is_refused(routed: RouterThread, pods: dict[str, Pg]) -> None:
    with pytest.raises(
        psycopg2.OperationalError, match="accepts PostgreSQL connections over TLS only"
    ):
        connect(routed, "a.pods.test", pods["a"], sslmode="disable")


@docker_test
def test_swapping_the_table_affects_new_connections_only(
    routed: RouterThread, pods: dict[str, Pg]
) -> None:
    routed.tables.set(pod_route("a.pods.test", pods["a"].port))
    first = connect(routed, "a.pods.test", pods["a"])
    try:
        assert identity(first) == (pods["a"].user, pods["a"].dbname)

        routed.tables.set(pod_route("a.pods.test", pods["b"].port))  # the name moves to pod B
        second = connect(routed, "a.pods.test", pods["b"])
        try:
            assert identity(second) == (pods["b"].user, pods["b"].dbname)
        finally:
            second.close()
        assert identity(first) == (pods["a"].user, pods["a"].dbname)  # still on A

        routed.tables.set()  # every route gone
        with pytest.raises(psycopg2.OperationalError, match="tlsv1 unrecognized name"):
            connect(routed, "a.pods.test", pods["a"])
        assert identity(first) == (pods["a"].user, pods["a"].dbname)
    finally:
        first.close()


@docker_test
def test_parallel_connections_each_reach_their_pod(
    routed: RouterThread, pods: dict[str, Pg]
) -> None:
    def work(i: int) -> int:
        name = "ab"[i % 2]
        connection = connect(routed, f"{name}.pods.test", pods[name])
        try:
            with connection.cursor() as cursor:
                total = 0
                for j in range(20):
                    cursor.execute("SELECT %s::int, current_database(), repeat('x', 10000)", (j,))
                    value, dbname, filler = cursor.fetchone()
                    assert dbname == pods[name].dbname and len(filler) == 10000
                    total += value
            return total
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(work, range(10), timeout=60))
    assert results == [sum(range(20))] * 10
    routed.wait_idle()


@docker_test
def test_large_results_and_uploads_cross(routed: RouterThread, pods: dict[str, Pg]) -> None:
    connection = connect(routed, "a.pods.test", pods["a"])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT repeat('x', %s)", (16 * MIB,))
            assert len(cursor.fetchone()[0]) == 16 * MIB
            cursor.execute("CREATE TEMP TABLE t (n int, s text)")
            rows = "".join(f"{i}\t{'y' * 1000}\n" for i in range(8000))  # ~8 MB
            cursor.copy_expert("COPY t FROM STDIN", io.StringIO(rows))
            cursor.execute("SELECT count(*), sum(n), sum(length(s)) FROM t")
            assert cursor.fetchone() == (8000, sum(range(8000)), 8000 * 1000)
    finally:
        connection.close()


def bundled_libpq() -> ctypes.CDLL:
    """The libpq psycopg2-binary loaded (the same file, so the same library instance)."""
    found = glob.glob(str(Path(psycopg2.__file__).parents[1] / "psycopg2_binary.libs" / "libpq*"))
    if not found:
        pytest.skip("psycopg2 is not the binary wheel: no bundled libpq to call")
    lib = ctypes.CDLL(found[0])
    void = ctypes.c_void_p
    lib.PQgetCancel.restype, lib.PQgetCancel.argtypes = void, [void]
    lib.PQcancel.argtypes = [void, ctypes.c_char_p, ctypes.c_int]
    lib.PQfreeCancel.argtypes = [void]
    lib.PQcancelCreate.restype, lib.PQcancelCreate.argtypes = void, [void]
    lib.PQcancelBlocking.argtypes = [void]
    lib.PQcancelFinish.argtypes = [void]
    return lib


def legacy_cancel(lib: ctypes.CDLL, connection: Any) -> int:
    """libpq's PQcancel (what psycopg2's connection.cancel() calls; called through ctypes
    because psycopg2 holds the GIL meanwhile, which would freeze the in-process router)."""
    handle = lib.PQgetCancel(ctypes.c_void_p(connection.pgconn_ptr))
    errors = ctypes.create_string_buffer(256)
    try:
        return int(lib.PQcancel(handle, errors, 256))
    finally:
        lib.PQfreeCancel(handle)


def encrypted_cancel(lib: ctypes.CDLL, connection: Any) -> int:
    """libpq 17's PQcancelCreate + PQcancelBlocking: the cancel goes over TLS with SNI."""
    handle = lib.PQcancelCreate(ctypes.c_void_p(connection.pgconn_ptr))
    try:
        return int(lib.PQcancelBlocking(handle))
    finally:
        lib.PQcancelFinish(handle)


@docker_test
@pytest.mark.parametrize(
    "cancel", [legacy_cancel, encrypted_cancel], ids=["PQcancel", "PQcancelBlocking"]
)
def test_cancel_requests_reach_the_right_pod(
    routed: RouterThread,
    pods: dict[str, Pg],
    caplog: pytest.LogCaptureFixture,
    cancel: Callable[[ctypes.CDLL, Any], int],
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    lib = bundled_libpq()
    bystander = connect(routed, "b.pods.test", pods["b"])  # same pid range, other pod
    connection = connect(routed, "a.pods.test", pods["a"])
    results: list[int] = []
    try:
        timer = threading.Timer(0.5, lambda: results.append(cancel(lib, connection)))
        timer.start()
        started = time.monotonic()
        with pytest.raises(psycopg2.errors.QueryCanceled), connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(20)")
        assert time.monotonic() - started < 10
        timer.join(10)
        assert results == [1]
        assert identity(bystander) == (pods["b"].user, pods["b"].dbname)
    finally:
        connection.close()
        bystander.close()
    routed.wait_idle()
    cancels = [
        line
        for line in connection_lines(caplog)
        if "bytes_to_pod=16 " in line or "requests=cancel" in line
    ]
    assert len(cancels) == 1 and "pod=dev/a" in cancels[0]
