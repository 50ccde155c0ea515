"""The GetPod load of bench/soak.py: open-loop GetPod at a fixed rate from a forked child
process (so the soak's worker threads do not share its GIL), with latencies counted from each
request's due time. Run by bench/soak.py for the baseline and during every soak round."""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import threading
import time
from collections import Counter
from typing import Any

from soak_client import Client, error_kind

# -- GetPod load (runs in its own process) ---------------------------------------------------


def getpod_load(
    port: int,
    targets: list[tuple[str, str]],
    rate: float,
    seconds: float,
    clients: int,
    out: Any,
) -> None:
    """Open-loop GetPod on `targets` ((token, pod_id), round robin); sends a dict with the
    latencies (s), the error counts and the number planned/dropped to `out`."""
    planned = round(rate * seconds)
    latencies: list[float] = []
    service: list[float] = []  # send -> answer, without the wait for a free client
    errors: Counter[str] = Counter()
    dropped = [0]
    lock = threading.Lock()
    indexes = itertools.count()
    start = time.perf_counter() + 0.2

    def worker() -> None:
        conns: dict[str, Client] = {}
        while True:
            with lock:
                i = next(indexes)
            if i >= planned:
                break
            due = start + i / rate
            now = time.perf_counter()
            if now < due:
                time.sleep(due - now)
            elif now - due > seconds:
                with lock:
                    dropped[0] += 1
                continue
            token, pod_id = targets[i % len(targets)]
            client = conns.setdefault(token, Client(port, token))
            sent = time.perf_counter()
            try:
                status, body = client.call("GET", f"/v3/pods/{pod_id}")
            except Exception as exc:  # counted, never fatal
                with lock:
                    errors[error_kind("GetPod", exc=exc)] += 1
                continue
            answered = time.perf_counter()
            with lock:
                if status == 200 and body["result"]["pod_id"] == pod_id:
                    latencies.append(answered - due)
                    service.append(answered - sent)
                else:
                    errors[error_kind("GetPod", status)] += 1
        for client in conns.values():
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.send(
        {
            "latencies": latencies,
            "service": service,
            "errors": dict(errors),
            "planned": planned,
            "dropped": dropped[0],
            "elapsed": time.perf_counter() - start,
        }
    )
    out.close()


class GetPodRun:
    """getpod_load in a child process (forked before the soak's threads start)."""

    def __init__(
        self, port: int, targets: list[tuple[str, str]], args: argparse.Namespace, seconds: float
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=getpod_load,
            args=(port, targets, args.rate, seconds, args.getpod_clients, send),
            daemon=True,
        )
        self._seconds = seconds
        self._process.start()
        send.close()

    def result(self) -> dict[str, Any]:
        if not self._receive.poll(3 * self._seconds + 60):
            self._process.kill()
            raise TimeoutError("the GetPod load process did not report")
        data: dict[str, Any] = self._receive.recv()
        self._process.join(timeout=30)
        return data
