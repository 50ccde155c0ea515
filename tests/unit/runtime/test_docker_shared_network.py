"""The deployment's shared pod network (shared_network.py) without a Docker engine: its name,
labels and creation arguments, and how it is found, made, adopted or refused (the engine
itself: tests/integration/runtime/test_docker_shared_network.py)."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest
import requests

from services.common.outcomes import PermanentError, TemporaryError
from services.common.settings import Settings, SettingsError
from services.spawner.platforms.docker.network import BRIDGE_NAME_OPTION, BRIDGE_PREFIX
from services.spawner.platforms.docker.network_pool import NetworkPool
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.docker.shared_network import (
    SharedNetwork,
    create_shared_network_kwargs,
    pods_held,
    shared_network_name,
)
from services.spawner.platforms.factory import runtime_from_settings

NAME = "pods-local.shared"
OURS = {"org.pods-service.deployment": "local", "org.pods-service.network": "shared"}


def api_error(status: int, explanation: str) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError(f"{status} error", response, explanation=explanation)


class FakeApi:
    """An engine's network calls: `existing` networks, and what a create does."""

    def __init__(self, existing: list[dict[str, Any]] | None = None) -> None:
        self.existing = list(existing or [])
        self.created: list[dict[str, Any]] = []
        self.removed: list[str] = []
        self.removed_containers: list[str] = []
        self.listings = 0
        self.on_create: Exception | None = None
        self.also_created_by_another: dict[str, Any] | None = None

    def networks(self, names: list[str]) -> list[dict[str, Any]]:
        self.listings += 1
        # Docker's name filter matches parts of names.
        return [n for n in self.existing if names[0] in n["Name"]]

    def create_network(self, **kwargs: Any) -> dict[str, Any]:
        self.created.append(kwargs)
        if self.on_create is not None:
            raise self.on_create
        network = {"Name": kwargs["name"], "Id": f"new{len(self.created)}", "Created": "t2"}
        network["Labels"] = kwargs["labels"]
        self.existing.append(network)
        if self.also_created_by_another is not None:
            self.existing.append(self.also_created_by_another)
        return {"Id": network["Id"]}

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        (network,) = [n for n in self.existing if n["Id"] == network_id]
        return {"Containers": {}, **network}

    def remove_network(self, network_id: str) -> None:
        self.removed.append(network_id)

    def remove_container(self, container_id: str, **kwargs: Any) -> None:
        self.removed_containers.append(container_id)


def shared(api: FakeApi, subnet: str = "") -> SharedNetwork:
    return SharedNetwork("local", lambda: api, subnet)


def test_the_name_cannot_be_a_pod_network_or_another_deployment_s() -> None:
    assert shared_network_name("local") == NAME
    assert shared_network_name("a-b") == "pods-a-b.shared"  # '.' is never in an id
    with pytest.raises(ValueError, match="deployment id"):
        shared_network_name("Bad.Id")


def test_create_kwargs_are_a_pod_network_s_with_the_deployment_label() -> None:
    kwargs = create_shared_network_kwargs("local")
    assert kwargs["options"].pop(BRIDGE_NAME_OPTION).startswith(BRIDGE_PREFIX)
    assert kwargs == {
        "name": NAME,
        "driver": "bridge",
        "options": {
            "com.docker.network.bridge.enable_icc": "false",  # the isolation of pods
            "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
        },
        "check_duplicate": True,
        "internal": False,  # pods reach the outside world
        "labels": OURS,
    }


def test_a_subnet_when_given_is_the_network_s_ipam() -> None:
    kwargs = create_shared_network_kwargs("local", "10.204.0.0/16")
    assert [pool["Subnet"] for pool in kwargs["ipam"]["Config"]] == ["10.204.0.0/16"]
    with pytest.raises(ValueError):
        shared(FakeApi(), "10.204.0.1/16")  # not a network address


def test_a_small_subnet_is_logged_as_a_warning_naming_the_setting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ipam = {"Config": [{"Subnet": "10.200.0.0/26", "Gateway": "10.200.0.1"}]}
    api = FakeApi([{"Name": NAME, "Id": "old", "Created": "t1", "Labels": OURS, "IPAM": ipam}])
    shared(api).ensure()
    assert "at most 61 pods" in caplog.text and "PODS_DOCKER_NETWORK_SUBNET" in caplog.text
    assert pods_held("10.204.0.0/16") == 65533
    assert pods_held("fd00::/64") is None


def test_it_is_created_once_then_remembered() -> None:
    api = FakeApi()
    network = shared(api)
    assert network.ensure() == "new1"
    listings = api.listings
    assert network.ensure() == "new1"
    assert len(api.created) == 1 and api.listings == listings  # no engine call the second time


def test_an_existing_network_of_ours_is_adopted() -> None:
    api = FakeApi([{"Name": NAME, "Id": "old", "Created": "t1", "Labels": OURS}])
    assert shared(api).ensure() == "old"
    assert api.created == []


def test_a_network_whose_name_only_contains_ours_is_not_it() -> None:
    api = FakeApi([{"Name": NAME + "x", "Id": "other", "Created": "t1", "Labels": OURS}])
    assert shared(api).ensure() == "new1"


def test_a_concurrent_creator_s_network_is_adopted_after_a_409() -> None:
    api = FakeApi()
    api.on_create = api_error(409, "network with name pods-local.shared already exists")
    listings: list[list[dict[str, Any]]] = [[]]

    def networks(names: list[str]) -> list[dict[str, Any]]:
        found = (
            listings.pop()
            if listings
            else [{"Name": NAME, "Id": "theirs", "Created": "t1", "Labels": OURS}]
        )
        return found

    api.networks = networks  # type: ignore[method-assign]
    assert shared(api).ensure() == "theirs"


def test_when_two_creators_both_succeed_the_oldest_is_used_and_the_other_removed() -> None:
    api = FakeApi()
    api.also_created_by_another = {"Name": NAME, "Id": "theirs", "Created": "t1", "Labels": OURS}
    assert shared(api).ensure() == "theirs"  # the oldest
    assert api.removed == ["new1"]  # empty


def test_a_twin_that_holds_containers_is_left_until_it_is_empty() -> None:
    twin = {"Name": NAME, "Id": "twin", "Created": "t2", "Labels": OURS, "Containers": {"c": {}}}
    api = FakeApi([{"Name": NAME, "Id": "old", "Created": "t1", "Labels": OURS}, twin])
    assert shared(api).ensure() == "old"
    assert api.removed == []


def test_a_foreign_network_with_the_name_is_refused_and_left_alone() -> None:
    api = FakeApi([{"Name": NAME, "Id": "foreign", "Created": "t1", "Labels": {}}])
    with pytest.raises(PermanentError, match="did not create; it is left untouched"):
        shared(api).ensure()
    assert api.created == [] and api.removed == []
    other = {"org.pods-service.deployment": "other"}
    api = FakeApi([{"Name": NAME, "Id": "foreign", "Created": "t1", "Labels": other}])
    with pytest.raises(PermanentError):
        shared(api).ensure()


def test_forget_makes_the_next_ensure_look_again() -> None:
    api = FakeApi()
    network = shared(api)
    network.ensure()
    api.existing.clear()  # removed behind our back
    network.forget()
    assert network.ensure() == "new2"


def test_exhausted_address_pools_are_a_temporary_error_naming_the_setting() -> None:
    api = FakeApi()
    api.on_create = api_error(
        400, "could not find an available, non-overlapping IPv4 address pool among the defaults"
    )
    with pytest.raises(TemporaryError, match="PODS_DOCKER_NETWORK_SUBNET"):
        shared(api).ensure()


def test_an_overlapping_subnet_is_a_permanent_error_naming_the_setting() -> None:
    api = FakeApi()
    api.on_create = api_error(403, "Pool overlaps with other one on this address space")
    with pytest.raises(PermanentError, match=r"PODS_DOCKER_NETWORK_SUBNET 10\.204\.0\.0/16"):
        shared(api, "10.204.0.0/16").ensure()


def test_other_engine_refusals_pass_through() -> None:
    api = FakeApi()
    api.on_create = api_error(500, "something else")
    with pytest.raises(docker.errors.APIError):
        shared(api).ensure()


def test_a_full_subnet_at_start_is_a_temporary_error_naming_the_setting() -> None:
    network = shared(FakeApi())
    full = api_error(500, "no available IPv4 addresses on this network's address pools: x (id)")
    expected = pytest.raises(TemporaryError, match="PODS_DOCKER_NETWORK_SUBNET")
    with expected as info, network.starting("c1"):
        raise full
    assert info.value.delay == 30.0


def test_a_network_gone_at_start_is_forgotten_with_the_container_that_cannot_start() -> None:
    api = FakeApi()
    network = shared(api)
    assert network.ensure() == "new1"
    api.existing.clear()  # removed behind our back
    gone = docker.errors.NotFound("404", explanation="network new1 not found")
    with pytest.raises(TemporaryError, match="not found"), network.starting("c1"):
        raise gone
    assert api.removed_containers == ["c1"]
    assert network.ensure() == "new2"


def test_two_networks_of_the_name_at_start_are_a_temporary_error_that_looks_again() -> None:
    api = FakeApi()
    network = shared(api)
    network.ensure()
    twins = api_error(400, "network pods-local.shared is ambiguous (2 matches found on name)")
    with pytest.raises(TemporaryError, match="ambiguous"), network.starting("c1"):
        raise twins
    assert api.removed_containers == ["c1"]
    listings = api.listings
    network.ensure()
    assert api.listings > listings


def test_other_start_errors_pass_unchanged() -> None:
    api = FakeApi()
    network = shared(api)
    other = api_error(500, "another failure")
    with pytest.raises(docker.errors.APIError) as raised, network.starting("c1"):
        raise other
    assert raised.value is other
    assert api.removed_containers == []


class TestRuntimeModes:
    def test_an_unknown_mode_is_refused(self) -> None:
        with pytest.raises(ValueError, match="network_mode"):
            DockerRuntime("local", client=object(), network_mode="bridge")

    def test_warm_networks_are_for_the_per_pod_mode_only(self) -> None:
        with pytest.raises(ValueError, match="per-pod"):
            DockerRuntime("local", client=object(), network_pool=2)


class TestSettings:
    def test_the_shared_mode_keeps_no_warm_networks(self) -> None:
        settings = Settings.from_env(
            {"PODS_DEPLOYMENT_ID": "local", "PODS_DOCKER_NETWORK_MODE": "shared"}
        )
        runtime = runtime_from_settings(settings, creates=True)
        assert isinstance(runtime, DockerRuntime)
        try:
            assert runtime._choice._shared is not None and runtime._choice._shared.name == NAME
            assert runtime._pool.size == 0  # PODS_DOCKER_NETWORK_POOL (2) is per-pod only
        finally:
            runtime.close()

    def test_the_per_pod_mode_keeps_the_warm_networks_of_its_setting(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(NetworkPool, "start", lambda self: None)  # no engine in unit tests
        settings = Settings.from_env(
            {"PODS_DEPLOYMENT_ID": "local", "PODS_DOCKER_NETWORK_MODE": "per-pod"}
        )
        runtime = runtime_from_settings(settings, creates=True)
        assert isinstance(runtime, DockerRuntime)
        try:
            assert runtime._choice._shared is None and runtime._pool.size == 2
        finally:
            runtime.close()

    def test_another_mode_is_refused_by_the_settings(self) -> None:
        with pytest.raises(SettingsError, match="PODS_DOCKER_NETWORK_MODE"):
            Settings.from_env({"PODS_DOCKER_NETWORK_MODE": "bridge"})
