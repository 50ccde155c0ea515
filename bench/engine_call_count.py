"""How many Docker engine calls the stack makes per pod: a counting proxy on a Unix socket
sits between the spawner (its DOCKER_HOST) and the engine, and every HTTP request line that
goes through it is counted by method and path (ids and names folded to {id}).

The stack runs with the production resync interval (5 s). Phases, each counted apart:
the idle stack for `--idle` seconds (health's periodic reads, reported per second); `--pods`
pods created one after another, each waited for until AVAILABLE (and `--settle` seconds
more, for the observations that follow); then deleted one by one, each waited for until its
container is gone. Prints calls per pod by kind (`--trace`: the first pod's calls, timed).
No figure is timed: the counts are what changes when the control plane asks the engine less.
Usage: python bench/engine_call_count.py [--pods N] [--idle S] [--settle S] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from _common import RestClient, Stack, machine, running_stack

ENGINE_SOCKET = "/var/run/docker.sock"
REQUEST_LINE = re.compile(rb"(?:^|\r\n)(GET|POST|PUT|DELETE|HEAD) (/\S*) HTTP/1\.[01]\r\n")
VERSION = re.compile(r"^/v\d+\.\d+")
ID_SEGMENT = re.compile(r"^(containers|networks|volumes|exec)/(?!(?:create|json|prune)\b)[^/]+")


def kind(method: bytes, path: bytes) -> str:
    """`GET containers/{id}/json` for `GET /v1.41/containers/pods-x/json?size=0`."""
    text = VERSION.sub("", path.decode(errors="replace").split("?", 1)[0]).lstrip("/")
    text = ID_SEGMENT.sub(lambda m: f"{m[1]}/{{id}}", text)
    return f"{method.decode()} {text}"


class CountingProxy:
    """Forwards a Unix socket to the engine's, counting the requests that go through."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.trace: list[tuple[float, str]] | None = None  # (time, request line) while set
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def take(self) -> Counter[str]:
        """The counts since the last take."""
        with self._lock:
            taken, self.counts = self.counts, Counter()
        return taken

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_unix_server(self._serve, self.path))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        engine_reader, engine_writer = await asyncio.open_unix_connection(ENGINE_SOCKET)
        await asyncio.gather(
            self._pipe(reader, engine_writer, count=True),
            self._pipe(engine_reader, writer, count=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, count: bool
    ) -> None:
        pending = b""
        try:
            while data := await source.read(65536):
                if count:
                    pending = self._count(pending + data)
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()

    def _count(self, data: bytes) -> bytes:
        """Counts the request lines in `data`; returns the tail that may hold a partial one."""
        end = 0
        for match in REQUEST_LINE.finditer(data):
            with self._lock:
                self.counts[kind(match[1], match[2])] += 1
                if self.trace is not None:
                    line = f"{match[1].decode()} {match[2].decode(errors='replace')}"
                    self.trace.append((time.monotonic(), line))
            end = match.end()
        return data[max(end, len(data) - 512) :]


def wait_until(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.05)


def available(client: RestClient, pod_id: str) -> bool:
    return bool(client.call("GET", f"/v3/pods/{pod_id}")["result"]["status"] == "AVAILABLE")


def gone(stack: Stack, pod_id: str) -> bool:
    return not stack.containers(pod_id)


def show(title: str, counts: Counter[str], per: float, unit: str) -> None:
    total = sum(counts.values())
    print(f"\n{title}: {total / per:.2f} engine calls {unit}")
    for name, number in counts.most_common():
        print(f"  {number / per:7.2f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--settle", type=float, default=1.0)
    parser.add_argument("--trace", action="store_true", help="print the first pod's calls")
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="pods-engine-calls-") as tmp:
        proxy = CountingProxy(str(Path(tmp) / "docker.sock"))
        proxy.start()
        # The production resync interval (the harness's is 1 s), so that the periodic reads
        # of running pods weigh as they do in a default stack.
        env = {"DOCKER_HOST": f"unix://{proxy.path}", "PODS_RESYNC_INTERVAL": "5"}
        with running_stack(env) as stack:
            client = RestClient(stack)
            time.sleep(args.idle)  # the first sweeps after start-up
            proxy.take()
            time.sleep(args.idle)
            show("idle stack", proxy.take(), args.idle, "per second")
            pods = [f"calls{n}" for n in range(args.pods)]
            for number, pod_id in enumerate(pods):
                proxy.trace = [] if args.trace and number == 0 else None
                started = time.monotonic()
                client.call("POST", "/v3/pods", {"pod_id": pod_id, "image": "pods-http:latest"})
                wait_until(functools.partial(available, client, pod_id))
                time.sleep(args.settle)
                for at, line in proxy.trace or []:
                    print(f"  {1000 * (at - started):8.1f} ms  {line}")
            show("create -> AVAILABLE", proxy.take(), args.pods, "per pod")
            for pod_id in pods:
                client.call("DELETE", f"/v3/pods/{pod_id}")
                wait_until(functools.partial(gone, stack, pod_id))
            show("delete -> container gone", proxy.take(), args.pods, "per pod")
            client.close()


if __name__ == "__main__":
    main()
