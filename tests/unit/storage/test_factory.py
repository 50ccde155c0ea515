"""The spawner's volume store follows PODS_RUNTIME (services/spawner/platforms/factory.py)."""

from __future__ import annotations

import pytest

from services.common.settings import Settings
from services.spawner.platforms.docker.volumes import DockerVolumeStore
from services.spawner.platforms.factory import close_volume_store, volume_store_from_settings
from services.spawner.platforms.kubernetes.volumes import KubernetesVolumeStore


def test_docker_gives_named_volumes() -> None:
    store = volume_store_from_settings(Settings(deployment_id="prod"))
    assert isinstance(store, DockerVolumeStore)
    assert store.deployment_id == "prod"
    close_volume_store(store)


def test_kubernetes_gives_claims_configured_from_the_settings() -> None:
    settings = Settings.from_env(
        {
            "PODS_RUNTIME": "kubernetes",
            "PODS_DEPLOYMENT_ID": "prod",
            "PODS_K8S_NAMESPACE": "users",
            "PODS_K8S_STORAGE_CLASS": "ssd",
            "PODS_K8S_VOLUME_ACCESS_MODE": "ReadWriteMany",
            "PODS_K8S_STORAGE_HELPER_IMAGE": "registry.example.org/busybox:1.36",
        }
    )
    store = volume_store_from_settings(settings)
    assert isinstance(store, KubernetesVolumeStore)
    assert store.config.namespace == "users"
    assert (store.settings.storage_class, store.settings.access_mode) == ("ssd", "ReadWriteMany")
    assert store.settings.helper_image == "registry.example.org/busybox:1.36"
    close_volume_store(store)  # never connected: nothing to close


def test_a_bad_access_mode_or_runtime_is_named() -> None:
    with pytest.raises(ValueError, match="access mode"):
        volume_store_from_settings(
            Settings(runtime="kubernetes", k8s_volume_access_mode="ReadWriteSometimes")
        )
    with pytest.raises(ValueError, match="runtime must be one of"):
        volume_store_from_settings(Settings(runtime="nomad"))
