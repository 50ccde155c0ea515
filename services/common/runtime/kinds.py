"""The names of the container platforms a deployment can run on (PODS_RUNTIME).

Shared because several processes branch on the platform: the spawner chooses its adapters
(services/spawner/platforms/factory.py) and the gateway chooses how to reach pods
(gateway/pod_router.py). Only names: no platform is imported here.
"""

from __future__ import annotations

DOCKER = "docker"
KUBERNETES = "kubernetes"
# The in-memory fake (services/spawner/platforms/bench_fake.py): for scale benchmarks only,
# accepted only with PODS_ALLOW_FAKE_RUNTIME=1 and never one of RUNTIME_KINDS.
FAKE = "fake"
RUNTIME_KINDS = (DOCKER, KUBERNETES)


def check_runtime_kind(kind: str, *, allow_fake: bool) -> str:
    """`kind` if a deployment may use it; ValueError saying why not. `fake` needs
    `allow_fake` (PODS_ALLOW_FAKE_RUNTIME=1), so no production settings reach it by accident."""
    if kind in RUNTIME_KINDS:
        return kind
    if kind == FAKE:
        if allow_fake:
            return kind
        raise ValueError(
            "PODS_RUNTIME=fake runs no containers and is for benchmarks only: "
            "it needs PODS_ALLOW_FAKE_RUNTIME=1 as well"
        )
    raise ValueError(f"runtime must be one of {', '.join(RUNTIME_KINDS)}, got {kind!r}")
