"""Real Envoy serving real pods by name on one TLS port, routes changed through the xDS files.

One Envoy for the module, started from a bootstrap built by gateway/envoy_config.py on free
ports with a temporary data dir; routes are published with gateway/xds_files.py. The pods are
containers of our local images (pods-http, pods-echo standing in for Neo4j, pods-postgres),
labelled org.pods-service.test=1 and force-removed afterwards; a small TCP server stands in for
the STARTTLS router and an in-test HTTP server shows the headers a pod receives. Clients
connect to 127.0.0.1 with the pod's name as SNI and trust the development CA.

Clients, stand-ins and Envoy's start are in pods_gateway_support.py; `python -m gateway` and
`envoy --mode validate` of whole configurations are in test_pods_gateway_files.py.

Route-update latencies are printed (run with -s to see them) and asserted below one second.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import docker
import docker.errors
import psycopg2
import pytest
from docker.models.containers import Container

from gateway import xds_files
from gateway.routes import PodRoute, RouteTable
from tests.integration.gateway.pods_gateway_support import (
    ECHO_IMAGE,
    HTTP_IMAGE,
    IO_TIMEOUT,
    PG_DB,
    PG_USER,
    POSTGRES_IMAGE,
    READY_TIMEOUT,
    SSL_REQUEST,
    TEST_LABELS,
    UPDATE_DEADLINE,
    Envoy,
    echo_roundtrip,
    header_echo_pod,
    host,
    pod_route,
    request,
    running_envoy,
    until,
)


@pytest.fixture(scope="module")
def envoy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Envoy]:
    with running_envoy(tmp_path_factory.mktemp("pods-gateway")) as gw:
        yield gw


@pytest.fixture(scope="module")
def header_pod() -> Iterator[int]:
    """An in-test HTTP 'pod' answering with the headers it received; yields its port."""
    with header_echo_pod() as port:
        yield port


# --- pods (containers) ---------------------------------------------------------------------------


@dataclass
class Pods:
    web1: int
    web2: int
    web3: int
    echo: int
    postgres: int
    messages: dict[str, str]
    pg_password: str


def _host_port(container: Container, container_port: str) -> int:
    container.reload()
    return int(container.ports[container_port][0]["HostPort"])


def _direct_get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=IO_TIMEOUT) as response:
        return str(response.read().decode())


def _direct_echo(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as s:
        s.sendall(b"ping")
        return s.recv(4) == b"ping"


@pytest.fixture(scope="module")
def pods() -> Iterator[Pods]:
    try:
        engine = docker.from_env()
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine: {exc}")
    started: list[Container] = []

    def run(image: str, ports: dict[str, Any], **kwargs: Any) -> Container:
        try:
            engine.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"{image} is missing: run scripts/build-images")
        container = engine.containers.run(
            image, detach=True, init=True, labels=TEST_LABELS, ports=ports, **kwargs
        )
        started.append(container)
        return container

    loopback = ("127.0.0.1", None)
    try:
        messages = {name: f"{name}-{secrets.token_hex(4)}" for name in ("web1", "web2", "web3")}
        web = {
            name: _host_port(
                run(HTTP_IMAGE, {"5000/tcp": loopback}, environment={"POD_MESSAGE": message}),
                "5000/tcp",
            )
            for name, message in messages.items()
        }
        echo = _host_port(run(ECHO_IMAGE, {"7687/tcp": loopback}), "7687/tcp")
        password = f"pw-{secrets.token_urlsafe(12)}"
        pg_env = {"POSTGRES_USER": PG_USER, "POSTGRES_PASSWORD": password, "POSTGRES_DB": PG_DB}
        postgres = _host_port(
            run(POSTGRES_IMAGE, {"5432/tcp": loopback}, environment=pg_env), "5432/tcp"
        )
        for name, port in web.items():
            until(READY_TIMEOUT, functools.partial(_direct_get, port), f"{name} to serve")
        until(READY_TIMEOUT, lambda: _direct_echo(echo), "the echo pod")

        def pg_ready() -> bool:
            psycopg2.connect(
                host="127.0.0.1",
                port=postgres,
                user=PG_USER,
                password=password,
                dbname=PG_DB,
                connect_timeout=3,
            ).close()
            return True

        until(READY_TIMEOUT, pg_ready, "PostgreSQL to accept connections")
        yield Pods(
            web1=web["web1"],
            web2=web["web2"],
            web3=web["web3"],
            echo=echo,
            postgres=postgres,
            messages=messages,
            pg_password=password,
        )
    finally:
        for container in started:
            with contextlib.suppress(docker.errors.NotFound):
                container.remove(force=True, v=True)
        engine.close()


def baseline(pods: Pods) -> list[PodRoute]:
    return [
        pod_route("web1", "http", pods.web1),
        pod_route("web2", "http", pods.web2),
        pod_route("webdown", "http", 0, status="CREATING"),
        pod_route("graph", "tcp", pods.echo),
        pod_route("graphdown", "tcp", 0, status="CREATING"),
        pod_route("db", "postgres", pods.postgres),
    ]


@pytest.fixture
def routed(envoy: Envoy, pods: Pods) -> Iterator[Envoy]:
    """Envoy serving the baseline routes (and restored to them afterwards)."""
    envoy.publish(baseline(pods))
    yield envoy
    envoy.publish(baseline(pods))


def pg_connect(envoy: Envoy, pods: Pods, name: str = "db", **ssl_options: str) -> Any:
    return psycopg2.connect(
        host=host(name),
        hostaddr="127.0.0.1",
        port=envoy.client.port,
        user=PG_USER,
        password=pods.pg_password,
        dbname=PG_DB,
        connect_timeout=3,
        sslnegotiation="direct",
        **ssl_options,
    )


# --- HTTP pods -----------------------------------------------------------------------------------


@pytest.mark.docker
def test_https_by_name_reaches_each_pod(routed: Envoy, pods: Pods) -> None:
    one = routed.client.get(host("web1"))
    two = routed.client.get(host("web2"))
    assert one.status == 200 and two.status == 200
    assert pods.messages["web1"] in one.body and pods.messages["web2"] not in one.body
    assert pods.messages["web2"] in two.body and pods.messages["web1"] not in two.body


@pytest.mark.docker
def test_http2_with_curl(routed: Envoy, pods: Pods) -> None:
    name, port = host("web2"), routed.client.port
    result = subprocess.run(
        [
            "curl",
            "-sS",
            "-i",
            "--http2",
            "--max-time",
            "10",
            "--resolve",
            f"{name}:{port}:127.0.0.1",
            "--cacert",
            str(routed.client.ca),
            f"https://{name}:{port}/",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].strip() == "HTTP/2 200"
    assert pods.messages["web2"] in result.stdout


@pytest.mark.docker
def test_http_pod_not_serving_answers_503_naming_its_status(routed: Envoy) -> None:
    reply = routed.client.get(host("webdown"))
    assert reply.status == 503
    assert reply.headers["content-type"] == "text/plain"
    assert reply.body == "pod 'webdown' is CREATING\n"


def test_host_header_is_kept_and_forwarded_proto_is_https(envoy: Envoy, header_pod: int) -> None:
    envoy.publish([pod_route("headers", "http", header_pod)])
    name = host("headers")
    reply = envoy.client.get(name, "/x", headers={"X-Forwarded-Proto": "http"})
    assert reply.status == 200
    received = {k.lower(): v for k, v in json.loads(reply.body).items()}
    assert received["host"] == f"{name}:{envoy.client.port}"
    assert received["x-forwarded-proto"] == "https"
    # Envoy appends the client's address; for a loopback client it appends its own host's
    # address instead (documented behaviour of use_remote_address).
    assert received["x-forwarded-for"]


# --- refused names, plaintext --------------------------------------------------------------------


@pytest.mark.docker
def test_names_nothing_may_reach_fail_the_handshake(routed: Envoy) -> None:
    # Unknown names under the pods domain reach the shared HTTP chain and its 404
    # (test_pods_shared_chain.py); these have no chain to complete a handshake.
    assert routed.client.refused(host("graphdown"))  # tcp route, pod not serving
    assert routed.client.refused(None)  # TLS without SNI
    assert routed.client.refused("web1.elsewhere.test")  # outside the pods domain
    assert not routed.client.refused(host("web1"))
    # What the client sees: the connection is reset right after its ClientHello.
    with pytest.raises(ConnectionResetError):
        routed.client.tls(host("graphdown")).close()


def test_plaintext_goes_to_the_starttls_router(envoy: Envoy) -> None:
    with socket.create_connection(("127.0.0.1", envoy.client.port), timeout=IO_TIMEOUT) as s:
        s.sendall(SSL_REQUEST)
        assert s.recv(1) == b"N"
    assert SSL_REQUEST in envoy.router.received


# --- TCP pods ------------------------------------------------------------------------------------


@pytest.mark.docker
def test_tcp_pod_echoes_through_tls(routed: Envoy) -> None:
    with routed.client.tls(host("graph")) as sock:
        assert sock.selected_alpn_protocol() is None
        assert echo_roundtrip(sock, b"bolt-handshake") == b"bolt-handshake"
        payload = secrets.token_bytes(200_000)
        assert echo_roundtrip(sock, payload) == payload


@pytest.mark.docker
def test_postgres_with_direct_tls(routed: Envoy, pods: Pods) -> None:
    for ssl_options in (
        {"sslmode": "require"},
        {"sslmode": "verify-full", "sslrootcert": str(routed.client.ca)},
    ):
        conn = pg_connect(routed, pods, **ssl_options)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT current_user, current_database()")
                assert cursor.fetchone() == (PG_USER, PG_DB)
            assert conn.info.ssl_in_use
            assert conn.info.ssl_attribute("alpn") == "postgresql"
        finally:
            conn.close()


@pytest.mark.docker
def test_postgres_direct_tls_to_an_unknown_name_is_refused(routed: Envoy, pods: Pods) -> None:
    with pytest.raises(psycopg2.OperationalError):
        pg_connect(routed, pods, "nodb", sslmode="require")


# --- route updates -------------------------------------------------------------------------------


@pytest.mark.docker
def test_new_pod_routed_and_removed_pod_unrouted_within_a_second(routed: Envoy, pods: Pods) -> None:
    name = host("web3")
    assert routed.client.get(name).status == 404  # unknown yet: the shared chain's catch-all

    started = time.monotonic()
    xds_files.publish(
        routed.xds_dir,
        RouteTable.build([*baseline(pods), pod_route("web3", "http", pods.web3)]),
        routed.options,
    )
    reply = until(
        UPDATE_DEADLINE,
        lambda: (r := routed.client.get(name)).status == 200 and r,
        "web3 to be routed",
    )
    added_after = time.monotonic() - started
    assert pods.messages["web3"] in reply.body

    started = time.monotonic()
    xds_files.publish(routed.xds_dir, RouteTable.build(baseline(pods)), routed.options)
    until(UPDATE_DEADLINE, lambda: routed.client.get(name).status == 404, "web3 to be unrouted")
    removed_after = time.monotonic() - started

    print(
        f"\nroute update latency: added {added_after * 1000:.0f} ms, "
        f"removed {removed_after * 1000:.0f} ms"
    )
    assert added_after < UPDATE_DEADLINE
    assert removed_after < UPDATE_DEADLINE


@pytest.mark.docker
def test_open_connections_survive_updates_of_other_routes(routed: Envoy, pods: Pods) -> None:
    keepalive = routed.client.connection(host("web1"))
    original = keepalive.sock
    bolt = routed.client.tls(host("graph"))
    in_place_before = routed.counter("listener_manager.listener_in_place_updated")
    base = baseline(pods)
    web3 = pod_route("web3", "http", pods.web3)
    updates = [
        [*base, web3],  # a pod arrives
        [*base, web3, pod_route("graph2", "tcp", pods.echo)],  # another tcp pod
        [*(r if r.pod_id != "web2" else replace(r, status="STOPPED") for r in base), web3],
        [r for r in base if r.pod_id != "db"],  # a pod leaves
        base,
    ]
    listener_changes = 0
    try:
        first = request(keepalive)
        assert first.status == 200 and pods.messages["web1"] in first.body
        for step, routes in enumerate(updates):
            listener_changes += "lds.json" in routed.publish(routes).changed
            reply = request(keepalive)
            assert reply.status == 200, f"update {step}: {reply}"
            assert pods.messages["web1"] in reply.body
            assert keepalive.sock is original, f"update {step} closed the keep-alive connection"
            assert reply.headers.get("connection") != "close"
            data = f"still here after update {step}".encode()
            assert echo_roundtrip(bolt, data) == data
    finally:
        keepalive.close()
        bolt.close()
    in_place = routed.counter("listener_manager.listener_in_place_updated") - in_place_before
    # HTTP pods come and go by RDS alone; the tcp and postgres steps update chains in place.
    assert 0 < listener_changes < len(updates)
    assert in_place == listener_changes


@pytest.mark.docker
def test_snapshot_with_an_invalid_route_is_not_published(routed: Envoy, pods: Pods) -> None:
    before = {p.name: p.read_text() for p in routed.xds_dir.glob("*.json")}
    bad = replace(pod_route("web3", "http", pods.web3), upstream_port=70000)
    good = pod_route("web4", "http", pods.web3)
    table = RouteTable.build(baseline(pods))
    broken = RouteTable(routes={**table.routes, bad.host: bad, good.host: good})

    result = xds_files.publish(routed.xds_dir, broken, routed.options)

    assert not result.published
    assert "out of range" in result.rejected
    assert {p.name: p.read_text() for p in routed.xds_dir.glob("*.json")} == before
    assert len(before) == 3  # lds, cds and rds, all kept
    time.sleep(0.3)
    assert routed.client.get(host("web4")).status == 404
    assert pods.messages["web1"] in routed.client.get(host("web1")).body
    with routed.client.tls(host("graph")) as sock:
        assert echo_roundtrip(sock, b"ok") == b"ok"
