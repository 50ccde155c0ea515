"""DockerRuntime isolates and hardens pod containers, against the real Docker engine: in both
network modes pods (also one user's) cannot reach each other while their published ports
answer; by default the deployment's pods share one labelled bridge with inter-container
traffic off, which outlives them; in the per-pod mode each has a labelled bridge of its own,
removed with it; capabilities, no-new-privileges, pids limit, read-only root; the real
pods-postgres image still starts and stops cleanly under them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.naming import container_name, labels_for, with_hash
from services.common.runtime.types import LABEL_DEPLOYMENT, ContainerSpec, PodKey, PortSpec
from services.spawner.platforms.docker.network import network_name
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.docker.shared_network import shared_network_name
from services.spawner.platforms.hardening import ROOT_STEP_DOWN_CAPABILITIES

from .conftest import remove_deployment, runtime_in
from .test_docker_runtime import KEY, get_when_ready, shell, wait_for, web

pytestmark = pytest.mark.docker

# busybox wget's own -T segfaults (busybox 1.35 static); an address that drops packets would
# make it wait for the TCP timeout, so `timeout` ends it.
WGET = ["/bin/busybox", "timeout", "5", "/bin/busybox", "wget", "-q", "-O", "-"]
SIDE = "side-door"
# Serves SIDE on a local_only port 6000 next to httpd on 5000.
TWO_PORTS = (
    f"mkdir -p /tmp/side /tmp/www && echo {SIDE} > /tmp/side/index.html"
    " && echo main > /tmp/www/index.html && httpd -p 6000 -h /tmp/side"
    " && exec httpd -f -p 5000 -h /tmp/www"
)
POSTGRES_IMAGE = "pods-postgres:15"


def our_networks(client: docker.DockerClient, deployment_id: str) -> list[dict[str, object]]:
    label = f"{LABEL_DEPLOYMENT}={deployment_id}"
    found: list[dict[str, object]] = client.api.networks(filters={"label": label})
    return found


def two_ports(image: str, key: PodKey) -> ContainerSpec:
    return dataclasses.replace(
        shell(image, TWO_PORTS, key),
        ports=(PortSpec("web", 5000, "http"), PortSpec("side", 6000, "local_only")),
    )


async def fetch(runtime: DockerRuntime, key: PodKey, url: str) -> tuple[int | None, str]:
    result = await runtime.exec(key, [*WGET, url], 20, 4096)
    return result.exit_code, result.stdout


def address(client: docker.DockerClient, deployment_id: str, key: PodKey) -> str:
    attrs = client.api.inspect_container(container_name(deployment_id, key))
    (network,) = attrs["NetworkSettings"]["Networks"].values()
    return str(network["IPAddress"])


@pytest.fixture
def per_pod(docker_client: docker.DockerClient, deployment_id: str) -> Iterator[DockerRuntime]:
    """A runtime in the per-pod network mode (a bridge of its own for each pod)."""
    yield from runtime_in(docker_client, deployment_id, "per-pod")


@pytest.fixture
def shared(docker_client: docker.DockerClient, deployment_id: str) -> Iterator[DockerRuntime]:
    """A runtime in the shared network mode (one bridge for all of the deployment's pods)."""
    yield from runtime_in(docker_client, deployment_id, "shared")


@pytest.fixture(params=["shared", "per-pod"])
def either(
    request: pytest.FixtureRequest, docker_client: docker.DockerClient, deployment_id: str
) -> Iterator[DockerRuntime]:
    """A runtime in each network mode in turn."""
    yield from runtime_in(docker_client, deployment_id, request.param)


def assert_a_pod_network(network: dict[str, Any]) -> None:
    assert network["Driver"] == "bridge"
    assert network["Internal"] is False  # the pod reaches the outside world
    assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"
    assert network["Options"]["com.docker.network.bridge.host_binding_ipv4"] == "127.0.0.1"


class TestIsolationInEitherMode:
    async def test_pods_of_one_user_cannot_reach_each_other_and_the_gateway_reaches_both(
        self, either: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        a, b = PodKey("dev", "a"), PodKey("dev", "b")  # the same tenant and user
        state_a = (await either.ensure(two_ports(test_image, a))).state
        state_b = (await either.ensure(two_ports(test_image, b))).state
        a_ip = address(docker_client, either.deployment_id, a)
        b_ip = address(docker_client, either.deployment_id, b)

        async def side_of_b_answers() -> None:
            while SIDE not in (await fetch(either, b, f"http://{b_ip}:6000/"))[1]:
                await asyncio.sleep(0.2)

        async with asyncio.timeout(20):
            await side_of_b_answers()  # control: B serves both ports on its address
        assert (await fetch(either, a, f"http://{a_ip}:5000/"))[1] == "main\n"  # control
        for port in (5000, 6000):
            code, output = await fetch(either, a, f"http://{b_ip}:{port}/")
            assert code != 0 and output == "", f"pod a reached pod b on port {port}"
        # The gateway's way in: the ports published on 127.0.0.1.
        assert await get_when_ready(state_a.published[5000])
        assert await get_when_ready(state_b.published[5000])

    async def test_ensure_is_idempotent_and_concurrent_ensures_make_one_network(
        self, either: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        mode = either._choice.mode
        others = [DockerRuntime(either.deployment_id, network_mode=mode) for _ in range(2)]
        try:
            await asyncio.gather(*(r.ensure(web(test_image)) for r in (either, *others)))
        finally:
            for other in others:
                other.close()
        assert (await either.ensure(web(test_image))).action == "adopted"
        assert len(our_networks(docker_client, either.deployment_id)) == 1

    async def test_a_container_on_the_default_bridge_is_replaced(
        self, either: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        # What an earlier version created: same labels and spec hash, default bridge.
        spec = with_hash(web(test_image))
        old = docker_client.containers.create(
            test_image,
            name=container_name(either.deployment_id, KEY),
            labels=labels_for(either.deployment_id, KEY, spec.spec_hash),
        )
        old.start()
        result = await either.ensure(spec)
        assert result.action == "replaced"
        attrs = docker_client.api.inspect_container(result.state.name)
        assert attrs["Id"] != old.id
        (network,) = attrs["NetworkSettings"]["Networks"]
        assert network != "bridge"


class TestSharedNetwork:
    """The shared mode: one bridge for all of the deployment's pods."""

    async def test_two_pods_share_the_deployment_s_labelled_bridge_which_outlives_them(
        self, shared: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        a, b = PodKey("dev", "a"), PodKey("other", "b")
        state_a = (await shared.ensure(web(test_image, a))).state
        state_b = (await shared.ensure(web(test_image, b))).state
        name = shared_network_name(shared.deployment_id)
        (network,) = our_networks(docker_client, shared.deployment_id)
        assert network["Name"] == name
        assert network["Labels"] == {
            LABEL_DEPLOYMENT: shared.deployment_id,
            "org.pods-service.network": "shared",
        }
        attrs = docker_client.api.inspect_network(name)
        assert_a_pod_network(attrs)
        for state in (state_a, state_b):
            container = docker_client.api.inspect_container(state.name)
            assert list(container["NetworkSettings"]["Networks"]) == [name]
        assert len(attrs["Containers"]) == 2

        assert await shared.remove(a) is True
        attrs = docker_client.api.inspect_network(name)  # still there, with B alone on it
        assert list(attrs["Containers"]) == [
            docker_client.api.inspect_container(state_b.name)["Id"]
        ]
        assert await shared.remove(b) is True
        assert docker_client.api.inspect_network(name)["Containers"] == {}  # kept, empty
        assert await shared.remove(b) is False
        # The next pod joins the same network.
        await shared.ensure(web(test_image, a))
        assert [n["Id"] for n in our_networks(docker_client, shared.deployment_id)] == [
            network["Id"]
        ]

    async def test_a_shared_network_removed_behind_the_runtime_s_back_is_made_again(
        self, shared: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        await shared.ensure(web(test_image))
        await shared.remove(KEY)
        (network,) = our_networks(docker_client, shared.deployment_id)
        docker_client.api.remove_network(network["Id"])
        with pytest.raises(TemporaryError):  # the remembered id is gone: forgotten
            await shared.ensure(web(test_image))
        state = (await shared.ensure(web(test_image))).state  # the command's retry
        assert await get_when_ready(state.published[5000])
        (again,) = our_networks(docker_client, shared.deployment_id)
        assert again["Id"] != network["Id"]

    async def test_a_foreign_network_with_the_shared_name_is_left_alone(
        self, shared: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        name = shared_network_name(shared.deployment_id)
        foreign = docker_client.api.create_network(name, driver="bridge")
        try:
            with pytest.raises(PermanentError, match=r"network .* left untouched"):
                await shared.ensure(web(test_image))
            assert await shared.inspect(KEY) is None
            assert docker_client.api.inspect_network(name)["Id"] == foreign["Id"]
        finally:
            docker_client.api.remove_network(foreign["Id"])

    async def test_a_pod_made_in_per_pod_mode_is_kept_and_its_network_removed_with_it(
        self,
        per_pod: DockerRuntime,
        shared: DockerRuntime,
        test_image: str,
        docker_client: docker.DockerClient,
    ) -> None:
        state = (await per_pod.ensure(web(test_image))).state
        before = docker_client.api.inspect_container(state.name)["Id"]
        result = await shared.ensure(web(test_image))  # the mode switched to shared
        assert result.action == "adopted"
        assert docker_client.api.inspect_container(state.name)["Id"] == before
        assert await shared.remove(KEY) is True
        assert our_networks(docker_client, shared.deployment_id) == []


class TestPerPodNetwork:
    async def test_a_pod_runs_alone_on_its_own_labelled_bridge(
        self, per_pod: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        state = (await per_pod.ensure(web(test_image))).state
        assert await get_when_ready(state.published[5000])  # the gateway's way in still works
        name = network_name(per_pod.deployment_id, KEY)
        attrs = docker_client.api.inspect_container(state.name)
        assert list(attrs["NetworkSettings"]["Networks"]) == [name]
        network = docker_client.api.inspect_network(name)
        assert_a_pod_network(network)
        labels = labels_for(per_pod.deployment_id, KEY, "")
        del labels["org.pods-service.spec-hash"]
        assert network["Labels"] == labels
        assert list(network["Containers"]) == [attrs["Id"]]

    async def test_remove_removes_the_network_too(
        self, per_pod: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        await per_pod.ensure(web(test_image))
        assert len(our_networks(docker_client, per_pod.deployment_id)) == 1
        assert await per_pod.remove(KEY) is True
        assert our_networks(docker_client, per_pod.deployment_id) == []
        assert await per_pod.remove(KEY) is False

    async def test_a_network_left_without_its_container_is_removed_with_the_pod(
        self, per_pod: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        await per_pod.ensure(web(test_image))
        docker_client.api.remove_container(container_name(per_pod.deployment_id, KEY), force=True)
        assert await per_pod.remove(KEY) is True
        assert our_networks(docker_client, per_pod.deployment_id) == []

    async def test_a_pod_whose_image_is_missing_keeps_no_network(
        self, per_pod: DockerRuntime, docker_client: docker.DockerClient
    ) -> None:
        with pytest.raises(PermanentError, match="is not available"):
            await per_pod.ensure(ContainerSpec(key=KEY, image="pods-no-such-image:never"))
        assert our_networks(docker_client, per_pod.deployment_id) == []

    async def test_foreign_network_with_our_name_is_left_alone(
        self, per_pod: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        name = network_name(per_pod.deployment_id, KEY)
        foreign = docker_client.api.create_network(name, driver="bridge")
        try:
            with pytest.raises(PermanentError, match=r"network .* left untouched"):
                await per_pod.ensure(web(test_image))
            assert await per_pod.inspect(KEY) is None
            await per_pod.remove(KEY)
            assert docker_client.api.inspect_network(name)["Id"] == foreign["Id"]
        finally:
            docker_client.api.remove_network(foreign["Id"])


class TestHardening:
    async def test_host_config_is_hardened(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        state = (await runtime.ensure(web(test_image))).state
        host = docker_client.api.inspect_container(state.name)["HostConfig"]
        assert host["CapDrop"] == ["ALL"]
        assert sorted(host["CapAdd"]) == sorted(ROOT_STEP_DOWN_CAPABILITIES)
        assert host["SecurityOpt"] == ["no-new-privileges:true"]
        assert host["PidsLimit"] == 1024
        assert host["Privileged"] is False
        assert not host["Binds"] and not host.get("Mounts")
        assert host["ReadonlyRootfs"] is False  # a custom image may write anywhere
        status = await runtime.exec(KEY, ["/bin/busybox", "cat", "/proc/self/status"], 10, 8192)
        fields = dict(line.split(":\t", 1) for line in status.stdout.splitlines() if ":\t" in line)
        assert fields["NoNewPrivs"].strip() == "1"
        assert int(fields["CapBnd"], 16) & (1 << 13) == 0  # CAP_NET_RAW is gone

    async def test_the_pids_limit_stops_a_process_flood(
        self, docker_client: docker.DockerClient, deployment_id: str, test_image: str
    ) -> None:
        runtime = DockerRuntime(deployment_id, pids_limit=40)
        try:
            flood = "for i in $(seq 200); do sleep 100 & done; wait"
            await runtime.ensure(shell(test_image, flood))
            key = KEY

            async def refused() -> bool:
                chunk = await runtime.logs_since(key, "", 65536)
                return "can't fork" in chunk.text or "Resource temporarily" in chunk.text

            async with asyncio.timeout(20):
                while not await refused():
                    await asyncio.sleep(0.2)
            attrs = docker_client.api.inspect_container(container_name(deployment_id, key))
            assert attrs["HostConfig"]["PidsLimit"] == 40
        finally:
            runtime.close()
            remove_deployment(docker_client, deployment_id)

    async def test_a_read_only_root_keeps_tmp_and_run_writable(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        spec = dataclasses.replace(
            shell(test_image, "touch /tmp/ok /run/ok && touch /etc/nope; sleep 600"),
            read_only_root=True,
        )
        state = (await runtime.ensure(spec)).state
        host = docker_client.api.inspect_container(state.name)["HostConfig"]
        assert host["ReadonlyRootfs"] is True
        assert set(host["Tmpfs"]) == {"/tmp", "/run"}

        async def logged() -> str:
            return (await runtime.logs_since(KEY, "", 4096)).text

        async with asyncio.timeout(20):
            while "Read-only file system" not in await logged():
                await asyncio.sleep(0.2)
        listing = await runtime.exec(KEY, ["/bin/busybox", "ls", "/tmp/ok", "/run/ok"], 10, 4096)
        assert listing.exit_code == 0, listing

    async def test_postgres_starts_and_stops_cleanly_under_the_hardening(
        self, runtime: DockerRuntime, docker_client: docker.DockerClient
    ) -> None:
        try:
            docker_client.images.get(POSTGRES_IMAGE)
        except docker.errors.ImageNotFound:
            pytest.skip(f"{POSTGRES_IMAGE} is not built (scripts/build-images)")
        spec = ContainerSpec(
            key=KEY,
            image=POSTGRES_IMAGE,
            environment={"POSTGRES_PASSWORD": "x" * 16},
            ports=(PortSpec("default", 5432, "postgres"),),
            cpu_limit_millis=500,
            mem_limit_mib=256,
        )
        state = (await runtime.ensure(spec)).state

        async def logged() -> str:
            return (await runtime.logs_since(KEY, "", 1 << 20)).text

        ready = "database system is ready to accept connections"
        async with asyncio.timeout(60):  # the first "ready" is initdb's temporary server
            while (await logged()).count(ready) < 2:
                await asyncio.sleep(0.3)
        # A graceful stop needs KILL (the root init forwarding SIGTERM to the postgres user).
        await asyncio.to_thread(docker_client.api.stop, state.name, 20)
        await wait_for(runtime, KEY, lambda s: s.exit_code is not None)
        text = await logged()
        assert "database system is shut down" in text, text[-2000:]
        assert "Unexpected error when forwarding signal" not in text
