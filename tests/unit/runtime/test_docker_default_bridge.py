"""The default-bridge network mode's check, without a Docker engine (the engine itself:
tests/integration/runtime/test_docker_default_bridge.py): a pod joins Docker's default bridge
only while the engine keeps its containers apart, and is refused with the flag to set
otherwise; the runtime takes no warm networks in this mode."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


class SlowEngine(Engine):
    """Answers an inspect only once the test lets it."""

    def __init__(self, icc: str | None) -> None:
        super().__init__(icc)
        self.asked = threading.Event()
        self.answer = threading.Event()

    def inspect_network(self, name: str) -> dict[str, Any]:
        self.asked.set()
        assert self.answer.wait(5)
        return super().inspect_network(name)


def test_creates_at_the_same_moment_share_one_check_and_the_next_asks_again() -> None:
    engine = SlowEngine("false")
    bridge = DefaultBridge(lambda: engine)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(bridge.isolates)
        assert engine.asked.wait(5)
        others = [pool.submit(bridge.isolates) for _ in range(7)]
        wait_for(lambda: bridge.waiting == 7)
        engine.answer.set()
        assert first.result(5) and all(other.result(5) for other in others)
    assert engine.inspected == ["bridge"]
    engine.icc = "true"
    assert not bridge.isolates()  # nothing remembered
    assert engine.inspected == ["bridge", "bridge"]


def test_a_shared_check_that_fails_fails_for_everyone_waiting() -> None:
    engine = SlowEngine("false")
    engine.icc = None

    def refuse(name: str) -> dict[str, Any]:
        engine.asked.set()
        assert engine.answer.wait(5)
        raise ConnectionError("engine went away")

    engine.inspect_network = refuse  # type: ignore[method-assign]
    bridge = DefaultBridge(lambda: engine)
    with ThreadPoolExecutor(4) as pool:
        calls = [pool.submit(bridge.isolates)]
        assert engine.asked.wait(5)
        calls += [pool.submit(bridge.isolates) for _ in range(3)]
        wait_for(lambda: bridge.waiting == 3)
        engine.answer.set()
        for call in calls:
            with pytest.raises(ConnectionError):
                call.result(5)
