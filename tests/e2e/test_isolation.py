"""Pods are isolated from each other on Docker, through the whole stack: in the default
network mode (auto) on this machine's engine, which keeps its default bridge with
inter-container traffic off (scripts/setup starts dockerd with --icc=false), all of a
deployment's pods run on that bridge and no network is made for them; one pod cannot reach
another pod of the same user (neither a routed port nor a local_only one) nor the control
plane's loopback ports, while the gateway still reaches it; and every pod container runs
hardened (capabilities, no new privileges, pids). The shared network mode:
tests/e2e/test_shared_network.py.
Real API, spawner, Docker engine and gateway; the probes run inside the pods with docker exec."""

from __future__ import annotations

import functools
import json
from typing import Any

import docker
import pytest
from tapipy.tapis import Tapis

from services.spawner.platforms.docker.default_bridge import DEFAULT_BRIDGE, icc_is_off
from tests.e2e.harness import Stack, eventually
from tests.e2e.test_networking import DOMAIN, https_get

pytestmark = [pytest.mark.docker, pytest.mark.stack]

# busybox wget's own -T segfaults (busybox 1.35 static); an address that drops packets would
# make it wait for the TCP timeout, so `timeout` ends it.
WGET = ["/bin/busybox", "timeout", "5", "/bin/busybox", "wget", "-q", "-O", "-"]
SIDE_PAGE = "side-door-of-isob"
# Pod B serves a page on a local_only port (6000) besides the usual pods-http on 5000.
SIDE_SERVER = (
    f"mkdir -p /tmp/side && echo {SIDE_PAGE} > /tmp/side/index.html"
    " && httpd -p 6000 -h /tmp/side && exec /usr/local/bin/pods-http"
)


CONTROL_PLANE_PORTS = (
    "PODS_API_PORT",
    "PODS_SPAWNER_PORT",
    "PODS_HEALTH_PORT",
    "PODS_NATS_PORT",
    "PODS_ROUTER_PORT",
    "PODS_GATEWAY_ADMIN_PORT",
    "PODS_ROUTER_HEALTH_PORT",
    "PODS_API_METRICS_PORT",
    "PODS_SPAWNER_METRICS_PORT",
    "PODS_HEALTH_METRICS_PORT",
    "PODS_ROUTER_METRICS_PORT",
    "PODS_GATEWAY_METRICS_PORT",
)


@pytest.fixture(scope="module")
def t(stack: Stack) -> Tapis:
    client = Tapis(base_url=stack.url, username="testuser", password="testpass")
    client.get_tokens()
    return client


def running(stack: Stack, t: Tapis, **kwargs: Any) -> Any:
    """Creates a pod, waits until it is AVAILABLE and returns its (only) container."""
    t.pods.create_pod(**kwargs)
    pod_id = kwargs["pod_id"]
    eventually(lambda: t.pods.get_pod(pod_id=pod_id).status == "AVAILABLE", what=f"{pod_id} up")
    (container,) = stack.containers(pod_id)
    container.reload()
    return container


def addresses(container: Any) -> list[str]:
    networks = container.attrs["NetworkSettings"]["Networks"]
    return [n["IPAddress"] for n in networks.values() if n.get("IPAddress")]


def gateways(container: Any) -> list[str]:
    networks = container.attrs["NetworkSettings"]["Networks"]
    return [n["Gateway"] for n in networks.values() if n.get("Gateway")]


def fetch_from(container: Any, url: str) -> tuple[int, str]:
    """(exit code, output) of busybox wget of `url` run inside `container`."""
    code, output = container.exec_run([*WGET, url], demux=False)
    return int(code), output.decode(errors="replace")


def connects(container: Any, host: str, port: int) -> bool:
    """Whether a TCP connection from inside `container` to host:port is accepted."""
    code, _ = container.exec_run(
        ["/bin/busybox", "timeout", "5", "/bin/busybox", "nc", "-w", "2", host, str(port)],
        stdin=False,
    )
    return int(code) == 0


def test_a_pod_cannot_reach_another_pod_or_the_control_plane(t: Tapis, stack: Stack) -> None:
    pod_a = running(stack, t, pod_id="isoa", image="pods-http:latest")
    pod_b = running(
        stack,
        t,
        pod_id="isob",
        image="pods-http:latest",
        command=["/bin/busybox", "sh", "-c", SIDE_SERVER],
        networking={
            "default": {"protocol": "http", "port": 5000},
            "side": {"protocol": "local_only", "port": 6000},
        },
    )
    (b_ip,) = addresses(pod_b)
    (a_ip,) = addresses(pod_a)
    # Controls: B serves both ports to itself, A reaches its own address.
    eventually(
        lambda: SIDE_PAGE in fetch_from(pod_b, "http://127.0.0.1:6000/")[1], 30, "B side port"
    )
    assert "pods-http" in fetch_from(pod_b, f"http://{b_ip}:5000/")[1]
    assert "pods-http" in fetch_from(pod_a, f"http://{a_ip}:5000/")[1]

    code, output = fetch_from(pod_a, f"http://{b_ip}:5000/")
    assert code != 0 and "pods-http" not in output, "pod A reached pod B's routed port"
    code, output = fetch_from(pod_a, f"http://{b_ip}:6000/")
    assert code != 0 and SIDE_PAGE not in output, "pod A reached pod B's local_only port"
    # The default network mode (auto): both on the engine's default bridge, which isolates.
    assert engine_isolates_its_default_bridge(), "run scripts/setup: dockerd needs --icc=false"
    assert list(pod_a.attrs["NetworkSettings"]["Networks"]) == [DEFAULT_BRIDGE]
    assert list(pod_b.attrs["NetworkSettings"]["Networks"]) == [DEFAULT_BRIDGE]

    # The control plane listens on loopback only: not reachable through the pod's gateway
    # (the host's address on the pod's network).
    assert connects(pod_a, a_ip, 5000)  # control: a TCP connect that works
    (a_gateway,) = gateways(pod_a)
    for name in CONTROL_PLANE_PORTS:
        assert not connects(pod_a, a_gateway, int(stack.env[name])), f"pod A reached {name}"

    # The gateway still reaches both pods by name.
    for pod_id in ("isoa", "isob"):
        host = f"{pod_id}.{DOMAIN}"
        eventually(functools.partial(_answers, stack, host), 30, f"{host} through the gateway")
    for pod_id in ("isoa", "isob"):
        t.pods.delete_pod(pod_id=pod_id)
    eventually(
        lambda: not stack.containers("isoa") and not stack.containers("isob"),
        60,
        "containers removed",
    )
    assert deployment_networks(stack) == []  # auto made none on this engine


def engine_isolates_its_default_bridge() -> bool:
    client = docker.from_env()
    try:
        return icc_is_off(client.api.inspect_network(DEFAULT_BRIDGE))
    finally:
        client.close()


def deployment_networks(stack: Stack) -> list[dict[str, Any]]:
    """The stack's networks, inspected (with their containers)."""
    client = docker.from_env()
    try:
        label = f"org.pods-service.deployment={stack.deployment_id}"
        return [
            client.api.inspect_network(n.id) for n in client.networks.list(filters={"label": label})
        ]
    finally:
        client.close()


def _answers(stack: Stack, host: str) -> bool:
    try:
        return "pods-http" in https_get(stack, host)
    except (AssertionError, OSError):
        return False


def test_pod_containers_are_hardened(t: Tapis, stack: Stack) -> None:
    container = running(stack, t, pod_id="hardpod", image="pods-http:latest")
    host = container.attrs["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert "NET_RAW" not in (host["CapAdd"] or [])
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["PidsLimit"] == 1024
    assert host["Privileged"] is False
    assert not host.get("Binds")
    code, output = container.exec_run(["/bin/busybox", "grep", "NoNewPrivs", "/proc/self/status"])
    assert code == 0 and output.split()[-1] == b"1", output
    t.pods.delete_pod(pod_id="hardpod")
    eventually(lambda: not stack.containers("hardpod"), 60, "hardpod removed")


def test_a_read_only_root_template_runs_its_pods_read_only(t: Tapis, stack: Stack) -> None:
    admin_token = stack.token("adminuser", "adminpass")
    template = {"template_id": "staticweb", "image": "pods-http:latest", "read_only_root": True}
    status, _, body = stack.request(
        "POST", "/v3/pods/templates", json.dumps(template).encode(), token=admin_token
    )
    assert status == 200, body
    assert isinstance(body, dict) and body["result"]["read_only_root"] is True
    status, _, body = stack.request(
        "POST",
        "/v3/pods/templates/staticweb/permissions",
        json.dumps({"user": "testuser", "level": "USER"}).encode(),
        token=admin_token,
    )
    assert status == 200, body
    container = running(stack, t, pod_id="rootro", template="staticweb")  # pods-http: /tmp only
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert set(host["Tmpfs"]) == {"/tmp", "/run"}
    code, output = container.exec_run(["/bin/busybox", "touch", "/etc/written"])
    assert code != 0 and b"Read-only file system" in output, output
    t.pods.delete_pod(pod_id="rootro")
    eventually(lambda: not stack.containers("rootro"), 60, "rootro removed")
