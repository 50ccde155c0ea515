"""The create/delete churn of bench/soak.py: worker threads cycling create -> poll until
AVAILABLE -> delete and counting every failure (Churn), and the waits around a soak: a pod
AVAILABLE, and convergence (no pod the run created listed, no container left). Called by
bench/soak.py."""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from _common import Stack
from soak_client import Client, error_kind

IMAGE = "pods-http:latest"


# -- churn ------------------------------------------------------------------------------------


@dataclass
class Churn:
    """What the create/delete workers did (shared by them, under `lock`)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: list[str] = field(default_factory=list)  # every pod id a POST was sent for
    create_s: list[float] = field(default_factory=list)
    delete_s: list[float] = field(default_factory=list)
    available_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    cycles: int = 0
    creates_ok: int = 0
    not_available: int = 0  # pods still not AVAILABLE when the worker gave up waiting

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1


def cycle(client: Client, churn: Churn, args: argparse.Namespace) -> None:
    """One create -> (AVAILABLE) -> delete; every failure is counted, none raised."""
    pod_id = f"soak{uuid.uuid4().hex[:12]}"
    with churn.lock:
        churn.created.append(pod_id)
    began = time.perf_counter()
    try:
        status, body = client.call("POST", "/v3/pods", {"pod_id": pod_id, "image": IMAGE})
    except Exception as exc:
        churn.error(error_kind("CreatePod", exc=exc))
        return
    with churn.lock:
        churn.create_s.append(time.perf_counter() - began)
    if status != 200:
        churn.error(error_kind("CreatePod", status))
        return
    with churn.lock:
        churn.creates_ok += 1
    if args.wait:
        deadline = began + args.available_timeout
        while True:
            try:
                status, body = client.call("GET", f"/v3/pods/{pod_id}")
            except Exception as exc:
                churn.error(error_kind("GetPod (poll)", exc=exc))
                status, body = 0, None
            if status == 200:
                state = body["result"]["status"]
                if state == "AVAILABLE":
                    with churn.lock:
                        churn.available_s.append(time.perf_counter() - began)
                    break
                if state in ("ERROR", "COMPLETE"):
                    churn.error(f"pod ended {state}")
                    break
            elif status:
                churn.error(error_kind("GetPod (poll)", status))
            if time.perf_counter() > deadline:
                with churn.lock:
                    churn.not_available += 1
                break
            time.sleep(args.poll)
    began = time.perf_counter()
    try:
        status, _ = client.call("DELETE", f"/v3/pods/{pod_id}")
    except Exception as exc:
        churn.error(error_kind("DeletePod", exc=exc))
        return
    with churn.lock:
        churn.delete_s.append(time.perf_counter() - began)
    if status != 200:
        churn.error(error_kind("DeletePod", status))


def churn_worker(port: int, token: str, churn: Churn, args: argparse.Namespace, end: float) -> None:
    client = Client(port, token)
    try:
        while time.perf_counter() < end:
            cycle(client, churn, args)
            with churn.lock:
                churn.cycles += 1
    finally:
        client.close()


# -- setup and convergence --------------------------------------------------------------------


def wait_available(client: Client, pod_id: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, body = client.call("GET", f"/v3/pods/{pod_id}")
        if status == 200 and body["result"]["status"] == "AVAILABLE":
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"stable pod {pod_id} not AVAILABLE: {status} {body}")
        time.sleep(0.1)


def listed_pods(clients: list[Client]) -> set[str]:
    """Every pod id the users can see (GET /v3/pods), failing on any error."""
    seen: set[str] = set()
    for client in clients:
        status, body = client.call("GET", "/v3/pods")
        if status != 200:
            raise RuntimeError(f"ListPods: {status} {body}")
        seen.update(pod["pod_id"] for pod in body["result"])
    return seen


def converge(
    stack: Stack, clients: list[Client], created: set[str], timeout: float, keep: int = 0
) -> tuple[float | None, int, int]:
    """Seconds until none of `created` is listed and only `keep` containers of the deployment
    are left (None if not within `timeout`), and the pods / containers left at the end."""
    began = time.monotonic()
    pods_left, containers_left = len(created), -1
    while time.monotonic() - began < timeout:
        try:
            pods_left = len(created & listed_pods(clients))
        except Exception:  # a loaded stack may fail a call; try again
            pods_left = len(created)
        containers_left = len(stack.containers()) - keep
        if pods_left == 0 and containers_left == 0:
            return time.monotonic() - began, 0, 0
        time.sleep(0.5)
    return None, pods_left, containers_left
