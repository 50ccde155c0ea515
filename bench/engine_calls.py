"""What each Docker engine call of a pod's creation costs, with no stack: the calls the
spawner makes, timed one by one, for the four ways a container can get its network,
alternating in one run:

(a) fresh: a bridge made for the pod just before its container (PODS_DOCKER_NETWORK_MODE=
    per-pod, PODS_DOCKER_NETWORK_POOL=0),
(b) warm: a bridge made ahead (the warm networks of services/spawner/platforms/docker/
    network_pool.py, per-pod mode), made again between runs so each run gets one never used,
(c) default: Docker's default bridge, as the `docker run` baseline of create_to_available.py,
(d) shared: one bridge made once with the same options (the default network mode,
    shared_network.py), two other containers on it all along.

Each run creates and starts `pods-http:latest` (published port on 127.0.0.1, `--init`) and
removes it after. Prints the median and minimum of each call and of the total (network made,
container created and started), and the load average at the start and the end.
Usage: python bench/engine_calls.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import docker
from _common import machine, percentile

from services.spawner.platforms.docker.network import NETWORK_OPTIONS

IMAGE = "pods-http:latest"
LABELS = {"org.pods-service.bench": "engine-calls"}


class Timer:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def __call__(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.samples.setdefault(label, []).append(time.perf_counter() - start)


def make_network(api: Any) -> tuple[str, str]:
    name = f"bench-calls-{uuid.uuid4().hex[:10]}"
    network = api.create_network(name=name, driver="bridge", options=NETWORK_OPTIONS, labels=LABELS)
    return name, str(network["Id"])


def run_container(api: Any, timed: Timer, way: str, network: str | None) -> str:
    host_config = api.create_host_config(port_bindings={5000: ("127.0.0.1", None)}, init=True)
    extra: dict[str, Any] = {}
    if network:
        host_config["NetworkMode"] = network
        extra["networking_config"] = api.create_networking_config(
            {network: api.create_endpoint_config()}
        )
    container = timed(
        f"{way}: create container",
        api.create_container,
        IMAGE,
        host_config=host_config,
        ports=[5000],
        labels=LABELS,
        **extra,
    )
    timed(f"{way}: start", api.start, container["Id"])
    timed(f"{way}: inspect", api.inspect_container, container["Id"])
    return str(container["Id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    print(f"machine: {machine()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    client = docker.from_env()
    api = client.api
    timed = Timer()
    warm = make_network(api)
    shared = make_network(api)
    neighbours = [run_container(api, Timer(), "neighbour", shared[0]) for _ in range(2)]
    try:
        for _ in range(runs):
            start = time.perf_counter()
            name, fresh_id = timed("fresh: create network", make_network, api)
            fresh = run_container(api, timed, "fresh", name)
            timed.samples.setdefault("fresh: TOTAL", []).append(time.perf_counter() - start)
            start = time.perf_counter()
            on_warm = run_container(api, timed, "warm", warm[0])
            timed.samples.setdefault("warm: TOTAL", []).append(time.perf_counter() - start)
            start = time.perf_counter()
            default = run_container(api, timed, "default", None)
            timed.samples.setdefault("default: TOTAL", []).append(time.perf_counter() - start)
            start = time.perf_counter()
            on_shared = run_container(api, timed, "shared", shared[0])
            timed.samples.setdefault("shared: TOTAL", []).append(time.perf_counter() - start)
            for container_id in (fresh, on_warm, default, on_shared):
                api.remove_container(container_id, force=True, v=True)
            for network_id in (fresh_id, warm[1]):
                api.remove_network(network_id)
            warm = make_network(api)
    finally:
        for container_id in neighbours:
            api.remove_container(container_id, force=True, v=True)
        api.remove_network(warm[1])
        api.remove_network(shared[1])
        client.close()
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for label, values in sorted(timed.samples.items()):
        print(
            f"{label:24s} median {percentile(values, 50) * 1000:7.1f} ms"
            f"   min {min(values) * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
