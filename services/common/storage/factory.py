"""Chooses and builds the VolumeStore the spawner serves: Docker named volumes on one machine,
PersistentVolumeClaims on a cluster, following PODS_RUNTIME like the runtime does.

Called at start-up by services/spawner/server.py (the API reaches the store through the
spawner: services/api/remote_volumes.py). The store modules are imported only when
chosen, so a Docker installation never loads the kubernetes client and vice versa.
"""

from __future__ import annotations

from services.common.runtime.factory import (
    DOCKER,
    KUBERNETES,
    RUNTIME_KINDS,
    kubernetes_config_from_settings,
)
from services.common.settings import Settings
from services.common.storage.types import VolumeStore


def volume_store_from_settings(settings: Settings) -> VolumeStore:
    """The store for PODS_RUNTIME; ValueError names a bad setting. Neither store connects
    yet: both reach their engine or API server on first use."""
    if settings.runtime == DOCKER:
        from services.common.storage.docker_volumes import DockerVolumeStore

        return DockerVolumeStore(settings.deployment_id)
    if settings.runtime == KUBERNETES:
        from services.common.storage.kubernetes_claims import ClaimSettings
        from services.common.storage.kubernetes_volumes import KubernetesVolumeStore

        return KubernetesVolumeStore(
            settings.deployment_id,
            kubernetes_config_from_settings(settings),
            ClaimSettings(
                storage_class=settings.k8s_storage_class,
                access_mode=settings.k8s_volume_access_mode,
                helper_image=settings.k8s_storage_helper_image,
            ),
        )
    raise ValueError(f"runtime must be one of {', '.join(RUNTIME_KINDS)}, got {settings.runtime!r}")


def close_volume_store(store: VolumeStore) -> None:
    """Releases the client a store from volume_store_from_settings holds."""
    close = getattr(store, "close", None)
    if callable(close):
        close()
