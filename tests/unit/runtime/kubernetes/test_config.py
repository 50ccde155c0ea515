"""KubernetesConfig parsing and the runtime factory."""

from __future__ import annotations

import pytest

from services.common.runtime.kubernetes.queues import (
    ComputeQueue,
    Toleration,
    parse_compute_queues,
)
from services.spawner.platforms.docker.runtime import DockerRuntime
from services.spawner.platforms.factory import close_runtime, kubernetes_config, make_runtime
from services.spawner.platforms.kubernetes.config import InformerTiming, KubernetesConfig
from services.spawner.platforms.kubernetes.runtime import KubernetesRuntime


def test_compute_queues_from_json() -> None:
    text = """{"gpu": {"node_selector": {"gpu": "a100"},
                        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists",
                                         "effect": "NoSchedule"}]}}"""
    assert parse_compute_queues(text) == {
        "default": ComputeQueue(),
        "gpu": ComputeQueue(
            node_selector={"gpu": "a100"},
            tolerations=(Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule"),),
        ),
    }
    assert parse_compute_queues("") == {"default": ComputeQueue()}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "must be a JSON object"),
        ("{", "not valid JSON"),
        ('{"q": {"nodes": {}}}', "takes only node_selector and tolerations"),
        ('{"q": {"node_selector": {"a": 1}}}', "must map strings to strings"),
        ('{"q": {"tolerations": {}}}', "must be a list"),
        ('{"q": {"tolerations": [{"key": "a", "operator": "Maybe"}]}}', "Equal or Exists"),
        ('{"q": {"tolerations": [{"key": "a", "effect": "Never"}]}}', "not a taint effect"),
        ('{"q": {"tolerations": [{"key": "a", "operator": "Exists", "value": "x"}]}}', "no value"),
    ],
)
def test_bad_compute_queues_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_compute_queues(text)


def test_config_checks_its_values() -> None:
    with pytest.raises(ValueError, match="image pull policy"):
        KubernetesConfig(image_pull_policy="Sometimes")
    with pytest.raises(ValueError, match="namespace"):
        KubernetesConfig(namespace="")
    with pytest.raises(ValueError, match="backoff"):
        InformerTiming(backoff_initial=5, backoff_max=1)


def test_kubernetes_config_from_settings_text() -> None:
    config = kubernetes_config(
        namespace="science",
        image_pull_policy="Always",
        image_pull_secrets="a, b,,",
        non_root_images="ghcr.io/acme/",
    )
    assert config.namespace == "science"
    assert config.image_pull_secrets == ("a", "b")
    assert config.security.restricted("ghcr.io/acme/x:1")
    assert not config.security.restricted("postgres:15")
    assert config.compute_queues == {"default": ComputeQueue()}


async def test_make_runtime_chooses_by_kind() -> None:
    docker_runtime = make_runtime("docker", "prod")
    assert isinstance(docker_runtime, DockerRuntime)
    await close_runtime(docker_runtime)
    config = KubernetesConfig(namespace="science")
    runtime = make_runtime("kubernetes", "prod", kubernetes=config)
    assert isinstance(runtime, KubernetesRuntime) and runtime.config is config
    await close_runtime(runtime)  # nothing connected: nothing to close
    with pytest.raises(ValueError, match="docker, kubernetes"):
        make_runtime("podman", "prod")
