"""Small probes the fault scenarios share: a process's grpc.health.v1 status, and a load loop
that records every answer the gateway gives while a dependency is taken away."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.e2e.harness import Stack


def grpc_health(port: int, service: str = "") -> str:
    """SERVING, NOT_SERVING, ... of the process on `port`, or UNREACHABLE."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=3)
        except grpc.RpcError:
            return "UNREACHABLE"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def service_port(stack: Stack, name: str) -> int:
    return int(stack.env[f"PODS_{name.upper()}_PORT"])


@dataclass
class Answer:
    """One answer of the gateway during the load."""

    at: float
    operation: str
    status: int
    message: str


@dataclass
class Load:
    """GetPod of an existing pod and CreatePod of new ones in a loop, on a thread."""

    stack: Stack
    token: str
    read_pod: str
    create_every: float = 0.5
    answers: list[Answer] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # pod ids whose create answered 200
    attempted: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _call(self, operation: str, method: str, path: str, body: bytes | None = None) -> int:
        status, _, data = self.stack.request(method, path, body, token=self.token)
        message = str(data.get("message", "")) if isinstance(data, dict) else str(data)
        self.answers.append(Answer(time.monotonic(), operation, status, message))
        return status

    def _run(self) -> None:
        last_create = 0.0
        n = 0
        while not self._stop.is_set():
            self._call("get", "GET", f"/v3/pods/{self.read_pod}")
            if time.monotonic() - last_create >= self.create_every:
                last_create = time.monotonic()
                pod_id = f"load{n}"
                n += 1
                self.attempted.append(pod_id)
                body = json.dumps({"pod_id": pod_id, "image": "pods-http:latest"}).encode()
                if self._call("create", "POST", "/v3/pods", body) == 200:
                    self.created.append(pod_id)
            time.sleep(0.05)

    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    def since(self, moment: float) -> list[Answer]:
        return [a for a in self.answers if a.at >= moment]
