"""LazyKubeApi: the KubeApi a process uses, connected on first use and closed at exit.

Used by runtime.KubernetesRuntime and volumes.KubernetesVolumeStore, which
both reach the API server only when first asked to do something (a process starting without
a reachable cluster still starts). Thread-safe: callers run in worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from services.spawner.platforms.kubernetes.api import KubeApi
from services.spawner.platforms.kubernetes.client import ClusterApi
from services.spawner.platforms.kubernetes.config import KubernetesConfig


class LazyKubeApi:
    """Holds a KubeApi: the one given, or one `factory` makes on first use (default:
    ClusterApi.connect to the configured namespace)."""

    def __init__(
        self,
        config: KubernetesConfig,
        api: KubeApi | None = None,
        factory: Callable[[], KubeApi] | None = None,
    ) -> None:
        self._config = config
        self._api = api
        self._owned = api is None  # one passed in is left open by close()
        self._factory = factory or self._connect
        self._lock = threading.Lock()

    def get(self) -> KubeApi:
        """The KubeApi, connected on first use."""
        with self._lock:
            if self._api is None:
                self._api = self._factory()
            return self._api

    def close(self) -> None:
        """Closes the client if this holder made it; the next get() connects again."""
        if not self._owned:
            return
        with self._lock:
            api, self._api = self._api, None
        close = getattr(api, "close", None)
        if callable(close):
            close()

    def _connect(self) -> KubeApi:
        return ClusterApi.connect(
            self._config.namespace, request_timeout=self._config.request_timeout
        )
