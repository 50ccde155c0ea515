"""The benchmark fake runtime (PODS_RUNTIME=fake): refused unless explicitly allowed, one
instance per deployment, a real clock, and pods whose ports answer health's probes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.common.runtime.kinds import check_runtime_kind
from services.common.runtime.types import ContainerSpec, PodKey, PortSpec
from services.common.settings import Settings
from services.health.probes import probe
from services.spawner.platforms.bench_fake import BenchFakeRuntime
from services.spawner.platforms.factory import (
    close_runtime,
    make_runtime,
    runtime_from_settings,
    volume_store_from_settings,
)


def test_fake_is_refused_without_the_benchmark_flag() -> None:
    with pytest.raises(ValueError, match="PODS_ALLOW_FAKE_RUNTIME"):
        make_runtime("fake", "bench1")
    settings = Settings.from_env({"PODS_RUNTIME": "fake", "PODS_DEPLOYMENT_ID": "bench1"})
    with pytest.raises(ValueError, match="benchmarks only"):
        runtime_from_settings(settings)
    with pytest.raises(ValueError, match="benchmarks only"):
        volume_store_from_settings(settings)


def test_unknown_runtimes_are_still_refused_with_the_flag() -> None:
    with pytest.raises(ValueError, match="docker, kubernetes"):
        check_runtime_kind("podman", allow_fake=True)
    assert check_runtime_kind("docker", allow_fake=False) == "docker"


def test_an_allowed_fake_is_one_instance_per_deployment() -> None:
    settings = Settings.from_env(
        {"PODS_RUNTIME": "fake", "PODS_ALLOW_FAKE_RUNTIME": "1", "PODS_DEPLOYMENT_ID": "bench2"}
    )
    first, second = runtime_from_settings(settings), runtime_from_settings(settings)
    assert isinstance(first, BenchFakeRuntime)
    assert first is second
    assert make_runtime("fake", "bench3", allow_fake=True) is not first


@pytest.mark.parametrize("protocol", ["http", "postgres", "tcp"])
async def test_every_fake_pod_answers_healths_probes_on_one_real_port(protocol: str) -> None:
    runtime = BenchFakeRuntime("bench4")
    try:
        specs = [
            ContainerSpec(
                key=PodKey("dev", f"pod{n}"),
                image="any/image",
                ports=(PortSpec(name="main", port=5000 + n, protocol=protocol),),
            )
            for n in range(3)
        ]
        states = [(await runtime.ensure(spec)).state for spec in specs]
        ports = {port for state in states for port in state.published.values()}
        assert ports == {runtime.listener.port}
        assert await probe(protocol, "127.0.0.1", runtime.listener.port)
    finally:
        await close_runtime(runtime)
    assert not await probe(protocol, "127.0.0.1", runtime.listener.port)


async def test_the_fake_reads_a_real_clock() -> None:
    runtime = BenchFakeRuntime("bench5")
    try:
        before = datetime.now(UTC)
        state = (await runtime.ensure(ContainerSpec(key=PodKey("dev", "p"), image="i"))).state
        assert state.started_at is not None
        assert before <= state.started_at <= datetime.now(UTC) + timedelta(seconds=1)
    finally:
        await close_runtime(runtime)
