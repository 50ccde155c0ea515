"""Volume file calls: what listing, downloading and uploading a small file costs through the
Docker volume store, with helpers kept for the next call (the default) and with a fresh
helper per call (`helper_idle_s=0`, as before the pool), against the floor of the same work
done by `docker exec` into a container that already runs with the volume mounted.

Each round does, in turn: list the volume's root, download a 1 KiB file, upload a 1 KiB
file, each 1 + N times (the first call of each store warms its helper; it is left out).
Prints medians and p90 per call and store, and the ratios to the floor. Needs the local
image pods-http:latest (scripts/build-images). Usage: python bench/volume_files.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable

import docker
from _common import machine, percentile

from services.common.runtime.types import LABEL_DEPLOYMENT
from services.common.storage.types import VolumeKey
from services.spawner.platforms.docker.volumes import DockerVolumeStore

IMAGE = "pods-http:latest"
KEY = VolumeKey("dev", "bench")


async def timed(call: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    await call()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return times


def floor_times(client: docker.DockerClient, volume: str, runs: int) -> dict[str, list[float]]:
    """The same three calls as `docker exec` into a running container with the volume."""
    container = client.containers.run(
        IMAGE, ["sleep", "600"], mounts=[docker.types.Mount("/v", volume)], detach=True
    )
    try:
        commands = {
            "list": ["ls", "-la", "/v"],
            "download": ["cat", "/v/read.txt"],
            "upload": ["sh", "-c", "printf %1024s > /v/floor.txt"],
        }
        result: dict[str, list[float]] = {}
        for name, argv in commands.items():
            container.exec_run(argv)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                container.exec_run(argv)
                times.append(time.perf_counter() - start)
            result[name] = times
        return result
    finally:
        container.remove(force=True)


async def store_times(store: DockerVolumeStore, runs: int) -> dict[str, list[float]]:
    return {
        "list": await timed(lambda: store.list_files(KEY), runs),
        "download": await timed(lambda: store.download(KEY, "read.txt"), runs),
        "upload": await timed(lambda: store.upload(KEY, "up.txt", b"u" * 1024), runs),
    }


async def main(runs: int) -> None:
    client = docker.from_env()
    deployment = f"bench{secrets.token_hex(3)}"
    pooled = DockerVolumeStore(deployment)
    fresh = DockerVolumeStore(deployment, helper_idle_s=0)
    try:
        info = await pooled.create_volume(KEY, 10 * 1024 * 1024)
        await pooled.upload(KEY, "read.txt", b"r" * 1024)
        results = {
            "docker exec (floor)": floor_times(client, info.name, runs),
            "store, pooled helper": await store_times(pooled, runs),
            "store, helper per call": await store_times(fresh, runs),
        }
    finally:
        pooled.close()
        fresh.close()
        label = f"{LABEL_DEPLOYMENT}={deployment}"
        for summary in client.api.containers(all=True, filters={"label": label}):
            client.api.remove_container(summary["Id"], force=True)
        for volume in client.api.volumes(filters={"label": label}).get("Volumes") or []:
            client.api.remove_volume(volume["Name"], force=True)
        client.close()
    print(machine())
    print(f"{runs} calls each after one warm-up; 1 KiB files")
    floor = results["docker exec (floor)"]
    print(f"{'':24s} {'call':9s} {'median ms':>10s} {'p90 ms':>8s} {'/ floor':>8s}")
    for name, by_call in results.items():
        for call, times in by_call.items():
            median = percentile(times, 50)
            ratio = median / percentile(floor[call], 50)
            print(
                f"{name:24s} {call:9s} {1000 * median:10.1f} "
                f"{1000 * percentile(times, 90):8.1f} {ratio:8.2f}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
