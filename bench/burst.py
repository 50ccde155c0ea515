"""A burst of creates: N pods through REST until all are AVAILABLE, against N bare
`docker run`s of the same image at the same parallelism until each answers 200.

Measures, alternating in one run (after one small warm-up of each), `--rounds` times:

(a) baseline: P threads (one Docker SDK client each) run `docker run -d --init -p
    127.0.0.1::5000 --network NET pods-http:latest` N times in all; each thread then GETs its
    container's published port every 10 ms until it answers 200. Time from the burst's start
    to the last 200. The containers are then removed. NET is one bridge network made for the
    round, with a subnet for N containers: Docker's default bridge takes one subnet of the
    engine's address pools (a /26 with scripts/setup's pool, 62 addresses), which a burst of
    100 would exhaust (and take from every other user of the engine).
(b) ours: P threads (one keep-alive connection each) POST /v3/pods N times through the REST
    gateway (Envoy) of a local stack; one more thread lists GET /v3/pods every `--poll`
    seconds and notes when each pod is first seen AVAILABLE. Time from the burst's start to
    the last pod seen AVAILABLE. The pods are then deleted, and the round waits until none is
    listed and no container or network of the deployment is left (but its shared pod network,
    kept by design). A burst of more than 60 gets a /24 or larger subnet for that network
    (PODS_DOCKER_NETWORK_SUBNET), since an engine's pools may hand it a /26.
With `--default-bridge` the stack runs in PODS_DOCKER_NETWORK_MODE=default-bridge and the
baseline's runs go onto the engine's default bridge, as a bare `docker run` does (scripts/setup's
engine gives it a /22, 1021 addresses).
(c) with `--networks`: the baseline with a bridge network of its own for each container, made
    the way the spawner makes a pod's (`docker network create` with the same options, then the
    run on it): what the engine alone needs for our isolation.
(d) with `--our-config`: the baseline again, each container made with the spawner's own create
    arguments (translate.create_kwargs: resource and pids limits, dropped capabilities,
    ulimits, log options, init) and started: what our containers' configuration costs the
    engine, apart from the control plane's calls.

Prints each round, the medians, the ratio of medians (ours / baseline) and phases from the
servers' clocks: for (a) and (c) when the last run call returned and the last container
started (State.StartedAt), for ours when the last POST was answered, the last container
started (start_instance_ts) and the last AVAILABLE was recorded (update_ts). Load average and
machine at the start and the end.

Usage: python bench/burst.py --count N [--parallelism P] [--rounds R] [--networks]
    [--our-config] [--default-bridge]
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
from _common import Stack, gateway_port, http_ok, machine, percentile, running_stack
from create_to_available import wall_seconds
from soak_client import Client

from services.common.runtime.naming import with_hash
from services.common.runtime.types import ContainerSpec, PodKey, PortSpec
from services.spawner.platforms.docker.default_bridge import DEFAULT_BRIDGE
from services.spawner.platforms.docker.network import NETWORK_OPTIONS
from services.spawner.platforms.docker.network_pool import is_pool_network
from services.spawner.platforms.docker.shared_network import shared_network_name
from services.spawner.platforms.docker.translate import create_kwargs

IMAGE = "pods-http:latest"
BENCH_LABEL = "org.pods-service.bench"  # on the baseline's containers and networks
TIMEOUT = 600.0
PROBE_EVERY = 0.01  # seconds between a baseline thread's GETs of its container
SMALL_POOL_SUBNET_PODS = 60  # pods a shared network on a /26 of the engine's pools holds


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- the baseline ---------------------------------------------------------------------------


@dataclass
class Burst:
    """What one burst took, in seconds from its start (phases from the servers' clocks)."""

    total: float  # the last pod / container seen serving
    phases: dict[str, float] = field(default_factory=dict)


class _Clients(threading.local):
    docker: Any = None


def docker_burst(
    count: int,
    parallelism: int,
    networks: bool,
    default_bridge: bool = False,
    our_config: bool = False,
) -> Burst:
    """`count` bare runs (each on a network of its own with `networks`, all on the engine's
    default bridge with `default_bridge`, made with the spawner's create arguments with
    `our_config`) on `parallelism` threads; the time until every container answered 200.
    Removes what it made."""
    run_id = uuid.uuid4().hex[:10]
    local = _Clients()
    made: list[Any] = []
    lock = threading.Lock()

    def client() -> Any:
        if local.docker is None:  # an engine busy with a burst may answer late
            local.docker = docker.from_env(timeout=int(TIMEOUT))
        return local.docker

    if networks:
        shared = None
    else:
        shared = DEFAULT_BRIDGE if default_bridge else shared_network(run_id, count)

    def one(n: int) -> tuple[float, float, float]:
        engine = client()
        labels = {BENCH_LABEL: run_id}
        network = shared
        if networks:
            network = engine.api.create_network(
                f"bench-{run_id}-{n}",
                driver="bridge",
                options=dict(NETWORK_OPTIONS),
                labels=labels,
            )["Id"]
        if our_config:
            container = engine.containers.create(**our_create_kwargs(run_id, n, network))
            container.start()
        else:
            container = engine.containers.run(
                IMAGE,
                detach=True,
                init=True,
                labels=labels,
                network=network,
                ports={"5000/tcp": ("127.0.0.1", None)},
            )
        with lock:
            made.append(container)
        returned = time.time()
        container.reload()
        port = int(container.ports["5000/tcp"][0]["HostPort"])
        while not http_ok(port):
            if time.time() - wall > TIMEOUT:
                raise TimeoutError("a baseline container never answered")
            time.sleep(PROBE_EVERY)
        return returned, wall_seconds(container.attrs["State"]["StartedAt"]), time.time()

    wall = time.time()
    try:
        with ThreadPoolExecutor(parallelism) as pool:
            results = list(pool.map(one, range(count)))
        total = max(r[2] for r in results) - wall
        return Burst(
            total,
            {
                "last run returned": max(r[0] for r in results) - wall,
                "last container started": max(r[1] for r in results) - wall,
            },
        )
    finally:
        remove_bench_objects(run_id)


def our_create_kwargs(run_id: str, n: int, network: str | None) -> dict[str, Any]:
    """What the spawner asks the engine for to make a pod like the bench's (an image, port
    5000, the default resources), under the baseline's name and label."""
    ports = (PortSpec("default", 5000, "http"),)
    spec = with_hash(ContainerSpec(key=PodKey("bench", f"b{n}"), image=IMAGE, ports=ports))
    kwargs = create_kwargs("bench", spec, network=network or DEFAULT_BRIDGE)
    return {**kwargs, "name": f"bench-{run_id}-{n}", "labels": {BENCH_LABEL: run_id}}


def shared_network(run_id: str, count: int) -> str:
    """A bridge network for `count` containers, on a subnet outside the engine's pools (the
    first of 10.252-10.255.x.0/22 that no other network overlaps); its id."""
    prefix = max(22, min(28, 32 - (count + 3).bit_length()))
    engine = docker.from_env()
    try:
        for third in range(0, 1024, 4):
            subnet = f"10.{252 + third // 256}.{third % 256}.0/{prefix}"
            ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
            try:
                created = engine.api.create_network(
                    f"bench-{run_id}", driver="bridge", ipam=ipam, labels={BENCH_LABEL: run_id}
                )
                return str(created["Id"])
            except docker.errors.APIError as exc:
                if "overlap" not in str(exc):
                    raise
        raise RuntimeError("no free subnet for the baseline's network")
    finally:
        engine.close()


def remove_bench_objects(run_id: str) -> None:
    engine = docker.from_env(timeout=int(TIMEOUT))
    try:
        label = {"label": f"{BENCH_LABEL}={run_id}"}
        containers = engine.containers.list(all=True, filters=label, ignore_removed=True)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda c: _quiet(lambda: c.remove(force=True)), containers))
            list(pool.map(lambda n: _quiet(n.remove), engine.networks.list(filters=label)))
    finally:
        engine.close()


def _quiet(action: Callable[[], Any]) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        action()


# -- ours -----------------------------------------------------------------------------------


class _Rest(threading.local):
    client: Client | None = None


def list_pods(client: Client) -> list[dict[str, Any]]:
    status, body = client.call("GET", "/v3/pods")
    if status != 200:
        raise RuntimeError(f"GET /v3/pods: {status} {body}")
    return list(body["result"])


def create_all(stack: Stack, token: str, pod_ids: Sequence[str], parallelism: int) -> list[float]:
    """POSTs every pod on `parallelism` threads; the wall time each POST was answered."""
    port = gateway_port(stack)
    local = _Rest()

    def one(pod_id: str) -> float:
        if local.client is None:
            local.client = Client(port, token)
        status, body = local.client.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})
        if status != 200:
            raise RuntimeError(f"POST {pod_id}: {status} {body}")
        return time.time()

    with ThreadPoolExecutor(parallelism) as pool:
        return list(pool.map(one, pod_ids))


@dataclass
class Seen:
    """When the lister first saw each pod AVAILABLE (client's wall clock), and the pod then."""

    at: dict[str, float] = field(default_factory=dict)
    pod: dict[str, dict[str, Any]] = field(default_factory=dict)
    lists: int = 0
    failed: list[str] = field(default_factory=list)  # not AVAILABLE in the end
    erred: set[str] = field(default_factory=set)  # seen in ERROR on the way


def watch_available(
    client: Client, pod_ids: set[str], poll: float, stop: threading.Event, seen: Seen
) -> None:
    """Lists the pods every `poll` seconds until all of `pod_ids` are AVAILABLE or `stop` is
    set. A pod seen in ERROR is noted and still waited for: a start that the engine refused
    under load leaves the container Created with an error (health records ERROR) until the
    spawner's retry starts it."""
    while not stop.is_set() and len(seen.at) < len(pod_ids):
        for pod in list_pods(client):
            pod_id = pod["pod_id"]
            if pod_id not in pod_ids or pod_id in seen.at:
                continue
            if pod["status"] == "AVAILABLE":
                seen.at[pod_id] = time.time()
                seen.pod[pod_id] = pod
            elif pod["status"] == "ERROR":
                seen.erred.add(pod_id)
        seen.lists += 1
        stop.wait(poll)
    seen.failed = sorted(pod_ids - set(seen.at))


def our_burst(stack: Stack, token: str, count: int, parallelism: int, poll: float) -> Burst:
    """`count` creates on `parallelism` threads; the time until every pod was seen AVAILABLE.
    Deletes them afterwards and waits until nothing of them is left."""
    prefix = f"b{uuid.uuid4().hex[:6]}"
    pod_ids = [f"{prefix}n{n}" for n in range(count)]
    lister = Client(gateway_port(stack), token)
    seen = Seen()
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_available, args=(lister, set(pod_ids), poll, stop, seen), daemon=True
    )
    wall = time.time()
    try:
        answered = create_all(stack, token, pod_ids, parallelism)
        watcher.start()
        watcher.join(TIMEOUT)
        if seen.failed or len(seen.at) < count:
            raise RuntimeError(f"{len(seen.at)} of {count} pods AVAILABLE; not: {seen.failed[:5]}")
        total = max(seen.at.values()) - wall
        pods = seen.pod.values()
        return Burst(
            total,
            {
                "last POST answered": max(answered) - wall,
                "last container started": max(wall_seconds(p["start_instance_ts"]) for p in pods)
                - wall,
                "last AVAILABLE recorded": max(wall_seconds(p["update_ts"]) for p in pods) - wall,
                "lists": float(seen.lists),
                "seen in ERROR": float(len(seen.erred)),
            },
        )
    finally:
        stop.set()
        lister.close()
        delete_and_converge(stack, token, pod_ids, parallelism)


def delete_and_converge(
    stack: Stack, token: str, pod_ids: Sequence[str], parallelism: int
) -> float:
    """DELETEs the pods on `parallelism` threads; seconds from the first DELETE until none is
    listed and no container or network of the deployment is left."""
    port = gateway_port(stack)
    local = _Rest()

    def one(pod_id: str) -> None:
        if local.client is None:
            local.client = Client(port, token)
        status, body = local.client.call("DELETE", f"/v3/pods/{pod_id}")
        if status not in (200, 404):
            raise RuntimeError(f"DELETE {pod_id}: {status} {body}")

    start = time.monotonic()
    with ThreadPoolExecutor(parallelism) as pool:
        list(pool.map(one, pod_ids))
    wanted = set(pod_ids)
    client = Client(port, token)
    try:
        while True:
            listed = {p["pod_id"] for p in list_pods(client)} & wanted
            if not listed and not deployment_objects(stack):
                return time.monotonic() - start
            if time.monotonic() - start > TIMEOUT:
                raise TimeoutError(f"{len(listed)} pods still listed after {TIMEOUT:.0f}s")
            time.sleep(0.2)
    finally:
        client.close()


def deployment_objects(stack: Stack) -> int:
    """Containers and networks of the stack's deployment left on the engine, not counting the
    ones kept by design: its shared pod network (the default network mode) and its free warm
    networks (PODS_DOCKER_NETWORK_POOL, per-pod mode)."""
    engine = docker.from_env()
    try:
        label = {"label": f"org.pods-service.deployment={stack.deployment_id}"}
        containers = engine.api.containers(all=True, filters=label)
        kept = shared_network_name(stack.deployment_id)
        networks = [
            network
            for network in engine.api.networks(filters=label)
            if not is_pool_network(stack.deployment_id, network["Name"]) and network["Name"] != kept
        ]
        return len(containers) + len(networks)
    finally:
        engine.close()


# -- the report -----------------------------------------------------------------------------


def median(bursts: Sequence[Burst], phase: str | None = None) -> float:
    return percentile([b.total if phase is None else b.phases[phase] for b in bursts], 50)


def describe(burst: Burst) -> str:
    phases = "  ".join(
        f"{name} {value:.2f}s" if name.startswith("last") else f"{int(value)} {name}"
        for name, value in burst.phases.items()
    )
    return f"{burst.total:7.2f} s   ({phases})"


@contextlib.contextmanager
def kept_log(stack: Stack) -> Iterator[None]:
    """Copies the stack's log out of its temporary directory at the end (for the why of an
    ERROR or a slow phase)."""
    try:
        yield
    finally:
        kept = Path(tempfile.gettempdir()) / f"pods-bench-{stack.deployment_id}.log"
        shutil.copy(stack.log_path, kept)
        print(f"stack log: {kept}")


def stack_env(count: int) -> dict[str, str]:
    """Quotas above the burst (the harness's are 1000 pods); for more pods than the smallest
    subnet an engine's pools may hand the shared pod network (scripts/setup's /26: 61), a
    free subnet for it (PODS_DOCKER_NETWORK_SUBNET)."""
    env = {"PODS_QUOTA_PODS": str(max(1000, count + 10))}
    if count > SMALL_POOL_SUBNET_PODS:
        env["PODS_DOCKER_NETWORK_SUBNET"] = free_subnet(count)
    return env


def free_subnet(count: int) -> str:
    """The first subnet of 10.248-10.251.x.0 for `count` containers (at least a /24) that no
    network of the engine overlaps (outside scripts/setup's pools and the baseline's)."""
    prefix = max(16, min(24, 32 - (count + 3).bit_length()))
    engine = docker.from_env()
    try:
        taken = [
            ipaddress.ip_network(config["Subnet"])
            for network in engine.api.networks()
            for config in ((network.get("IPAM") or {}).get("Config") or [])
            if "Subnet" in config and ":" not in config["Subnet"]
        ]
    finally:
        engine.close()
    for candidate in ipaddress.ip_network("10.248.0.0/14").subnets(new_prefix=prefix):
        if not any(candidate.overlaps(other) for other in taken):
            return str(candidate)
    raise RuntimeError("no free subnet for the stack's shared pod network")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--parallelism", type=int, default=0, help="default: --count")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between lists")
    parser.add_argument("--networks", action="store_true", help="also (c), see above")
    parser.add_argument("--our-config", action="store_true", help="also (d), see above")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--default-bridge", action="store_true", help="see above")
    args = parser.parse_args()
    count, parallelism = args.count, args.parallelism or args.count

    print(f"machine: {machine()}")
    print(f"load average at start: {load_average()}")
    mode = "default-bridge" if args.default_bridge else "shared"
    print(f"burst of {count} at parallelism {parallelism}, {args.rounds} rounds, {args.database}")
    where = "the default bridge" if args.default_bridge else "one bridge of its own"
    print(f"network mode: {mode} (the baseline's runs on {where})")
    env = {**stack_env(count), "PODS_DOCKER_NETWORK_MODE": mode}
    baseline: list[Burst] = []
    networked: list[Burst] = []
    configured: list[Burst] = []
    ours: list[Burst] = []
    with running_stack(env, args.database) as stack, kept_log(stack):
        token = stack.token()
        docker_burst(2, 2, args.networks)  # warm-ups, not counted
        our_burst(stack, token, 2, 2, args.poll)
        for round_ in range(1, args.rounds + 1):
            baseline.append(docker_burst(count, parallelism, False, args.default_bridge))
            print(f"round {round_}: docker run     {describe(baseline[-1])}", flush=True)
            if args.networks:
                networked.append(docker_burst(count, parallelism, networks=True))
                print(f"round {round_}: network + run  {describe(networked[-1])}", flush=True)
            if args.our_config:
                configured.append(
                    docker_burst(count, parallelism, False, args.default_bridge, our_config=True)
                )
                print(f"round {round_}: our config     {describe(configured[-1])}", flush=True)
            ours.append(our_burst(stack, token, count, parallelism, args.poll))
            print(f"round {round_}: pods           {describe(ours[-1])}", flush=True)

    print(f"load average at end: {load_average()}")
    print(f"medians of {args.rounds} rounds, {count} at parallelism {parallelism}:")
    print(f"  docker run → all 200       : {median(baseline):7.2f} s")
    if networked:
        print(f"  network + run → all 200    : {median(networked):7.2f} s")
    if configured:
        print(f"  our config → all 200       : {median(configured):7.2f} s")
        started = median(configured, "last container started")
        print(f"    its last container started: {started:.2f} s")
    print(f"  POST → all AVAILABLE seen  : {median(ours):7.2f} s")
    for phase in ("last POST answered", "last container started", "last AVAILABLE recorded"):
        print(f"    {phase:26s}: {median(ours, phase):7.2f} s")
    started = median(baseline, "last container started")
    print(f"    baseline's last container started: {started:.2f} s")
    ratio = median(ours) / median(baseline)
    print(f"ratio of medians (ours / docker run): {ratio:.2f}  (target ≤ 1.25 for 100)")
    if networked:
        print(f"ratio of medians (ours / network + run): {median(ours) / median(networked):.2f}")
    if configured:
        print(f"ratio of medians (ours / our config): {median(ours) / median(configured):.2f}")


if __name__ == "__main__":
    main()
