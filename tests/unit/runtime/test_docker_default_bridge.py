"""The default-bridge network mode's check, without a Docker engine (the engine itself:
tests/integration/runtime/test_docker_default_bridge.py): a pod joins Docker's default bridge
only while the engine keeps its containers apart, and is refused with the flag to set
otherwise; the runtime takes no warm networks in this mode."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.outcomes import PermanentError
from services.spawner.platforms.docker.default_bridge import (
    DEFAULT_BRIDGE,
    DefaultBridge,
    icc_is_off,
)
from services.spawner.platforms.docker.runtime import DockerRuntime


class Engine:
    def __init__(self, icc: str | None) -> None:
        self.icc = icc
        self.inspected: list[str] = []

    def inspect_network(self, name: str) -> dict[str, Any]:
        self.inspected.append(name)
        options = {} if self.icc is None else {"com.docker.network.bridge.enable_icc": self.icc}
        return {"Name": name, "Options": options}


def test_an_engine_started_with_icc_off_lets_pods_join_its_default_bridge() -> None:
    engine = Engine("false")
    assert DefaultBridge(lambda: engine).ensure() == DEFAULT_BRIDGE == "bridge"
    assert engine.inspected == ["bridge"]


@pytest.mark.parametrize("icc", ["true", None])
def test_an_engine_whose_bridge_lets_containers_talk_is_refused_naming_the_flag(
    icc: str | None,
) -> None:
    engine = Engine(icc)
    with pytest.raises(PermanentError, match="--icc=false"):
        DefaultBridge(lambda: engine).ensure()
    assert not DefaultBridge(lambda: engine).isolates()


def test_the_check_is_made_at_every_use_so_an_engine_restarted_without_the_flag_is_seen() -> None:
    engine = Engine("false")
    bridge = DefaultBridge(lambda: engine)
    assert bridge.isolates()
    engine.icc = "true"
    assert not bridge.isolates()


def test_only_the_string_false_means_off() -> None:
    assert icc_is_off({"Options": {"com.docker.network.bridge.enable_icc": "false"}})
    assert not icc_is_off({"Options": {"com.docker.network.bridge.enable_icc": "0"}})
    assert not icc_is_off({})


def test_warm_networks_are_refused_in_this_mode() -> None:
    with pytest.raises(ValueError, match="per-pod"):
        DockerRuntime("local", network_mode="default-bridge", network_pool=2)
