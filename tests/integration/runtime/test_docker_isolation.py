"""DockerRuntime isolates and hardens pod containers, against the real Docker engine: one
labelled bridge network per pod (pods cannot reach each other), removed with the pod;
capabilities, no-new-privileges, pids limit, read-only root; the real pods-postgres image
still starts and stops cleanly under them."""

from __future__ import annotations

import asyncio
import dataclasses

import docker
import docker.errors
import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.naming import container_name, labels_for, with_hash
from services.common.runtime.types import LABEL_DEPLOYMENT, ContainerSpec, PodKey, PortSpec
from services.spawner.platforms.docker.network import network_name
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.hardening import ROOT_STEP_DOWN_CAPABILITIES

from .conftest import remove_deployment
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


class TestNetwork:
    async def test_a_pod_runs_alone_on_its_own_labelled_bridge(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        state = (await runtime.ensure(web(test_image))).state
        assert await get_when_ready(state.published[5000])  # the gateway's way in still works
        name = network_name(runtime.deployment_id, KEY)
        attrs = docker_client.api.inspect_container(state.name)
        assert list(attrs["NetworkSettings"]["Networks"]) == [name]
        network = docker_client.api.inspect_network(name)
        assert network["Driver"] == "bridge"
        assert network["Internal"] is False  # the pod reaches the outside world
        assert network["Options"]["com.docker.network.bridge.enable_icc"] == "false"
        assert network["Options"]["com.docker.network.bridge.host_binding_ipv4"] == "127.0.0.1"
        labels = labels_for(runtime.deployment_id, KEY, "")
        del labels["org.pods-service.spec-hash"]
        assert network["Labels"] == labels
        assert list(network["Containers"]) == [attrs["Id"]]

    async def test_pods_cannot_reach_each_other(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        a, b = PodKey("dev", "a"), PodKey("dev", "b")
        await runtime.ensure(two_ports(test_image, a))
        await runtime.ensure(two_ports(test_image, b))
        a_ip = address(docker_client, runtime.deployment_id, a)
        b_ip = address(docker_client, runtime.deployment_id, b)

        async def side_of_b_answers() -> None:
            while SIDE not in (await fetch(runtime, b, f"http://{b_ip}:6000/"))[1]:
                await asyncio.sleep(0.2)

        async with asyncio.timeout(20):
            await side_of_b_answers()  # control: B serves both ports on its address
        assert (await fetch(runtime, a, f"http://{a_ip}:5000/"))[1] == "main\n"  # control
        for port in (5000, 6000):
            code, output = await fetch(runtime, a, f"http://{b_ip}:{port}/")
            assert code != 0 and output == "", f"pod a reached pod b on port {port}"

    async def test_ensure_is_idempotent_and_concurrent_ensures_make_one_network(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        others = [DockerRuntime(runtime.deployment_id) for _ in range(2)]
        try:
            await asyncio.gather(*(r.ensure(web(test_image)) for r in (runtime, *others)))
        finally:
            for other in others:
                other.close()
        assert (await runtime.ensure(web(test_image))).action == "adopted"
        assert len(our_networks(docker_client, runtime.deployment_id)) == 1

    async def test_remove_removes_the_network_too(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        await runtime.ensure(web(test_image))
        assert len(our_networks(docker_client, runtime.deployment_id)) == 1
        assert await runtime.remove(KEY) is True
        assert our_networks(docker_client, runtime.deployment_id) == []
        assert await runtime.remove(KEY) is False

    async def test_a_network_left_without_its_container_is_removed_with_the_pod(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        await runtime.ensure(web(test_image))
        docker_client.api.remove_container(container_name(runtime.deployment_id, KEY), force=True)
        assert await runtime.remove(KEY) is True
        assert our_networks(docker_client, runtime.deployment_id) == []

    async def test_a_pod_whose_image_is_missing_keeps_no_network(
        self, runtime: DockerRuntime, docker_client: docker.DockerClient
    ) -> None:
        with pytest.raises(PermanentError, match="is not available"):
            await runtime.ensure(ContainerSpec(key=KEY, image="pods-no-such-image:never"))
        assert our_networks(docker_client, runtime.deployment_id) == []

    async def test_foreign_network_with_our_name_is_left_alone(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        name = network_name(runtime.deployment_id, KEY)
        foreign = docker_client.api.create_network(name, driver="bridge")
        try:
            with pytest.raises(PermanentError, match=r"network .* left untouched"):
                await runtime.ensure(web(test_image))
            assert await runtime.inspect(KEY) is None
            await runtime.remove(KEY)
            assert docker_client.api.inspect_network(name)["Id"] == foreign["Id"]
        finally:
            docker_client.api.remove_network(foreign["Id"])

    async def test_a_container_on_the_default_bridge_is_replaced(
        self, runtime: DockerRuntime, test_image: str, docker_client: docker.DockerClient
    ) -> None:
        # What an earlier version created: same labels and spec hash, default bridge.
        spec = with_hash(web(test_image))
        old = docker_client.containers.create(
            test_image,
            name=container_name(runtime.deployment_id, KEY),
            labels=labels_for(runtime.deployment_id, KEY, spec.spec_hash),
        )
        old.start()
        result = await runtime.ensure(spec)
        assert result.action == "replaced"
        attrs = docker_client.api.inspect_container(result.state.name)
        assert attrs["Id"] != old.id
        assert list(attrs["NetworkSettings"]["Networks"]) == [
            network_name(runtime.deployment_id, KEY)
        ]


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
