"""The names of the container platforms a deployment can run on (PODS_RUNTIME).

Shared because several processes branch on the platform: the spawner chooses its adapters
(services/spawner/platforms/factory.py) and the gateway chooses how to reach pods
(gateway/pod_router.py). Only names: no platform is imported here.
"""

from __future__ import annotations

DOCKER = "docker"
KUBERNETES = "kubernetes"
RUNTIME_KINDS = (DOCKER, KUBERNETES)
