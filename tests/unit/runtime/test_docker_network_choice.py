"""Which network a pod's container joins in each network mode, and which it may stay on
(network_choice.py), without a Docker engine (the engine itself:
tests/integration/runtime/test_docker_default_bridge.py)."""

from __future__ import annotations

import logging
from typing import Any

import docker.errors
import pytest

from services.common.outcomes import PermanentError
from services.common.runtime.types import PodKey
from services.common.settings import Settings
from services.spawner.platforms.docker.network import ICC_OPTION
from services.spawner.platforms.docker.network_choice import (
    NETWORK_MODES,
    NetworkChoice,
    Placement,
)
from services.spawner.platforms.docker.network_pool import NetworkPool
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.factory import runtime_from_settings
from tests.unit.runtime.test_docker_shared_network import NAME, FakeApi

KEY = PodKey("dev", "web1")


class Engine(FakeApi):
    """FakeApi's network calls, and a default bridge whose ICC option is `icc`."""

    def __init__(self, icc: str) -> None:
        super().__init__()
        self.icc = icc

    def inspect_network(self, network_id: str) -> dict[str, Any]:
        if network_id == "bridge":
            return {"Name": "bridge", "Options": {ICC_OPTION: self.icc}}
        return super().inspect_network(network_id)


def choice(engine: Engine, mode: str) -> NetworkChoice:
    return NetworkChoice("local", lambda: engine, mode, NetworkPool("local", lambda: engine, 0))


def on(*names: str) -> dict[str, Any]:
    """A container's inspection, attached to `names`."""
    return {"NetworkSettings": {"Networks": {name: {} for name in names}}}


def test_the_modes_are_auto_shared_per_pod_and_default_bridge() -> None:
    assert NETWORK_MODES == ("auto", "shared", "per-pod", "default-bridge")
    with pytest.raises(ValueError, match="network_mode must be one of"):
        choice(Engine("false"), "bridge")


class TestAuto:
    def test_an_engine_that_isolates_its_default_bridge_gets_pods_there_and_no_network(
        self,
    ) -> None:
        engine = Engine("false")
        assert choice(engine, "auto").place(KEY) == Placement("bridge")
        assert engine.created == []

    def test_an_engine_that_lets_containers_talk_gets_them_on_the_shared_network(self) -> None:
        engine = Engine("true")
        placement = choice(engine, "auto").place(KEY)
        assert placement.shared and placement.warm is None
        assert [n["name"] for n in engine.created] == [NAME]
        assert placement.network == engine.existing[0]["Id"]

    def test_the_engine_is_asked_at_every_create_and_a_change_is_logged_once(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        engine = Engine("false")
        networks = choice(engine, "auto")
        assert networks.place(KEY).network == "bridge"
        engine.icc = "true"  # the engine restarted without --icc=false
        with caplog.at_level(logging.INFO):
            assert networks.place(KEY).shared
            assert networks.place(KEY).shared
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "--icc=false" in warnings[0].getMessage()
        engine.icc = "false"
        assert networks.place(KEY).network == "bridge"

    def test_a_pod_on_the_default_bridge_stays_only_while_it_isolates(self) -> None:
        engine = Engine("false")
        networks = choice(engine, "auto")
        assert networks.keeps(KEY, on("bridge"))
        engine.icc = "true"
        assert not networks.keeps(KEY, on("bridge"))  # ensure moves it to the shared network


class TestKeeps:
    @pytest.mark.parametrize("mode", NETWORK_MODES)
    def test_our_networks_are_kept_in_every_mode_so_a_switch_restarts_no_pod(
        self, mode: str
    ) -> None:
        networks = choice(Engine("false"), mode)
        assert networks.keeps(KEY, on(NAME))
        assert networks.keeps(KEY, on("pods-local-dev-web1"))  # the pod's own
        assert networks.keeps(KEY, on("pods-local.pool.0123"))  # a warm one
        assert not networks.keeps(KEY, on(NAME, "bridge"))
        assert not networks.keeps(KEY, on("pods-local-dev-web2"))  # another pod's
        assert not networks.keeps(KEY, on("somebody-elses"))

    @pytest.mark.parametrize(
        ("mode", "kept"),
        [("auto", True), ("default-bridge", True), ("shared", False), ("per-pod", False)],
    )
    def test_the_default_bridge_is_kept_only_by_the_modes_that_use_it(
        self, mode: str, kept: bool
    ) -> None:
        assert choice(Engine("false"), mode).keeps(KEY, on("bridge")) is kept


class TestOtherModes:
    def test_default_bridge_refuses_an_engine_that_lets_containers_talk(self) -> None:
        with pytest.raises(PermanentError, match="--icc=false"):
            choice(Engine("true"), "default-bridge").place(KEY)

    def test_shared_ignores_the_default_bridge(self) -> None:
        engine = Engine("false")
        assert choice(engine, "shared").place(KEY).shared
        assert [n["name"] for n in engine.created] == [NAME]

    def test_per_pod_makes_the_pod_a_network_of_its_own(self) -> None:
        engine = Engine("false")
        placement = choice(engine, "per-pod").place(KEY)
        assert not placement.shared and placement.warm is None
        assert [n["name"] for n in engine.created] == ["pods-local-dev-web1"]


@pytest.mark.parametrize(
    ("failure", "looked_up_again"),
    [
        (docker.errors.NotFound("network gone"), 1),  # forgotten: looked up again
        (docker.errors.ImageNotFound("no image"), 0),  # the shared network is kept
    ],
)
def test_a_failed_create_forgets_the_shared_network_only_when_it_vanished(
    failure: Exception, looked_up_again: int
) -> None:
    engine = Engine("true")
    networks = choice(engine, "auto")
    placement = networks.place(KEY)
    listings = engine.listings
    networks.create_failed(KEY, placement, failure)
    networks.place(KEY)
    assert engine.listings == listings + looked_up_again


class TestDefaults:
    def test_the_settings_and_the_runtime_default_to_auto(self) -> None:
        assert Settings.from_env({}).docker_network_mode == "auto"
        runtime = runtime_from_settings(
            Settings.from_env({"PODS_DEPLOYMENT_ID": "local"}), creates=True
        )
        assert isinstance(runtime, DockerRuntime)
        try:
            assert runtime._choice.mode == "auto"
            assert runtime._pool.size == 0  # PODS_DOCKER_NETWORK_POOL (2) is per-pod only
        finally:
            runtime.close()
