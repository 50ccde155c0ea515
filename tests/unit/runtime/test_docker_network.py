"""The pod network's pure parts and its error translation, without a Docker engine (the
engine itself: tests/integration/runtime/test_docker_isolation.py)."""

from __future__ import annotations

import re
from typing import Any

import docker.errors
import pytest
import requests

from services.common.outcomes import PermanentError, TemporaryError
from services.common.runtime.types import PodKey
from services.spawner.platforms.docker.network import (
    BRIDGE_NAME_OPTION,
    BRIDGE_PREFIX,
    PodNetworks,
    bridge_options,
    create_network_kwargs,
    network_name,
)

KEY = PodKey("dev", "web1")


def test_create_network_kwargs() -> None:
    kwargs = create_network_kwargs("local", KEY)
    assert re.fullmatch(r"podsbr[0-9a-f]{9}", kwargs["options"].pop(BRIDGE_NAME_OPTION))
    assert kwargs == {
        "name": "pods-local-dev-web1",
        "driver": "bridge",
        "options": {
            "com.docker.network.bridge.enable_icc": "false",
            "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
        },
        "check_duplicate": True,
        "internal": False,  # pods reach the outside world
        "labels": {
            "org.pods-service.deployment": "local",
            "org.pods-service.tenant": "dev",
            "org.pods-service.pod": "web1",
        },
    }
    assert network_name("local", KEY) == "pods-local-dev-web1"


def test_every_new_network_gets_a_bridge_name_of_its_own_under_the_guarded_prefix() -> None:
    names = {bridge_options()[BRIDGE_NAME_OPTION] for _ in range(50)}
    assert len(names) == 50
    assert all(name.startswith(BRIDGE_PREFIX) and len(name) == 15 for name in names)


class _ExhaustedApi:
    """An engine whose address pools are used up."""

    def networks(self, names: list[str]) -> list[dict[str, Any]]:
        return []

    def create_network(self, **kwargs: Any) -> dict[str, Any]:
        response = requests.Response()
        response.status_code = 400
        raise docker.errors.APIError(
            "400 Client Error",
            response,
            explanation="could not find an available, non-overlapping IPv4 address pool "
            "among the defaults to assign to the network",
        )


def test_exhausted_address_pools_are_a_temporary_error_naming_the_flag() -> None:
    with pytest.raises(TemporaryError, match="--default-address-pool") as info:
        PodNetworks("local", _ExhaustedApi()).ensure(KEY)
    assert info.value.delay == 30.0


class _ForeignApi:
    def networks(self, names: list[str]) -> list[dict[str, Any]]:
        return [{"Name": names[0], "Id": "n1", "Created": "t", "Labels": {}}]


def test_a_foreign_network_of_our_name_is_refused() -> None:
    with pytest.raises(PermanentError, match="left untouched"):
        PodNetworks("local", _ForeignApi()).ensure(KEY)
